"""A sweep's table: one row per run and operation (tidy: one figure per column), what pandas, plotly and
spreadsheets take as they are."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wanstack.results.rows import column_name, operation_row
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure

if TYPE_CHECKING:
    import pandas as pd


def median_rtt_ms(infra: Infrastructure) -> float | None:
    """Median round trip from the top site (where the control plane is) to every other site it reaches:
    the x axis of the field's headline picture, boot latency against RTT."""
    top = infra.placement.top_site
    topo = infra.topology
    rtts = [
        topo.path_delay_ms(top, site) + topo.path_delay_ms(site, top)
        for site in infra.sites
        if site != top and topo.reachable(top, site)
    ]
    return statistics.median(rtts) if rtts else None


def rows(values: dict[str, Any], infra: Infrastructure, result: RunResult) -> list[dict[str, Any]]:
    """The table's rows for one run: one per operation of `result`, each with the swept fields' `values`
    (under their own names, dots made `_`: `links_delay_ms`; over any column of the same name), the
    run's seed, scenario, model, backends, quota modes, the scenario's median RTT from the top site (ms)
    and its WAN bytes in all, then the operation's figures."""
    modes = sorted({q.mode for q in result.quotas})
    swept = {column_name(field): value for field, value in values.items()}
    run = {
        **swept,
        "seed": result.seed,
        "scenario": result.scenario,
        "model": result.model,
        "rpc_backend": result.rpc_backend,
        "notification_backend": result.notification_backend,
        "quota_mode": ",".join(modes) or None,
        "rtt_ms": median_rtt_ms(infra),
        "wan_bytes_total": result.totals.get("wan_bytes"),
    }
    # The swept fields keep their own names, even where they match a column above (`model`).
    return [{**run, **operation_row(op), **swept} for op in result.operations]


def upgrade(row: dict[str, Any]) -> dict[str, Any]:
    """A row as this wanstack writes it, from a sweep journal an older one wrote (before issue 37):
    there the swept fields kept their dots (`links.delay_ms`) and each failure reason had a column."""
    return {column_name(k): v for k, v in row.items() if not k.startswith("failure_reasons.")}


def write_table(table: pd.DataFrame, out: Path) -> list[Path]:
    """The sweep's table as Parquet (typed, for pandas) and CSV (for spreadsheets) under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "sweep.parquet", out / "sweep.csv"]
    table.to_parquet(paths[0], index=False)
    table.to_csv(paths[1], index=False)
    return paths
