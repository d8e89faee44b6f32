"""The inventory of a real cloud (`multiregion.cloud_inventory`) as a table and a total: the columns of
the simulated inventory's (`report.tables.inventory_table`), per project, with clock times, and "?"
where no upper bound is known."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.table import Table

from wanstack.multiregion.cloud_inventory import CloudInventory, to_json, why_not_live
from wanstack.multiregion.inventory import Counts, Source
from wanstack.report.tables import inventory_columns


def _clock(epoch_s: float | None, with_date: bool = False) -> str:
    if epoch_s is None:
        return "–"
    moment = dt.datetime.fromtimestamp(epoch_s, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S")


def _interval(low: int, high: int | None) -> str:
    return f"{low}–{'?' if high is None else high}"


def cloud_inventory_table(result: CloudInventory) -> Table:
    inv = result.inventory
    table = Table(
        title=f"servers across every region at {_clock(inv.at_s, with_date=True)} "
        f"(each region given {result.deadline_s:g} s; answered in {result.elapsed_s:.1f} s)"
    )
    inventory_columns(table, ("region", "project", "site", "source"))
    for r in inv.rows:
        c, hi = r.counts, r.upper
        # A region not answering is one row for all its projects and sites ("*"); a live region with
        # no server, one row with none ("–").
        every = "–" if r.source is Source.LIVE else "*"
        project = result.project_names.get(r.project, r.project) if r.project else every
        source = r.source.value
        if r.source is not Source.LIVE:
            source += f" ({why_not_live(result, r)})"
        now = [
            str(getattr(c, name))
            if r.source is Source.LIVE and c is not None
            else _interval(getattr(r.low, name), None if hi is None else getattr(hi, name))
            for name in ("instances", "vcpus", "ram_mb")
        ]
        table.add_row(
            r.region,
            project,
            r.site or every,
            source,
            _clock(r.as_of_s),
            *("–" if c is None else str(getattr(c, name)) for name in ("instances", "vcpus", "ram_mb")),
            *now,
        )
    return table


def cloud_inventory_total(result: CloudInventory) -> str:
    """The total as numbers when every region answered now, else as intervals naming who did not."""
    inv = result.inventory
    low, high = inv.low, inv.high
    if inv.exact:
        return (
            f"{low.instances} instances, {low.vcpus} vCPUs, {low.ram_mb} MB of RAM; "
            f"every region answering ({len({r.region for r in inv.rows})})"
        )
    known = sum((r.counts for r in inv.rows if r.counts is not None), Counts())
    missing = [
        f"{r.region}/{r.site or '*'} ({why_not_live(result, r)})"
        for r in inv.rows
        if r.source is not Source.LIVE
    ]

    def between(name: str) -> str:
        top = "?" if high is None else str(getattr(high, name))
        return f"{getattr(low, name)} and {top}"

    return (
        f"between {between('instances')} instances ({known.instances} as last counted), "
        f"{between('vcpus')} vCPUs, {between('ram_mb')} MB of RAM; not answering now: " + ", ".join(missing)
    )


def cloud_inventory_json(result: CloudInventory) -> list[dict[str, Any]]:
    """Every row as a record, with why a region is not live (what `inventory --cloud --json` writes,
    and `wanstack.api.cloud.read_inventory` reads back)."""
    return to_json(result)
