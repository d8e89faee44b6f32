"""A migration plan run inside the simulator: every move as pre-copy rounds of bulk flows.

The flows share the backbone max-min fairly with everything else bulk — image downloads of the
workload's boots, other migrations (`flows.FlowNetwork`) — so a plan slows boots and boots slow the
plan. Each round sends what the guest dirtied during the previous one, at the rate the round really
got; QEMU switches over once the rest fits in Nova's allowed downtime at that rate (`migration.cost`
holds the same rules in closed form). Moves start as the plan's schedule does (`migration.schedule`):
in the plan's order, when a lane of their route and their source host are free, so a slower network
delays later moves instead of piling them up. Control messages that cross a link direction the flows
fill wait behind their standing queue (`Params.bulk_queue_ms`, `network.Network.bulk_full`), so a plan
slows the control plane too.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from wanstack.migration.cost import COLD_BOOT_S, DEVICE_STATE_BYTES, MB, Strategy
from wanstack.migration.fleet import Vm
from wanstack.migration.planner import Move, Plan
from wanstack.migration.settings import MigrationSettings
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.sim.engine import Engine, SimOptions
from wanstack.sim.flows import FlowNetwork
from wanstack.sim.kernel import Simulator
from wanstack.topology import Topology

TAG = "migration"


@dataclass
class SimulatedMove:
    """How one move of a plan went: the VM, its source and destination sites, its start and end (simulated s),
    the guest's downtime (ms), the bytes it sent between the sites, the pre-copy rounds of memory it took, how
    it ended, and the planner's estimate of its total time (s) to compare with."""

    vm: str
    src: str
    dst: str
    start_s: float = math.nan
    end_s: float = math.nan
    downtime_ms: float = 0.0
    wan_bytes: float = 0.0
    rounds: int = 0
    outcome: str = "pending"  # "moved", "aborted", "failed", "pending" (the run ended first)
    planned_total_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class _Live:
    move: Move
    vm: Vm
    result: SimulatedMove
    started_ms: float
    round_started_ms: float = 0.0
    round_bytes: float = 0.0
    throttle: float = 0.0
    rate: float = 0.0  # bytes/s the last round got
    rtt_ms: float = 0.0
    # The migration's one connection (QEMU's migration stream) has been through slow start: its later
    # rounds follow back to back, the window open (an idle connection would restart: RFC 5681 §4.1).
    warm: bool = False


@dataclass
class MigrationRun:
    """Runs `plan` from `start_ms` on a simulator's bulk flows over `topology`; `results` fills in as
    moves end."""

    sim: Simulator
    flows: FlowNetwork
    topology: Topology
    plan: Plan
    vms: dict[str, Vm]
    settings: MigrationSettings = field(default_factory=MigrationSettings)
    start_ms: float = 0.0
    results: dict[str, SimulatedMove] = field(default_factory=dict)

    def start(self) -> None:
        self._queues: dict[tuple[str, str], deque[Move]] = defaultdict(deque)
        for m in sorted(self.plan.moves, key=lambda m: (m.start_s, m.vm)):
            self._queues[m.src, m.dst].append(m)
            self.results[m.vm] = SimulatedMove(m.vm, m.src, m.dst, planned_total_s=m.cost.total_s)
        self._free_lanes = {k: self.plan.routes[k].lanes for k in self._queues}
        self._host_busy: set[tuple[str, int]] = set()
        self.sim.after(self.start_ms, self._dispatch, None)

    @property
    def done(self) -> bool:
        return all(r.outcome != "pending" for r in self.results.values())

    # --- dispatch: lanes and hosts, in the plan's order ------------------------------------------
    def _dispatch(self, _: Any = None) -> None:
        for key in sorted(self._queues):
            queue = self._queues[key]
            skipped: list[Move] = []
            while queue and self._free_lanes[key] > 0:
                move = queue.popleft()
                if (move.src, move.host) in self._host_busy:
                    skipped.append(move)
                    continue
                self._free_lanes[key] -= 1
                self._host_busy.add((move.src, move.host))
                self._begin(move)
            queue.extendleft(reversed(skipped))

    def _release(self, live: _Live) -> None:
        m = live.move
        self._free_lanes[m.src, m.dst] += 1
        self._host_busy.discard((m.src, m.host))
        self._dispatch()

    # --- one move --------------------------------------------------------------------------------
    def _begin(self, move: Move) -> None:
        sim = self.sim
        vm = self.vms[move.vm]
        result = self.results[move.vm]
        result.start_s = sim.now / 1000.0
        live = _Live(move, vm, result, sim.now)
        topo = self.topology
        rtt = topo.path_delay_ms(move.src, move.dst) + topo.path_delay_ms(move.dst, move.src)
        live.rate = self.plan.routes[move.src, move.dst].lane.usable_bytes_per_s(self.settings)
        live.rtt_ms = rtt
        if move.cost.strategy is Strategy.COLD:
            # Stopped, disk copied (unless shared), booted: down throughout.
            self._flow(live, vm.guest.disk_to_copy, self._cold_copied, push=False)
            return
        # Connection and migration handshake: one round trip each way.
        sim.after(2 * rtt, self._start_disk, live)

    def _flow(self, live: _Live, nbytes: float, then: Any, *, push: bool = True) -> None:
        live.round_started_ms = self.sim.now
        live.round_bytes = nbytes
        live.result.wan_bytes += nbytes
        if nbytes <= 0:
            self.sim.after(0.0, then, live)
            return
        cap = (
            self.settings.bandwidth_mbps * 1024 * 1024 * 8 / 1e6 if self.settings.bandwidth_mbps else math.inf
        )
        m = live.move
        flows = self.flows
        # QEMU streams the rounds back to back on one connection, measuring its rate as it sends: a
        # round is over for it when its last byte is sent, not when that byte lands (`push`); a cold
        # move's disk is copied as a download.
        flows.start(
            m.src, m.dst, nbytes, then, self._cut, arg=live, tag=TAG, cap_mbps=cap, warm=live.warm, push=push
        )
        live.warm = True

    def _round_rate(self, live: _Live) -> float:
        elapsed = (self.sim.now - live.round_started_ms) / 1000.0
        if elapsed > 0 and live.round_bytes > 0:
            live.rate = live.round_bytes / elapsed
        return live.rate

    def _start_disk(self, live: _Live) -> None:
        disk = live.vm.guest.disk_to_copy
        if not disk:
            self._memory_round_start(live, live.vm.guest.memory_mb * MB)
            return
        self._flow(live, disk, self._disk_copied)

    def _disk_copied(self, live: _Live) -> None:
        # Writes made while the disk was mirrored were sent alongside: one more pass of them.
        seconds = (self.sim.now - live.round_started_ms) / 1000.0
        writes = live.vm.guest.disk_write_mbps * MB * seconds
        self._flow(live, writes, self._disk_caught_up)

    def _disk_caught_up(self, live: _Live) -> None:
        self._memory_round_start(live, live.vm.guest.memory_mb * MB)

    def _memory_round_start(self, live: _Live, pending: float) -> None:
        s = self.settings
        g = live.vm.guest
        elapsed = (self.sim.now - live.started_ms) / 1000.0
        data = s.data_bytes(g.memory_mb * MB, g.disk_to_copy)
        allowed = s.allowed_downtime_ms(elapsed, data) / 1000.0
        if pending <= live.rate * allowed or live.result.rounds >= s.max_rounds:
            self._stop_and_copy(live, pending)
            return
        if elapsed > s.completion_timeout_s(data):
            self._timed_out(live)
            return
        self._flow(live, pending, self._memory_round_done)

    def _memory_round_done(self, live: _Live) -> None:
        s = self.settings
        g = live.vm.guest
        rate = self._round_rate(live)
        duration = live.round_bytes / rate if rate > 0 else 0.0
        live.result.rounds += 1
        dirtied = min(g.dirty_cap, g.dirty_rate_mbps * MB * (1 - live.throttle) * duration)
        if s.permit_auto_converge and dirtied > s.throttle_trigger * live.round_bytes:
            live.throttle = (
                s.throttle_initial
                if live.throttle == 0
                else min(s.throttle_max, live.throttle + s.throttle_increment)
            )
        self._memory_round_start(live, dirtied)

    def _timed_out(self, live: _Live) -> None:
        s = self.settings
        if s.timeout_action == "abort":
            self._finish(live, "aborted", 0.0)
            return
        if s.permit_post_copy:
            self._flow(live, DEVICE_STATE_BYTES, self._after_round_trip(self._post_copy_paused))
            return
        self._stop_and_copy(live, live.vm.guest.dirty_cap)

    def _post_copy_paused(self, live: _Live) -> None:
        pause_ms = self.sim.now - live.round_started_ms + self.settings.resume_ms
        live.result.downtime_ms = pause_ms
        self._flow(live, live.vm.guest.dirty_cap, self._post_copy_pulled)

    def _post_copy_pulled(self, live: _Live) -> None:
        self._finish(live, "moved", live.result.downtime_ms)

    def _stop_and_copy(self, live: _Live, rest: float) -> None:
        live.round_started_ms = self.sim.now
        if rest <= 0:
            # Nothing left to send: the switch-over still takes its round trip.
            self.sim.after(live.rtt_ms, self._switched_over, live)
            return
        self._flow(live, rest, self._after_round_trip(self._switched_over))

    def _after_round_trip(self, then: Callable[[_Live], None]) -> Callable[[_Live], None]:
        """`then` one RTT after the sender's last byte: it lands, the destination resumes and says so
        (the round trip of `migration.cost._pause_s`)."""
        return lambda live: self.sim.after(live.rtt_ms, then, live)

    def _switched_over(self, live: _Live) -> None:
        paused = self.sim.now - live.round_started_ms + self.settings.resume_ms
        self._finish(live, "moved", paused)

    def _cold_copied(self, live: _Live) -> None:
        def booted(_: Any) -> None:
            self._finish(live, "moved", self.sim.now - live.started_ms)

        self.sim.after(COLD_BOOT_S * 1000.0, booted, None)

    def _cut(self, live: _Live) -> None:
        self._finish(live, "failed", 0.0)

    def _finish(self, live: _Live, outcome: str, downtime_ms: float) -> None:
        r = live.result
        r.end_s = self.sim.now / 1000.0
        r.outcome = outcome
        r.downtime_ms = downtime_ms
        self._release(live)


# How far a plan's simulated makespan may exceed the planned one before the plan is said not to hold:
# the planner's moves are each costed alone on their lane (`routes`), the simulator's share links
# with the workload and see its jitter, so a few percent apart is the model, not the plan.
PLAN_SLACK = 0.2


@dataclass
class PlanRun:
    """A migration plan's simulated run: every move, the engine's results of the run it shared, and optionally
    those of the same run without the plan."""

    moves: list[SimulatedMove]
    result: RunResult  # the engine's own results: the workload's operations, links, stations
    baseline: RunResult | None = None  # the same run without the plan

    @property
    def makespan_s(self) -> float:
        ended = [m.end_s for m in self.moves if m.outcome != "pending"]
        return max(ended, default=0.0)

    @property
    def moved(self) -> list[SimulatedMove]:
        return [m for m in self.moves if m.outcome == "moved"]

    def problems(self, planned_makespan_s: float, slack: float = PLAN_SLACK) -> list[str]:
        """Where the simulation does not bear the plan out, in words (empty when it does): moves that
        failed, were aborted or had not finished when the run ended, and a simulated makespan more
        than `slack` over the planned one (a move still pending counts as not finished)."""
        counts: dict[str, int] = {}
        for m in self.moves:
            counts[m.outcome] = counts.get(m.outcome, 0) + 1
        found = [
            f"{counts[outcome]:,} of {len(self.moves):,} moves {words} in the simulation"
            for outcome, words in (
                ("failed", "failed (a link on their route was cut, or a site lost)"),
                ("aborted", "were aborted (pre-copy did not converge)"),
                ("pending", "had not finished when the run ended"),
            )
            if counts.get(outcome)
        ]
        if planned_makespan_s > 0 and self.makespan_s > (1 + slack) * planned_makespan_s:
            over = self.makespan_s / planned_makespan_s - 1
            found.append(
                f"the simulated makespan, {self.makespan_s / 60:,.1f} min, is {over:.0%} over the planned "
                f"{planned_makespan_s / 60:,.1f} min (more than {slack:.0%})"
            )
        return found


def simulate_plan(
    infra: Infrastructure,
    plan: Plan,
    vms: dict[str, Vm],
    *,
    settings: MigrationSettings | None = None,
    options: SimOptions | None = None,
    workload: bool = True,
    duration_s: float | None = None,
    baseline: bool = False,
) -> PlanRun:
    """Run `plan` from t = 0 alongside the scenario's workload (`workload`=False: alone, no background
    either) for `duration_s` (default: the scenario's run, at least 3 × the planned makespan + 2 min,
    so that a slowed plan still ends inside the run). `baseline`: also run the same without the plan,
    to see what the plan does to the workload."""
    scenario = infra.scenario
    if duration_s is None:
        duration_s = max(scenario.run.duration_s, 3 * plan.makespan_s + 120.0)
    scenario = scenario.model_copy(update={"run": scenario.run.model_copy(update={"duration_s": duration_s})})
    options = options or SimOptions()
    if not workload:
        scenario = scenario.model_copy(
            update={"workload": scenario.workload.model_copy(update={"operations": []})}
        )
        options = replace(options, background=False)
    infra = replace(infra, scenario=scenario)
    engine = Engine(infra, options)
    run = MigrationRun(engine.sim, engine.flows, infra.topology, plan, vms, settings or MigrationSettings())
    run.start()
    result = engine.run()
    without = Engine(infra, options).run() if baseline else None
    return PlanRun(list(run.results.values()), result, without)
