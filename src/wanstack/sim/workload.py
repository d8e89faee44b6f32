"""The scenario's workload, sent to the simulated control plane as Rally would: closed loops of
`times` operations `concurrency` at a time, or Poisson arrivals at `rate_per_s`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from wanstack.scenario.workload import Operation as OperationSpec
from wanstack.scenario.workload import OperationKind
from wanstack.sim.inventory import Inventory
from wanstack.sim.kernel import Simulator
from wanstack.sim.operation import Operation
from wanstack.sim.operations import Runner

# Operations on an existing server: without `sites`, each acts on the oldest server in the state it
# needs, wherever it is, as Rally's scenarios act on the servers they booted.
ACTS_ON_A_SERVER = frozenset(
    {OperationKind.DELETE, OperationKind.PAUSE, OperationKind.UNPAUSE, OperationKind.LIVE_MIGRATE}
)


@dataclass(kw_only=True)
class Users:
    """Starts the workload's operations (on `runner`) and keeps what became of them."""

    sim: Simulator
    runner: Runner
    inventory: Inventory
    finished: list[Operation] = field(default_factory=list)
    submitted: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0

    def start(self, specs: list[OperationSpec]) -> None:
        for spec in specs:
            if spec.times is not None:
                self._start_closed(spec)
            else:
                self._start_open(spec)

    def _targets(self, spec: OperationSpec) -> list[str]:
        if spec.sites:
            return list(spec.sites)
        if spec.op in ACTS_ON_A_SERVER:
            return [""]  # the servers the workload booted, wherever they are (`Runner._prepare`)
        return [name for name, count in self.inventory.hosts.items() if count > 0]

    def _start_closed(self, spec: OperationSpec) -> None:
        """Rally's constant runner: `times` operations, `concurrency` at a time."""
        sites = self._targets(spec)
        state = {"next": 0}

        def launch(_: object = None) -> None:
            i = state["next"]
            if i >= (spec.times or 0):
                return
            state["next"] = i + 1
            self._launch(spec, sites[i % len(sites)], launch)

        for _ in range(min(spec.concurrency, spec.times or 0)):
            self.sim.at(spec.start_s * 1000.0, launch)

    def _start_open(self, spec: OperationSpec) -> None:
        """Poisson arrivals at `rate_per_s` from `start_s` to the end of the run."""
        sites = self._targets(spec)
        rng = self.sim.stream(f"arrivals:{spec.op.value}:{spec.start_s}:{spec.rate_per_s}")
        rate = (spec.rate_per_s or 0.0) / 1000.0
        state = {"n": 0}

        def arrive(_: object = None) -> None:
            self._launch(spec, sites[state["n"] % len(sites)], None)
            state["n"] += 1
            self.sim.after(rng.expovariate(rate), arrive)

        self.sim.at(spec.start_s * 1000.0 + rng.expovariate(rate), arrive)

    def _launch(self, spec: OperationSpec, site: str, then: Callable[[object], None] | None) -> None:
        self.submitted[spec.op.value] = self.submitted.get(spec.op.value, 0) + 1
        self.in_flight += 1

        def done(op: Operation) -> None:
            self.in_flight -= 1
            self.finished.append(op)
            if then is not None:
                then(None)

        self.runner.start(spec.op, site, spec, done)
