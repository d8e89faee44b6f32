"""The simulator from Python: load a scenario with overrides, simulate it, compare models, sweep a
grid, read an operation's workflow crossing by crossing. What `wanstack run`, `compare`, `explain`,
`inventory` and `sweep` do, as functions returning data (`Run`, `Runs`, DataFrames, records)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wanstack.api.runs import Run, Runs
from wanstack.results.schema import RunResult
from wanstack.results.workflow import StationTime, StepCrossings, WorkflowCrossings
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.load import Source
from wanstack.scenario.workload import OperationKind

if TYPE_CHECKING:
    import pandas as pd

    from wanstack.scenario.openstack import OpenStack
    from wanstack.sim.engine import SimOptions
    from wanstack.sim.run_cost import RunCost

ScenarioLike = str | Path | Mapping[str, Any]


def load_scenario(source: ScenarioLike, overrides: Mapping[str, Any] | None = None) -> Infrastructure:
    """A scenario file, a built-in scenario's name (`default`) or a mapping, with `overrides` (dotted
    fields: `{"links.delay_ms": 10, "model": "cells-shared"}`), validated (raises ScenarioError)."""
    return Source.of(source).load(overrides)


def sim_options(
    calibration: str | Path | None = None, *, bench_host: bool = False, shared_cpu: bool = True
) -> SimOptions:
    """The simulator's options: its defaults, or the measured costs of `calibration` (a file from
    `wanstack calibrate`: the messaging costs; or from `wanstack testbed calibrate`: the control plane's
    station times). `bench_host`: also the calibration's bench-host plug-in, to predict this
    repository's own bench (never for a WAN study); `shared_cpu=False` when the bench's roles are
    threads of one process (`replay`). Raises CalibrationError: an unreadable file, or (prefixed with
    the file's name) one fitted for another host model."""
    from wanstack.sim.calibration import Calibration, CalibrationError, load_calibration
    from wanstack.sim.engine import SimOptions

    if calibration is None:
        return SimOptions()
    path = Path(calibration)
    cal = load_calibration(path)
    if not bench_host:
        return SimOptions(params=cal.params())
    if not isinstance(cal, Calibration):
        raise CalibrationError(
            f"{path}: a control-plane calibration (`wanstack testbed calibrate`) has no bench host; "
            "predicting the bench takes a `wanstack calibrate` file"
        )
    try:
        host = cal.bench_host(shared_cpu)
    except CalibrationError as err:
        raise CalibrationError(f"{path}: {err}") from err
    return SimOptions(params=cal.params(), host=host)


def simulate(
    source: ScenarioLike | Infrastructure,
    overrides: Mapping[str, Any] | None = None,
    *,
    calibration: str | Path | None = None,
    fluid: bool | None = None,
    progress: Callable[[float], None] | None = None,
) -> Run:
    """Simulate a scenario (a file, a built-in name, a mapping, or one already loaded: then `overrides`
    are not applied). `calibration`: a file from `wanstack calibrate` (raises CalibrationError if it
    cannot be used); `fluid`: background traffic as per-site batches and fluid station load (True), every
    host on its own (False), or as the simulator decides by size (None); `progress` is called with the
    fraction of simulated time done. The run comes back labelled `model--backend--quota-mode`."""
    from dataclasses import replace

    from wanstack.sim.engine import simulate as run

    infra = source if isinstance(source, Infrastructure) else load_scenario(source, overrides)
    options = replace(sim_options(calibration), fluid_background=fluid)
    result = run(infra, options, progress=progress)
    return Run(result, "--".join(result.variant()))


def cost(infra: Infrastructure, runs: int = 1) -> RunCost:
    """What simulating `infra` `runs` times would cost (events and computing time, an estimate:
    `sim.run_cost`); its `absurd` says whether the CLI refuses it without --force."""
    from wanstack.sim.run_cost import RunCost, run_cost

    return RunCost(run_cost(infra).events * runs)


def inventory(source: ScenarioLike | Infrastructure, at_s: float | None = None) -> Run:
    """A run simulated until `at_s` (default: the scenario's end), for the server inventory the top
    site sees then (`Run.inventory`, `Run.result.inventory`; faults included)."""
    from dataclasses import replace

    infra = source if isinstance(source, Infrastructure) else load_scenario(source)
    if at_s is not None:
        if not 0 < at_s < math.inf:  # nan compares false both ways: refused here too
            raise ValueError(f"at_s must be a positive, finite number of seconds, not {at_s}")
        run = infra.scenario.run.model_copy(update={"duration_s": at_s})
        infra = replace(infra, scenario=infra.scenario.model_copy(update={"run": run}))
    return simulate(infra)


def compare(
    source: ScenarioLike,
    models: Sequence[str] | None = None,
    *,
    backends: Sequence[str | None] = (None,),
    quota_modes: Sequence[str | None] = (None,),
    overrides: Mapping[str, Any] | None = None,
    processes: int | None = None,
    calibration: str | Path | None = None,
    on_done: Callable[[RunResult], None] | None = None,
) -> Runs:
    """The scenario under every model (default: the whole library; a model file's path works too) ×
    RPC backend × quota mode (None: the model's or the scenario's own), on worker processes, in that
    order, with `calibration`'s measured costs if given (as `simulate`). `on_done` is called with each
    result as it finishes. Raises CalibrationError for an unusable calibration, ScenarioError before running
    anything when a variant is not a valid scenario."""
    from wanstack.scenario.deployment import library
    from wanstack.scenario.quotas import QuotaMode
    from wanstack.scenario.services import RpcBackend
    from wanstack.sim.variants import run_variants

    variants = [
        (m, None if b is None else RpcBackend(b), None if q is None else QuotaMode(q))
        for m in (list(library()) if models is None else models)
        for b in backends
        for q in quota_modes
    ]
    options = sim_options(calibration)
    results = run_variants(
        Source.of(source), variants, options, processes=processes, overrides=overrides, on_done=on_done
    )
    # Labelled as `wanstack compare --out` names their folders: `load_dir` gives the same labels back.
    return Runs([Run(r, "--".join(r.variant())) for r in results])


def explain(
    infra: Infrastructure,
    operation: OperationKind | str,
    site: str | None = None,
    *,
    settings: OpenStack | None = None,
    servers_on_host: int = 1,
) -> WorkflowCrossings:
    """`operation`'s workflow at `site` (default: the first site with hosts below the top one) under
    the scenario's `openstack:` settings (or `settings`), with `servers_on_host` servers on the host
    (the operation's own included): each step with the sites it runs between and its one-way WAN
    crossings, and the crossings on the critical path. Counted, not simulated."""
    from wanstack.scenario.schema import StationSize
    from wanstack.sim.crossings import CrossingCounter, layout, step_rows
    from wanstack.sim.openstack import workflows
    from wanstack.sim.params import Params, station_source
    from wanstack.sim.quotas import claim_round_trips
    from wanstack.sim.steps import every_step, roles_of

    kind = OperationKind(operation)
    placement = infra.placement
    target = site or next(
        (n for n, s in infra.sites.items() if s.host_count and n != placement.top_site), placement.top_site
    )
    if target not in infra.sites:
        raise ValueError(f"unknown site {target!r}")
    steps = workflows(settings or infra.scenario.openstack)[kind]
    roles, buses = layout(infra, target)
    projects = infra.scenario.quotas.projects
    trips = claim_round_trips(projects[0]) if projects else 0  # the workload's default project
    counter = CrossingCounter(target, roles, buses, servers_on_host, quota_round_trips=trips)
    rows = step_rows(steps, counter)
    own, none = infra.scenario.stations, StationSize()
    params = Params().with_overrides(own)
    visited = sorted({r.value for s in every_step(steps) for r in roles_of(s)} & set(params.stations))
    times = [
        StationTime(
            kind=kind,
            service_ms=params.station(kind).service_ms,
            workers=params.station(kind).workers,
            source="the scenario's stations:" if own.get(kind, none).service_ms else station_source(kind),
        )
        for kind in visited
    ]
    return WorkflowCrossings(
        operation=kind.value,
        site=target,
        model=infra.model.name,
        rpc=placement.region_by_name[placement.region_of[target]].rpc.value,
        servers_on_host=servers_on_host,
        critical_crossings=counter.of(steps),
        steps=[StepCrossings(step=label, sites=sites, crossings=n) for label, sites, n in rows],
        stations=times,
    )


def parse_grid(options: Sequence[str]) -> dict[str, list[Any]]:
    """`FIELD=V1,V2,...` texts (`wanstack sweep --set`) as a sweep's grid: `["links.delay_ms=0,10"]` →
    `{"links.delay_ms": [0, 10]}`. Raises ValueError saying how to write a malformed one."""
    from wanstack.sweeps.grid import parse_set

    return dict(parse_set(option) for option in options)


def sweep(
    source: ScenarioLike,
    grid: Mapping[str, Sequence[Any]],
    *,
    seeds: int | Sequence[int] = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    calibration: str | Path | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Every combination of `grid`'s values (dotted fields, or `model`, `backend`, `quota_mode`) ×
    seeds, one row per run and operation. `seeds=5` runs the scenario's seed and the next four.
    Local worker processes by default, a Dask cluster with `scheduler="tcp://host:8786"`; with `out`,
    finished runs are kept there and a stopped sweep resumes where it left off. `on_done(done, total)`
    is called as runs finish. `calibration`: as `simulate`'s (a resumed sweep reruns points simulated
    with other parameters). Raises ScenarioError for an invalid scenario, CalibrationError for an
    unusable calibration, OSError when the scheduler
    does not answer."""
    import pandas as pd

    from wanstack.sweeps.grid import points
    from wanstack.sweeps.runner import run

    src = Source.of(source)
    if isinstance(seeds, int):
        first = src.parse()[0].run.seed
        seed_list = list(range(first, first + seeds))
    else:
        seed_list = list(seeds)
    rows = run(
        src,
        points(grid, seed_list),
        out=None if out is None else Path(out),
        workers=workers,
        scheduler=scheduler,
        options=None if calibration is None else sim_options(calibration),
        on_done=on_done,
    )
    return pd.DataFrame(rows)


def write_sweep(table: pd.DataFrame, out: str | Path) -> list[Path]:
    """A sweep's table under `out` as sweep.parquet (typed, for pandas) and sweep.csv (for
    spreadsheets), as `wanstack sweep --out` keeps it; the paths written."""
    from wanstack.sweeps.table import write_table

    return write_table(table, Path(out))
