"""Real traffic on this machine, from Python: the scenario's messaging test cases on real brokers
(`bench`), an operation's workflow replayed as real exchanges beside the simulator's prediction
(`replay`), and the measurements that calibrate the simulator (`calibrate`, `refit`). What
`wanstack bench`, `replay` and `calibrate` do. Each needs the bench extra and Debian's rabbitmq-server
(`rabbitmq_available`), except `bench(simulate=True)` and `refit`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wanstack.api.simulation import sim_options
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.workload import OperationKind

if TYPE_CHECKING:
    from wanstack.bench.replay import ReplayResult
    from wanstack.sim.calibration import Calibration


def rabbitmq_available() -> bool:
    """Whether Debian's rabbitmq-server is installed here (the real bench starts its own nodes)."""
    from wanstack.lab import rabbit

    return rabbit.available()


def bench(
    infra: Infrastructure,
    messages: int = 20,
    *,
    simulate: bool = False,
    calibration: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """The scenario's messaging test cases (ombt's TC1–TC3 and notifications), `messages` per client
    and case, run for real on the deployment model's buses across emulated WAN links (`progress` is
    told each case's name), or with `simulate` in the simulator (with `calibration`'s measured costs
    and its bench-host plug-in). The result carries the scenario's `sla:` verdicts. Raises ValueError
    for a topology one machine cannot bench, CalibrationError for an unusable calibration."""
    from wanstack.bench.scenario_bench import scenario_cases
    from wanstack.results.sla import with_sla

    cases = scenario_cases(infra, messages)
    if simulate:
        from wanstack.sim.cases import simulate_cases

        result = simulate_cases(infra, cases, sim_options(calibration, bench_host=True))
    else:
        from wanstack.bench.scenario_bench import bench_scenario

        result = bench_scenario(infra, cases, progress=progress)
    return with_sla(result, infra.scenario.sla)


@dataclass(frozen=True)
class Replayed:
    """An operation replayed for real at `site` (`real`: its latencies and failures) and the
    simulator's latencies of the same sequence (`predicted`, ms)."""

    site: str
    real: ReplayResult
    predicted: list[float]


def replay(
    infra: Infrastructure,
    operation: OperationKind | str,
    site: str | None = None,
    *,
    times: int = 5,
    calibration: str | Path | None = None,
    local_ms: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> Replayed:
    """Replay `operation`'s workflow `times` times (after one warm-up) at `site` (default: the first edge
    site) as real traffic — oslo.messaging over RabbitMQ, HTTP and database exchanges, the image
    download — across the emulated WAN, then simulate the same sequence. `calibration`: a file from
    `wanstack calibrate` for the simulator's side (its bench host's relays; the replay's roles are
    threads of one process); `local_ms` shortens the host's own work (spawn, shutdown) on both sides;
    `progress` is told each operation's number. Raises CalibrationError before anything starts, and
    ValueError for a site not in the scenario or a model the replay cannot run (a bus per cell or
    region)."""
    from wanstack.bench.replay import Replay, replay_params, simulated
    from wanstack.bench.scenario_bench import edge_sites

    kind = OperationKind(operation)
    target = site or next(iter(edge_sites(infra)), infra.placement.top_site)
    if target not in infra.sites:
        raise ValueError(f"no site {target!r} in {infra.scenario.name}")
    options = sim_options(calibration, bench_host=calibration is not None, shared_cpu=False)
    params = replay_params(options.params, local_ms)
    with Replay(infra, kind, target, params) as session:
        real = session.run(times, progress=progress)
    predicted = simulated(infra, kind, target, times, params=params, host=options.host)
    return Replayed(target, real, predicted)


def calibrate(
    out: Path,
    *,
    pause_ms: float | None = None,
    max_stolen: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Measure this machine's RabbitMQ, oslo.messaging and relay costs (about 6 minutes), fit the
    simulator's parameters to them and write the calibration file `out`; the calibration. `pause_ms`:
    the pause between the paused runs' messages (default: the test plan's); a run is measured again (at
    most 3 times, the least disturbed kept) when the hypervisor stole more than `max_stolen` of the CPU
    while it ran (default: `wanstack.lab.steady.Steadiness`'s); `progress` is told each step."""
    from wanstack.bench.calibrate import PAUSE_MS
    from wanstack.bench.calibrate import calibrate as measure
    from wanstack.lab.steady import Steadiness

    steadiness = Steadiness() if max_stolen is None else Steadiness(max_stolen=max_stolen)
    return measure(
        out, progress=progress, pause_ms=PAUSE_MS if pause_ms is None else pause_ms, steadiness=steadiness
    )


def refit(path: Path) -> Calibration:
    """Derive the simulator's parameters again from the measurements in the calibration file `path`,
    with this version's model, and rewrite it; nothing is measured. Raises CalibrationError."""
    from wanstack.bench import calibrate

    return calibrate.refit(path)
