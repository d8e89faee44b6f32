"""A sweep's tidy table summed up per grid point and operation (`wanstack sweep`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd


def sweep_table(table: pd.DataFrame, params: list[str], title: str) -> Table:
    """Per point (`params`' values) and operation: the medians' mean over seeds, the 95th percentiles'
    mean, the failures."""
    view = Table(title=title)
    keys = [*params, "op"]
    for name in [*keys, "p50 (ms)", "p95 (ms)", "failed"]:
        view.add_column(name, justify="left" if name in keys else "right")
    if table.empty:
        return view
    grouped = table.groupby(keys, sort=False, dropna=False).agg(
        p50=("p50_ms", "mean"), p95=("p95_ms", "mean"), failed=("failed", "sum")
    )
    for index, row in grouped.iterrows():
        cells: list[Any] = list(index) if isinstance(index, tuple) else [index]
        view.add_row(*(str(c) for c in cells), _ms(row["p50"]), _ms(row["p95"]), str(int(row["failed"])))
    return view


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.1f}"  # NaN: no success to time
