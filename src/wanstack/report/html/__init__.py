"""Results as self-contained HTML pages in one layout (plotly, its basic bundle inlined: each page is
one file that opens offline): `run_report` for one run (`wanstack run`, `bench`), `compare_report` for
several side by side (`compare`, `compare-results`), `sweep_report` for a sweep's table; `Verdict` is
the table a compare or sweep page leads with."""

from __future__ import annotations

from wanstack.report.html.page import Verdict
from wanstack.report.html.run import compare_files, compare_report, run_label, run_report
from wanstack.report.html.sweep import sweep_report

__all__ = ["Verdict", "compare_files", "compare_report", "run_label", "run_report", "sweep_report"]
