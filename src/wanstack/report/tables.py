"""Rich tables of run results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from rich.console import Group, RenderableType
from rich.table import Table

from wanstack.report.fit import Column, fitted
from wanstack.report.quantities import ms as _ms
from wanstack.report.quantities import nbytes as _bytes
from wanstack.results.schema import (
    FaultImpact,
    InventoryRow,
    LinkTraffic,
    OperationResult,
    RunResult,
    StationStats,
)
from wanstack.results.verdict import fault_outcome
from wanstack.words import count


def operations_table(result: RunResult, *, width: int | None = None) -> Table:
    """Each operation's outcomes and latency within `width` columns (None: all of them)."""
    ops = result.operations

    def figure(header: str, priority: int, cell: Callable[[OperationResult], str]) -> Column:
        return Column(header, [cell(op) for op in ops], priority, "right")

    columns = [
        Column("operation", [op.op for op in ops]),
        figure("submitted", 2, lambda op: str(op.submitted)),
        figure("ok", 0, lambda op: str(op.succeeded)),
        figure("failed", 0, lambda op: str(op.failed)),
        figure("timed out", 3, lambda op: str(op.timed_out)),
        figure("mean", 4, lambda op: _ms(op.latency_ms.mean)),
        figure("p50", 0, lambda op: _ms(op.latency_ms.p50)),
        figure("p95", 0, lambda op: _ms(op.latency_ms.p95)),
        figure("p99", 3, lambda op: _ms(op.latency_ms.p99)),
        figure("max", 4, lambda op: _ms(op.latency_ms.max)),
        figure("WAN bytes/op", 1, lambda op: _bytes(op.wan_bytes_per_op)),
    ]
    return fitted(columns, width=width, title="Operations (latency of successful ones)")


def stations_table(result: RunResult, limit: int = 12, *, width: int | None = None) -> Table:
    busiest = sorted(result.stations, key=lambda s: -s.utilisation)[:limit]

    def figure(header: str, priority: int, cell: Callable[[StationStats], str]) -> Column:
        return Column(header, [cell(s) for s in busiest], priority, "right")

    columns = [
        Column("station", [s.kind for s in busiest]),
        Column("site", [s.site for s in busiest]),
        figure("jobs", 3, lambda s: f"{s.jobs:,}"),
        figure("utilisation", 0, lambda s: f"{s.utilisation:.1%}"),
        figure("mean queue", 2, lambda s: "–" if s.mean_queue is None else f"{s.mean_queue:.2f}"),
        figure("max queue", 1, lambda s: "–" if s.max_queue is None else str(s.max_queue)),
        figure("connections", 4, lambda s: "" if s.connections is None else f"{s.connections:,}"),
    ]
    title = f"Busiest stations (top {len(busiest)} of {len(result.stations)})"
    return fitted(columns, width=width, title=title)


def links_table(result: RunResult, limit: int = 10, *, width: int | None = None) -> Table:
    links = sorted(result.links, key=lambda link: -(link.bytes_ab + link.bytes_ba))[:limit]

    def figure(header: str, priority: int, cell: Callable[[LinkTraffic], str]) -> Column:
        return Column(header, [cell(link) for link in links], priority, "right")

    columns = [
        Column("link", [f"{link.a}–{link.b}" for link in links]),
        figure("messages a→b / b→a", 3, lambda link: f"{link.messages_ab:,.0f} / {link.messages_ba:,.0f}"),
        figure("bytes a→b / b→a", 0, lambda link: f"{_bytes(link.bytes_ab)} / {_bytes(link.bytes_ba)}"),
        figure("of which bulk", 2, lambda link: _bytes(link.bulk_bytes_ab + link.bulk_bytes_ba)),
        figure("mean utilisation", 1, lambda link: f"{link.mean_utilisation:.2%}"),
    ]
    return fitted(columns, width=width, title=f"Busiest WAN links (top {len(links)} of {len(result.links)})")


def describe_fault(impact: FaultImpact, result: RunResult) -> str:
    """A fault, when, the sites it isolated, and what worked there and elsewhere (`fault_outcome`: an
    operation that waited for the fault to end did not work during it)."""
    end = "end of run" if impact.end_s is None else f"{impact.end_s:.0f} s"
    isolated = len(impact.isolated_sites)
    outcome = fault_outcome(impact, result)
    return (
        f"{impact.fault} ({impact.start_s:.0f} s → {end}): {isolated} site{'s' if isolated != 1 else ''} "
        f"isolated; {outcome.there}; {outcome.elsewhere}"
    )


def faults_table(result: RunResult) -> Table:
    table = Table(title="Faults and services seen down")
    table.add_column("event")
    for impact in result.faults:
        table.add_row(describe_fault(impact, result))
    for outage in result.outages:
        back = "still down at the end" if outage.up_at_s is None else f"back at {outage.up_at_s:.0f} s"
        table.add_row(
            f"{outage.service} at {outage.site} ({count(outage.hosts, 'host')}) "
            f"down at {outage.down_at_s:.0f} s, {back}"
        )
    return table


def run_summary(result: RunResult, *, width: int | None = None) -> RenderableType:
    """A run's head line and tables, each within `width` columns (None: every column)."""
    wall = result.wall_time_s or 0.0
    head = (
        f"[bold]{result.scenario}[/bold] — model {result.model}, RPC {result.rpc_backend}, notifications "
        f"{result.notification_backend}; {result.duration_s:.0f} s simulated in {wall:.2f} s "
        f"({result.events or 0:,} events), seed {result.seed}; WAN {_bytes(result.totals.get('wan_bytes'))} "
        f"of which background {_bytes(result.totals.get('wan_bytes_background'))}"
    )
    parts: list[RenderableType] = [
        head,
        operations_table(result, width=width),
        stations_table(result, width=width),
        links_table(result, width=width),
    ]
    if result.faults or result.outages:
        parts.append(faults_table(result))
    if result.sla:
        parts.append(sla_table(result))
    return Group(*parts)


def sla_table(result: RunResult) -> Table:
    """The scenario's `sla:` criteria against the run, as Rally prints its SLA section."""
    verdict = "passed" if result.sla_passed else "[bold red]FAILED[/bold red]"
    table = Table(title=f"SLA: {verdict}")
    for col in ("operation", "criterion", "limit", "measured", "result"):
        table.add_column(col, justify="right" if col in ("limit", "measured") else "left")
    for check in result.sla:
        pct = check.criterion.endswith("_pct")
        unit = " %" if pct else (" s" if check.criterion.endswith("_s") else "")
        table.add_row(
            check.op,
            check.criterion,
            "–" if check.limit is None else f"{check.limit:g}{unit}",
            "none succeeded" if check.value is None else f"{check.value:.{1 if pct else 3}f}{unit}",
            "pass" if check.passed else "[red]FAIL[/red]",
        )
    return table


def sla_verdict(r: RunResult) -> str:
    if not r.sla:
        return "–"
    failed = sum(not c.passed for c in r.sla)
    return "pass" if not failed else f"FAIL ({failed} of {len(r.sla)})"


def quota_verdict(r: RunResult) -> str:
    """The quotas of a run in a few words: its mode, refusals, and the most it went over a limit."""
    if not r.quotas:
        return "–"
    refused = sum(q.refused for q in r.quotas)
    claims = sum(q.claims for q in r.quotas)
    over = max(q.over_commit_peak for q in r.quotas)
    with_room = sum(q.refused_with_headroom for q in r.quotas)
    return f"{r.quotas[0].mode}: {refused}/{claims} refused ({with_room} with room), over by {over}"


def _in_words(r: RunResult) -> list[str]:
    """What worked under each of the run's faults, in the verdict's words (`results.verdict`)."""
    return [f"{o.fault}: {o.there}" for o in (fault_outcome(f, r) for f in r.faults)]


def compare_rows(results: Sequence[RunResult]) -> list[dict[str, str]]:
    """`compare`'s summary, one row per run (column -> text): the terminal's table and the top of the
    HTML page show these same rows."""
    quotas = any(r.quotas for r in results)
    sla = any(r.sla for r in results)
    rows = []
    for r in results:
        boot = r.operation("boot")
        lat = boot.latency_ms if boot else None
        brokers = [s for s in r.stations if s.kind in ("rpc-broker", "router")]
        top = max(brokers, key=lambda s: s.utilisation, default=None)
        row = {"model": r.model, "RPC": r.rpc_backend}
        if quotas:
            row["quotas"] = quota_verdict(r)
        row |= {
            "boot p50": _ms(lat.p50 if lat else None),
            "boot p95": _ms(lat.p95 if lat else None),
            "boots ok": f"{boot.succeeded}/{boot.submitted}" if boot else "–",
            "WAN/boot": _bytes(boot.wan_bytes_per_op if boot else None),
            "busiest broker": "–" if top is None else f"{top.utilisation:.1%} ({top.kind} @ {top.site})",
            "under faults": "; ".join(_in_words(r)) or "no faults",
        }
        if sla:
            row["SLA"] = sla_verdict(r)
        rows.append(row)
    return rows


def compare_table(results: Sequence[RunResult], title: str, *, width: int | None = None) -> Table:
    """`compare_rows` side by side (what each run is, boots, latency, WAN, busiest broker, quotas, SLA),
    within `width` columns (None: all of them); what works under the faults is the verdict's table."""
    rows = compare_rows(results)
    shown = set(rows[0]) if rows else set()

    def column(
        header: str, priority: int = 0, justify: Literal["left", "right"] = "left", **how: bool
    ) -> Column:
        return Column(header, [row[header] for row in rows], priority, justify, **how)

    columns = [
        column("model"),
        column("RPC", 1, once=True),
        *([column("quotas", 3, words=True)] if "quotas" in shown else []),
        column("boots ok", justify="right"),
        column("boot p95", 1, "right"),
        *([column("SLA", 1)] if "SLA" in shown else []),
        column("WAN/boot", 2, "right"),
        column("boot p50", 3, "right"),
        column("busiest broker", 4),
    ]
    return fitted(columns, width=width, title=title)


# An inventory row's counts: as of when they were true, then what each may be now.
INVENTORY_COUNTS = ("as of", "instances", "vCPUs", "RAM MB", "instances now", "vCPUs now", "RAM MB now")


def inventory_columns(table: Table, names: tuple[str, ...]) -> None:
    """The columns naming a row (`names`, left) and its counts (right)."""
    for col in names:
        table.add_column(col)
    for col in INVENTORY_COUNTS:
        table.add_column(col, justify="right")


def inventory_table(rows: Sequence[InventoryRow], at_s: float, *, width: int | None = None) -> Table:
    """Every site's servers as the global view saw them: live, last known (as of when), or never
    answered; what each may be now as an interval; within `width` columns (None: all of them)."""

    def known(value: int | None) -> str:
        return "–" if value is None else str(value)

    def now(r: InventoryRow, what: str) -> str:
        low, high = getattr(r, f"{what}_low"), getattr(r, f"{what}_high")
        return str(getattr(r, what)) if r.source == "live" else f"{low}–{high}"

    columns = [
        Column("region", [r.region for r in rows], 2, once=True),
        Column("site", [r.site for r in rows]),
        Column("source", [r.source for r in rows]),
        Column("as of", ["–" if r.as_of_s is None else f"{r.as_of_s:,.0f} s" for r in rows], 1, "right"),
        Column("instances", [known(r.instances) for r in rows], 3, "right"),
        Column("vCPUs", [known(r.vcpus) for r in rows], 5, "right"),
        Column("RAM MB", [known(r.ram_mb) for r in rows], 5, "right"),
        Column(
            "instances now",
            [now(r, "instances") for r in rows],
            0,
            "right",
        ),
        Column("vCPUs now", [now(r, "vcpus") for r in rows], 4, "right"),
        Column("RAM MB now", [now(r, "ram_mb") for r in rows], 4, "right"),
    ]
    return fitted(columns, width=width, title=f"servers across every region at {at_s:,.0f} s")


def inventory_total(rows: Sequence[InventoryRow]) -> str:
    """The total as a number when every site answered now, else as an interval saying who did not."""
    low = sum(r.instances_low for r in rows)
    high = sum(r.instances_high for r in rows)
    missing = [f"{r.site} ({r.source})" for r in rows if r.source != "live"]
    if not missing:
        return f"{low} instances, every site answering"
    known = sum(r.instances or 0 for r in rows)
    return f"between {low} and {high} instances ({known} as last counted); not answering now: " + ", ".join(
        missing
    )
