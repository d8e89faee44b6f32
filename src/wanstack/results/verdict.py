"""The verdict of a comparison (`wanstack compare`): per run, what a user decides on — boot and delete
latencies, what still works under each fault at the sites it struck and elsewhere (in words, from the
run's own operations and fault times), WAN bytes per operation, the busiest station's headroom — the
runs ranked by the scenario's `sla:` (or by stated default criteria), with the Pareto front marked."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import Field

from wanstack.results.schema import FaultImpact, Outage, Record, RunResult

# What a fault's action is called in a sentence ("boots fail during the cut").
_DURING = {
    "cut-link": "the cut",
    "site-down": "the site's outage",
    "broker-down": "the brokers' outage",
    "agent-down": "the agents' outage",
}
SEEN_DOWN = (
    "Operations at a site a fault struck fail after it ends while the site's services are still seen down: "
    "nova-compute and the L2 agents count as down (service_down_time, agent_down_time after their last "
    "report) until they report again."
)
PARETO_AXES = ("boot p95", "delete p95", "WAN bytes/op", "failures under faults")
DEFAULT_ORDER = (
    "fewest failures under faults, then fewest operations held until a fault ended, then boot p95, "
    "then delete p95"
)
SLA_ORDER = "the scenario's sla: fewest criteria failed, then " + DEFAULT_ORDER


class FaultOutcome(Record):
    """One fault as one run lived it: the operations asked at the sites it struck and elsewhere from
    the fault until those sites served again (their services seen up after it ended), in words."""

    fault: str
    start_s: float
    end_s: float | None
    struck: list[str] = Field(description="The sites the fault cut off (or took down).")
    ok_there: int = 0
    waited_there: int = Field(default=0, description="Asked during the fault, done only after it ended.")
    failed_there: int = Field(default=0, description="Failed or timed out at the struck sites.")
    failed_after: int = Field(default=0, description="Of those, started after the fault had ended.")
    back_after_s: float | None = Field(
        default=None,
        description="After the fault ended, until the struck sites' services were seen up again "
        "(None: the fault or an outage lasted to the end of the run).",
    )
    ok_elsewhere: int = 0
    failed_elsewhere: int = 0
    there: str = Field(description="What worked at the struck sites, in words.")
    elsewhere: str = Field(description="What worked at the other sites, in words.")


class VerdictRow(Record):
    rank: int
    run: str = Field(description="The run's label, as `compare --out` names its folder.")
    model: str
    rpc_backend: str
    boot_p50_ms: float | None = None
    boot_p95_ms: float | None = None
    delete_p50_ms: float | None = None
    delete_p95_ms: float | None = None
    wan_bytes_per_op: float | None = Field(
        default=None, description="WAN bytes of the run but background traffic, per successful operation."
    )
    busiest_station: str = Field(default="–", description="kind @ site of the most utilised station.")
    headroom: float | None = Field(default=None, description="1 − the busiest station's utilisation.")
    failed_under_faults: int = 0
    waited_under_faults: int = Field(
        default=0, description="Operations asked at a struck site during a fault and done only after it."
    )
    faults: list[FaultOutcome] = Field(default_factory=list)
    sla_failed: int | None = Field(default=None, description="Criteria of `sla:` failed (None: no sla).")
    pareto: bool = Field(
        default=False,
        description="No other run is at least as good on boot p95, delete p95, WAN bytes/op and "
        "failures under faults, and better on one.",
    )


class Verdict(Record):
    ranked_by: str
    pareto_axes: list[str] = Field(default_factory=lambda: list(PARETO_AXES))
    same: dict[str, str] = Field(
        default_factory=dict, description="What every run shares (engine, scenario, seed, simulated time)."
    )
    rows: list[VerdictRow] = Field(default_factory=list, description="Best first.")
    notes: list[str] = Field(default_factory=list, description="What the rows' words take for granted.")


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """`a` is at least as good as `b` on every axis and better on one (every axis is minimised)."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def pareto_front(points: Sequence[Sequence[float]]) -> list[bool]:
    """For each point, whether no other point dominates it (quadratic: a comparison has few runs)."""
    return [not any(dominates(q, p) for q in points) for p in points]


def _worst(value: float | None) -> float:
    """A missing figure (nothing succeeded to time) ranks last."""
    return math.inf if value is None else value


@dataclass
class _Tally:
    """The operations asked at some sites from a fault until they served again."""

    ops: list[str] = field(default_factory=list)
    ok: int = 0  # done before the fault ended, or asked and done after it
    waited: int = 0  # asked during the fault, done only after it ended
    longest_wait_s: float = 0.0
    failed: int = 0  # failed or timed out
    failed_after: int = 0  # of which asked after the fault had ended

    def add(self, op: str, start_s: float, latency_ms: float, ok: bool, end_s: float) -> None:
        if op not in self.ops:
            self.ops.append(op)
        if not ok:
            self.failed += 1
            self.failed_after += start_s > end_s
        elif start_s <= end_s < start_s + latency_ms / 1000.0:
            self.waited += 1
            self.longest_wait_s = max(self.longest_wait_s, latency_ms / 1000.0)
        else:
            self.ok += 1

    @property
    def asked(self) -> int:
        return self.ok + self.waited + self.failed

    @property
    def what(self) -> str:
        return _plural(self.ops[0]) if len(self.ops) == 1 else "operations"


def _tallies(result: RunResult, fault: FaultImpact, struck: set[str], until: float) -> tuple[_Tally, _Tally]:
    """(at the struck sites, elsewhere): from the run's samples, or, for a result read back without
    them, the boots the fault's impact counted."""
    there, away = _Tally(), _Tally()
    end = math.inf if fault.end_s is None else fault.end_s
    samples = result.samples
    if samples is None or not len(samples):
        for counts, ok in ((fault.boots_ok, True), (fault.boots_failed, False)):
            for site, n in counts.items():
                for _ in range(n):
                    (there if site in struck else away).add("boot", fault.start_s, 0.0, ok, end)
        return there, away
    rows = zip(samples.op, samples.site, samples.start_s, samples.latency_ms, samples.outcome, strict=True)
    for op, site, start, latency, outcome in rows:
        if fault.start_s <= start <= until:
            (there if site in struck else away).add(op, start, latency, outcome == "ok", end)
    return there, away


def _plural(op: str) -> str:
    return op + ("es" if op.endswith(("sh", "ch", "s")) else "s")


def _seen_down(struck: list[str], outages: Sequence[Outage], end: float) -> str:
    """The services at the struck sites still seen down when the fault ended, and for how long."""
    late = [
        o
        for o in sorted(outages, key=lambda o: (o.up_at_s or math.inf, o.service))
        if o.site in struck and o.down_at_s <= end and (o.up_at_s is None or o.up_at_s > end)
    ]
    if not late:
        return ""
    names = [
        f"{o.service} ({'to the end' if o.up_at_s is None else f'{o.up_at_s - end:.0f} s'})" for o in late
    ]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    verb = "is" if len(names) == 1 else "are"
    return f", while {listed} {verb} still seen down there"


def _recovery(fault: FaultImpact, struck: list[str], outages: Sequence[Outage]) -> float | None:
    """When the struck sites served again (None: not by the end of the run): the fault's end, or later
    while a service there was still seen down (nova-compute until it reports again after the link
    returns: the servicegroup had seen no report for service_down_time)."""
    if fault.end_s is None:
        return None
    back = fault.end_s
    for o in outages:
        if o.site in struck and o.down_at_s <= fault.end_s:
            if o.up_at_s is None:
                return None
            back = max(back, o.up_at_s)
    return back


def _there(t: _Tally, where: str, during: str, after: str, seen_down: str) -> str:
    if not t.asked:
        return f"at {where} nothing was asked during {during}"
    parts = []
    if t.ok:
        parts.append(f"{t.ok} work")
    if t.waited:
        parts.append(
            f"{t.waited} wait{'s' if t.waited == 1 else ''} for {during} to end "
            f"(up to {t.longest_wait_s:.0f} s)"
        )
    if t.failed:
        tail = f" and {after}{seen_down}" if t.failed_after else ""
        parts.append(f"{t.failed} fail during {during}{tail}")
    return f"at {where} {t.what}: " + "; ".join(parts)


def fault_outcome(fault: FaultImpact, result: RunResult) -> FaultOutcome:
    """What worked under `fault` in `result`: the operations asked from the fault until the sites it
    struck served again, there and elsewhere, counted and said in words."""
    action, _, target = fault.fault.partition(" ")
    struck = (
        sorted({target, *fault.isolated_sites})
        if target and "–" not in target
        else list(fault.isolated_sites)
    )
    back = _recovery(fault, struck, result.outages)
    there, away = _tallies(result, fault, set(struck), result.duration_s if back is None else back)
    after_s = None if back is None or fault.end_s is None else back - fault.end_s
    after = "to the end of the run" if after_s is None else f"for {after_s:.0f} s after it"
    during = _DURING.get(action, "the fault")
    seen_down = "" if fault.end_s is None else _seen_down(struck, result.outages, fault.end_s)
    if not away.asked:
        elsewhere = f"elsewhere nothing was asked during {during}"
    else:
        elsewhere = f"elsewhere {away.what}: {away.ok + away.waited} of {away.asked} work"
    return FaultOutcome(
        fault=fault.fault,
        start_s=fault.start_s,
        end_s=fault.end_s,
        struck=struck,
        ok_there=there.ok,
        waited_there=there.waited,
        failed_there=there.failed,
        failed_after=there.failed_after,
        back_after_s=after_s,
        ok_elsewhere=away.ok + away.waited,
        failed_elsewhere=away.failed,
        there=_there(there, ", ".join(struck) or "the struck sites", during, after, seen_down),
        elsewhere=elsewhere,
    )


def _row(result: RunResult) -> VerdictRow:
    boot, delete = result.operation("boot"), result.operation("delete")
    succeeded = sum(o.succeeded for o in result.operations)
    if "wan_bytes" in result.totals:
        wan = result.totals["wan_bytes"] - result.totals.get("wan_bytes_background", 0.0)
    else:
        wan = sum((o.wan_bytes_per_op or 0.0) * o.succeeded for o in result.operations)
    top = max(result.stations, key=lambda s: s.utilisation, default=None)
    faults = [fault_outcome(f, result) for f in result.faults]
    return VerdictRow(
        rank=0,
        run="--".join(result.variant()),
        model=result.model,
        rpc_backend=result.rpc_backend,
        boot_p50_ms=boot.latency_ms.p50 if boot else None,
        boot_p95_ms=boot.latency_ms.p95 if boot else None,
        delete_p50_ms=delete.latency_ms.p50 if delete else None,
        delete_p95_ms=delete.latency_ms.p95 if delete else None,
        wan_bytes_per_op=wan / succeeded if succeeded else None,
        busiest_station="–" if top is None else f"{top.kind} @ {top.site}",
        headroom=None if top is None else 1.0 - top.utilisation,
        failed_under_faults=sum(f.failed_there + f.failed_elsewhere for f in faults),
        waited_under_faults=sum(f.waited_there for f in faults),
        faults=faults,
        sla_failed=sum(not c.passed for c in result.sla) if result.sla else None,
    )


def _same(results: Sequence[RunResult]) -> dict[str, str]:
    """The fields every run shares, worth saying once rather than in a column."""
    fields: dict[str, Callable[[RunResult], str]] = {
        "engine": lambda r: r.engine,
        "scenario": lambda r: r.scenario,
        "seed": lambda r: str(r.seed),
        "simulated": lambda r: f"{r.duration_s:,.0f} s",
    }
    out: dict[str, str] = {}
    for name, get in fields.items():
        values = {get(r) for r in results}
        if len(values) == 1:
            out[name] = values.pop()
    return out


def verdict(results: Sequence[RunResult]) -> Verdict:
    """The runs ranked (by `sla:` when any run has one, else by `DEFAULT_ORDER`), the Pareto front
    marked; ties keep the runs' order."""
    rows = [_row(r) for r in results]
    with_sla = any(r.sla for r in results)

    def key(row: VerdictRow) -> tuple[float, ...]:
        figures = (
            row.failed_under_faults,
            row.waited_under_faults,
            _worst(row.boot_p95_ms),
            _worst(row.delete_p95_ms),
        )
        return ((row.sla_failed or 0) if with_sla else 0, *figures)

    points = [
        (
            _worst(r.boot_p95_ms),
            _worst(r.delete_p95_ms),
            _worst(r.wan_bytes_per_op),
            float(r.failed_under_faults),
        )
        for r in rows
    ]
    for row, on_front in zip(rows, pareto_front(points), strict=True):
        row.pareto = on_front
    ranked = sorted(rows, key=key)
    for i, row in enumerate(ranked, start=1):
        row.rank = i
    notes = [SEEN_DOWN] if any(f.failed_after for r in rows for f in r.faults) else []
    return Verdict(
        ranked_by=SLA_ORDER if with_sla else DEFAULT_ORDER, same=_same(results), rows=ranked, notes=notes
    )
