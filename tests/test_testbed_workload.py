"""The testbed's workload runner (`testbed.workload.run_workload`) with a runner that records when
each iteration starts, in place of a testbed: how iterations are spread over time."""

from __future__ import annotations

import time
from typing import Any

import pytest

from wanstack.scenario.load import parse
from wanstack.scenario.workload import OperationKind
from wanstack.testbed.workload import Outcome, run_workload

pytestmark = pytest.mark.timing  # upper bounds on the gaps between iterations

SCENARIO = """
name: spread
generate: {kind: star, edges: 1, delay_ms: 0, hosts: {count: 1}, center_hosts: {count: 0}}
model: centralized
workload:
  operations:
    - {op: boot, times: 6, concurrency: 1, sites: [edge-1]}
run: {duration_s: 60, seed: SEED}
"""


class Recorder:
    def __init__(self) -> None:
        self.starts: list[float] = []

    def run(self, op: OperationKind, site: str, **_: Any) -> Outcome:
        self.starts.append(time.monotonic())
        return Outcome(op, site, api_ms=1.0, rally_ms=1.0)


def gaps(seed: int, spread_s: float) -> list[float]:
    infra = parse(SCENARIO.replace("SEED", str(seed)), "spread.yaml")
    recorder = Recorder()
    result = run_workload(infra, recorder, ["edge-1"], spread_s=spread_s)  # type: ignore[arg-type]
    boots = result.operation("boot")
    assert boots is not None and boots.succeeded == 6
    return [b - a for a, b in zip(recorder.starts, recorder.starts[1:], strict=False)]


def test_iterations_follow_each_other_without_a_spread() -> None:
    assert max(gaps(1, 0.0)) < 0.05


def test_a_spread_pauses_each_iteration_by_its_own_draw_in_the_period() -> None:
    """Pauses drawn in [0, 0.2 s): not all alike (each iteration its own phase), none longer."""
    seen = gaps(1, 0.2)
    assert all(0.0 <= g < 0.2 + 0.05 for g in seen), seen
    assert max(seen) - min(seen) > 0.02, seen
