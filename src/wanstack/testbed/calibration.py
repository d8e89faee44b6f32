"""The simulator's station times from the testbed: traced operations give the split between stations,
a calibration run gives the level (`sim.control_plane` says what each figure of the file means).

The fit: each station kind's mean own time per request over the traced critical paths
(`processing.service_times`), times one factor; the factor is the one with which the simulator, running
the calibration run's scenario, comes closest to the testbed's p50 of every operation of that run
(least squares of the log ratios: a 10 % error weighs the same on a 300 ms delete as on a 1.2 s boot).
At concurrency 1 an operation's p50 is close to linear in the factor, so two runs of the simulator place
each operation's line, the factor is chosen on the lines, and a last run checks it (and refines the lines
once if it is off by more than 1 %). The simulator is deterministic: the same inputs give the same file.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.workload import OperationKind
from wanstack.sim.control_plane import ControlPlaneCalibration, LevelPoint, StationTime, TraceSource
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sim.params import Params
from wanstack.testbed.processing import service_times
from wanstack.testbed.trace import Trace, analyse, operation_spans, spans

# The factors tried first: the traced times as they are, and half of them (traced runs were 1.5-2×
# slower than untraced ones on this machine, `benchmarks/testbed_processing.py`, 2026-12-04).
FIRST_FACTORS = (0.5, 1.0)


@dataclass(frozen=True)
class TracedSplit:
    """Per station kind: the own times (ms) of its requests on the traced critical paths, and which
    operations they were in."""

    samples: dict[str, list[float]]
    operations: dict[str, list[str]]

    @classmethod
    def of(cls, traces: Iterable[Trace]) -> TracedSplit:
        samples: dict[str, list[float]] = {}
        operations: dict[str, list[str]] = {}
        for trace in traces:
            for kind, values in service_times(trace.op, operation_spans(trace.op, trace.spans)).items():
                samples.setdefault(kind, []).extend(values)
                if trace.op not in operations.setdefault(kind, []):
                    operations[kind].append(trace.op)
        return cls(samples, operations)

    def mean_ms(self) -> dict[str, float]:
        return {kind: sum(v) / len(v) for kind, v in sorted(self.samples.items()) if v and sum(v) > 0}


def stored_trace(path: Path, site: str | None = None) -> Trace:
    """A trace saved by `wanstack testbed trace OP --save FILE` (osprofiler's points, each with its
    site); its operation is read from the file's name (`trace-OP-….json`) unless the points say."""
    events = json.loads(path.read_text(encoding="utf-8"))
    op = path.stem.split("-")[1] if path.stem.startswith("trace-") else path.stem
    found = spans([(e["site"], e) for e in events])
    where = site or next((s.site for s in found.values() if s.service == "nova-compute"), "")
    return analyse(op, where, found)


def level_of(result: RunResult) -> dict[str, float]:
    """The p50 (ms) of every operation of a testbed run that has one, as the service saw it (the run's
    `op (rally)` rows, Rally's view with its polling, are not what the simulator's stations do)."""
    kinds = {kind.value for kind in OperationKind}
    return {o.op: p50 for o in result.operations if o.op in kinds and (p50 := o.latency_ms.p50) is not None}


def _simulated(infra: Infrastructure, times: Mapping[str, float], ops: Sequence[str]) -> dict[str, float]:
    from wanstack.scenario.schema import StationSize

    params = Params().with_overrides({k: StationSize(service_ms=v) for k, v in times.items()})
    result = simulate(infra, SimOptions(params=params))
    out = {}
    for op in ops:
        found = result.operation(op)
        if found is None or found.latency_ms.p50 is None:
            raise ValueError(f"the simulator ran no {op} of {infra.scenario.name} to set beside the testbed")
        out[op] = found.latency_ms.p50
    return out


def _best_factor(lines: Mapping[str, tuple[float, float]], level: Mapping[str, float]) -> float:
    """The factor f minimising Σ log²((a + b·f) / p50) over the operations' lines (a, b): a golden-
    section search on [0.01, 20] (the sum is unimodal on it for lines with a, b ≥ 0)."""

    def cost(f: float) -> float:
        return sum(math.log(max(a + b * f, 1e-9) / level[op]) ** 2 for op, (a, b) in lines.items())

    low, high = 0.01, 20.0
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        x1, x2 = high - ratio * (high - low), low + ratio * (high - low)
        if cost(x1) <= cost(x2):
            high = x2
        else:
            low = x1
    return (low + high) / 2


def fit(
    infra: Infrastructure,
    traces: Sequence[tuple[Trace, str]],
    level: Mapping[str, float],
    *,
    level_source: str,
    date: str,
    settings: Mapping[str, str],
) -> ControlPlaneCalibration:
    """The control-plane calibration from `traces` (each with where it came from) and the testbed's p50s
    `level` of a run of `infra`'s scenario (`level_source`: its file, `date`: when it ran). Raises
    ValueError when the traces hold no station's time or the run shares no operation with the
    simulated scenario."""
    split = TracedSplit.of(trace for trace, _ in traces)
    traced = split.mean_ms()
    if not traced:
        raise ValueError("the traces hold no request of a station the simulator has (were they traced?)")
    ops = sorted(level)
    if not ops:
        raise ValueError("the calibration run has no operation with a p50")
    points = {f: _simulated(infra, {k: v * f for k, v in traced.items()}, ops) for f in FIRST_FACTORS}
    factor = 1.0
    for _ in range(2):
        (f1, s1), (f2, s2) = sorted(points.items())[:1] + sorted(points.items())[-1:]
        slopes = {op: (s2[op] - s1[op]) / (f2 - f1) for op in ops}
        lines = {op: (s1[op] - slopes[op] * f1, slopes[op]) for op in ops}
        factor = _best_factor(lines, level)
        points[factor] = check = _simulated(infra, {k: v * factor for k, v in traced.items()}, ops)
        predicted = {op: a + b * factor for op, (a, b) in lines.items()}
        if all(abs(check[op] / predicted[op] - 1) < 0.01 for op in ops):
            break
        points = {f: points[f] for f in sorted(points, key=lambda f: abs(f - factor))[:2]}
    delay = max((link.delay_ab_ms for link in infra.topology.links), default=0.0)
    simulated = points[factor]
    return ControlPlaneCalibration(
        date=date,
        host=platform.node(),
        cores=_cores(),
        settings=dict(settings),
        traces=[TraceSource(operation=t.op, site=t.site, source=source) for t, source in traces],
        level=[
            LevelPoint(operation=op, delay_ms=delay, testbed_p50_ms=level[op], simulated_p50_ms=simulated[op])
            for op in ops
        ],
        level_source=level_source,
        level_factor=factor,
        stations={
            kind: StationTime(
                service_ms=ms * factor,
                traced_ms=ms,
                requests=len(split.samples[kind]),
                operations=split.operations[kind],
            )
            for kind, ms in traced.items()
        },
    )


def _cores() -> int:
    import os

    return os.cpu_count() or 1
