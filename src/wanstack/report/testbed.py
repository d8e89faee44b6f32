"""The testbed's views: how it started, its services, and an operation traced through them
(`wanstack testbed up`, `status`, `trace`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from wanstack.testbed.control import ServiceStatus
    from wanstack.testbed.trace import Trace

# The state each operation's client waits for: where the trace's critical path ends.
WAITED = {"boot": "ACTIVE", "delete": "DELETED", "pause": "PAUSED", "unpause": "ACTIVE"}


def up_tables(found: Mapping[str, Any]) -> list[Table]:
    """A started testbed (its state): how long each phase took, and each site's address and APIs as
    the site reaches them."""
    phases = Table(
        title=f"testbed up: {found['model']}, ready in {found['ready_s']:.0f} s", title_justify="left"
    )
    for col in ("phase", "seconds"):
        phases.add_column(col, justify="left" if col == "phase" else "right")
    for phase, seconds in found["phases_s"].items():
        phases.add_row(phase, f"{seconds:.1f}")
    sites = Table(title="sites (each API as the site reaches it)", title_justify="left")
    sites.add_column("site")
    sites.add_column("address")
    sites.add_column("keystone")
    sites.add_column("nova-api")
    for site, ip in found["sites"].items():
        api = found["apis"][site]
        sites.add_row(site, ip, api["keystone"], api["nova-api"])
    return [phases, sites]


def status_table(found: Mapping[str, Any], services: Sequence[ServiceStatus]) -> Table:
    """Each service of the testbed `found`, its site and state."""
    table = Table(title=f"testbed: {found['model']}, sites {', '.join(found['sites'])}", title_justify="left")
    for col in ("service", "site", "state"):
        table.add_column(col)
    for s in services:
        table.add_row(s.name, s.site, s.state)
    return table


def trace_tables(trace: Trace, model: str) -> tuple[Table, Table]:
    """An operation traced on the testbed (of deployment `model`): its REST calls and RPCs grouped by
    kind, sites and what, with their one-way WAN crossings and those on the critical path; and the SQL
    statements per service and site."""
    # The crossings each exchange on the critical path counts there (its request only when the state
    # is written inside it).
    on_path = {(e.kind, e.src, e.dst, e.what, e.start): e.one_way for e in trace.critical or []}
    grouped: dict[tuple[str, str, str, str], list[int]] = {}
    for e in trace.exchanges:
        row = grouped.setdefault((e.kind, e.src, e.dst, e.what), [0, 0, 0])
        row[0] += 1
        row[1] += e.one_way
        row[2] += on_path.get((e.kind, e.src, e.dst, e.what, e.start), 0)
    waited = WAITED[trace.op]
    critical = (
        f"{trace.critical_crossings} on the critical path until {waited} was written"
        if trace.critical_crossings is not None
        else f"the trace does not hold the write of {waited}: no critical path"
    )
    table = Table(
        title=f"{trace.op} at {trace.site} on the testbed ({model}): {len(trace.exchanges)} REST calls "
        f"and RPCs traced, {trace.crossings} one-way WAN crossings in all, {critical}",
        title_justify="left",
    )
    for col in ("exchange", "sites", "what", "times", "crossings", "on the path"):
        table.add_column(col, justify="left" if col in ("exchange", "sites", "what") else "right")
    for (kind, src, dst, what), (times, crossings, path) in grouped.items():
        sites = f"{src} → {dst}" if src != dst else src
        table.add_row(kind, sites, what[:80], str(times), str(crossings), str(path))
    table.caption = once_per_process_note(trace)
    queries = Table(title="SQL statements, per service and site", title_justify="left")
    queries.add_column("service@site")
    queries.add_column("statements", justify="right")
    for who, n in sorted(trace.queries.items()):
        queries.add_row(who, str(n))
    return table, queries


def once_per_process_note(trace: Trace) -> str | None:
    """Why the traced critical path crosses more than the simulator counts, when it does: the exchanges
    on it that a process makes once (its first token, a cache's first fill), which the simulator's
    workflows leave out as the steady state; None when there are none."""
    cold = trace.once_per_process
    if not cold:
        return None
    lines = [
        f"{sum(e.one_way for e, _ in cold)} of the critical path's crossings are "
        f"exchanges a process makes once, left out by the simulator (steady state: "
        f"{trace.steady_crossings} crossings):"
    ]
    seen: dict[str, list[int]] = {}
    for e, _ in cold:
        seen.setdefault(e.what, []).append(e.one_way)
    for what, crossings in seen.items():
        why = next(w for e, w in cold if e.what == what)
        lines.append(f"  {what} ×{len(crossings)} ({sum(crossings)}): {why}")
    return "\n".join(lines)
