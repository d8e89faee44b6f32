"""An operation replayed for real beside the simulator's prediction, as a table (`wanstack replay`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from wanstack.report.side_by_side import relative
from wanstack.results.stats import latency_stats

if TYPE_CHECKING:
    from wanstack.bench.replay import ReplayResult


def _ms(value: float | None) -> str:
    """A latency, or n/a when there is none (every operation failed)."""
    return "n/a" if value is None else f"{value:.1f} ms"


def replay_table(op: str, site: str, model: str, real: ReplayResult, predicted: Sequence[float]) -> Table:
    """p50, p95 and mean of the real replay (`bench`) and of the simulator (`sim`), the simulator's
    error relative to the bench, the successes and failures."""
    table = Table(title=f"{op} at {site}: replayed for real vs simulated ({model})")
    for col in ("", "bench", "sim", "error"):
        table.add_column(col, justify="right" if col else "left")
    a, b = latency_stats(predicted), latency_stats(real.latencies_ms)
    for name in ("p50", "p95", "mean"):
        x, y = getattr(a, name), getattr(b, name)
        table.add_row(name, _ms(y), _ms(x), relative(x, y))
    table.add_row("ok", str(len(real.latencies_ms)), str(len(predicted)), "")
    if real.failures:
        table.add_row("failures", str(real.failures), "", "")
    return table
