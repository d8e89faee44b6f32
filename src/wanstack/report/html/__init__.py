"""Results as self-contained HTML pages (plotly, plotly.js inlined: they open offline, from a file):
`run_report` for one run (`wanstack run`, `bench`), `compare_report` for several side by side
(`compare`, `compare-results`), `sweep_report` for a sweep's table."""

from __future__ import annotations

from wanstack.report.html.run import compare_files, compare_report, run_label, run_report
from wanstack.report.html.sweep import sweep_report

__all__ = ["compare_files", "compare_report", "run_label", "run_report", "sweep_report"]
