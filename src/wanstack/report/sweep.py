"""A sweep's tidy table summed up per grid point and operation (`wanstack sweep`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd


def sweep_table(table: pd.DataFrame, params: list[str], title: str) -> Table:
    """Per point (`params`' values) and operation, each figure a mean over the point's runs (its
    seeds): the RTT from the top site to the others (what the page's x axis shows, whatever was
    swept: a link's one-way delay, a topology), the medians, the 95th percentiles, the failures."""
    view = Table(title=title)
    keys = [*params, "op"]
    for name in [*keys, "RTT (ms)", "p50 (ms)", "p95 (ms)", "failed/run"]:
        view.add_column(name, justify="left" if name in keys else "right")
    if table.empty:
        return view
    grouped = table.groupby(keys, sort=False, dropna=False).agg(
        rtt=("rtt_ms", "mean"), p50=("p50_ms", "mean"), p95=("p95_ms", "mean"), failed=("failed", "mean")
    )
    for index, row in grouped.iterrows():
        cells: list[Any] = list(index) if isinstance(index, tuple) else [index]
        figures = (_ms(row["rtt"]), _ms(row["p50"]), _ms(row["p95"]), f"{row['failed']:,.1f}")
        view.add_row(*(str(c) for c in cells), *figures)
    return view


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.1f}"  # NaN: no success to time
