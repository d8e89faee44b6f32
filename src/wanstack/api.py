"""wanstack from Python (notebooks, scripts): load a scenario with overrides, simulate, compare, sweep,
and get every table as a pandas DataFrame. The CLI is a thin layer over the same functions.

    import wanstack
    run = wanstack.simulate("default", {"links.delay_ms": 10})
    run.operations[["op", "p50_ms", "p95_ms"]]
    grid = {"links.delay_ms": [0, 25, 50], "model": ["centralized", "cells-shared"]}
    table = wanstack.sweep("default", grid, seeds=3)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wanstack.results.rows import flat_rows, operation_row
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.load import Source
from wanstack.sim.engine import SimOptions

if TYPE_CHECKING:
    import pandas as pd

ScenarioLike = str | Path | Mapping[str, Any]


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Run:
    """One run's results (`result`, the schema every engine writes) with each table as a DataFrame."""

    result: RunResult
    label: str = ""

    @property
    def operations(self) -> pd.DataFrame:
        """One row per operation: outcomes and latency percentiles (`p50_ms`, …) of its successes."""
        return _frame([operation_row(o) for o in self.result.operations])

    @property
    def links(self) -> pd.DataFrame:
        return _frame(flat_rows(self.result.links))

    @property
    def sites(self) -> pd.DataFrame:
        return _frame(flat_rows(self.result.sites))

    @property
    def stations(self) -> pd.DataFrame:
        return _frame(flat_rows(self.result.stations))

    @property
    def faults(self) -> pd.DataFrame:
        return _frame(flat_rows(self.result.faults))

    @property
    def outages(self) -> pd.DataFrame:
        return _frame(flat_rows(self.result.outages))

    @property
    def quotas(self) -> pd.DataFrame:
        return _frame(flat_rows(self.result.quotas))

    @property
    def inventory(self) -> pd.DataFrame:
        return _frame(flat_rows(self.result.inventory))

    @property
    def sla(self) -> pd.DataFrame:
        return _frame(flat_rows(self.result.sla))

    @property
    def timeseries(self) -> pd.DataFrame:
        """One row per time step (`t_s`), one column per series (queues, liveness, …)."""
        import pandas as pd

        ts = self.result.timeseries
        if ts is None:
            return pd.DataFrame()
        return pd.DataFrame({"t_s": ts.t_s, **ts.series})

    @property
    def samples(self) -> pd.DataFrame:
        """Every finished operation: `op`, `site`, `start_s`, `latency_ms`, `outcome`."""
        import pandas as pd

        samples = self.result.samples
        return pd.DataFrame(samples.model_dump() if samples is not None else {})

    def save(self, folder: str | Path) -> list[Path]:
        """result.json, one CSV per table and the samples (`load_dir` reads them back)."""
        from wanstack.report.files import write_result

        return write_result(self.result, Path(folder))


class Runs(Sequence[Run]):
    """Several runs (a comparison, a results folder): their tables stacked, each row labelled `run`."""

    def __init__(self, runs: Sequence[Run]) -> None:
        self._runs = list(runs)

    def __getitem__(self, index: int) -> Run:  # type: ignore[override]
        return self._runs[index]

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self._runs)

    def _stack(self, table: Callable[[Run], pd.DataFrame]) -> pd.DataFrame:
        import pandas as pd

        frames = []
        for run in self._runs:
            frame = table(run)
            r = run.result
            frame.insert(0, "run", run.label)
            for i, (name, value) in enumerate(
                (("model", r.model), ("rpc_backend", r.rpc_backend), ("seed", r.seed)), start=1
            ):
                frame.insert(i, name, value)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def operations(self) -> pd.DataFrame:
        return self._stack(lambda r: r.operations)

    @property
    def links(self) -> pd.DataFrame:
        return self._stack(lambda r: r.links)

    @property
    def stations(self) -> pd.DataFrame:
        return self._stack(lambda r: r.stations)

    @property
    def faults(self) -> pd.DataFrame:
        return self._stack(lambda r: r.faults)

    @property
    def quotas(self) -> pd.DataFrame:
        return self._stack(lambda r: r.quotas)

    @property
    def samples(self) -> pd.DataFrame:
        return self._stack(lambda r: r.samples)


def load_scenario(source: ScenarioLike, overrides: Mapping[str, Any] | None = None) -> Infrastructure:
    """A scenario file, a built-in scenario's name (`default`) or a mapping, with `overrides` (dotted
    fields: `{"links.delay_ms": 10, "model": "cells-shared"}`), validated (raises ScenarioError)."""
    return Source.of(source).load(overrides)


def simulate(
    source: ScenarioLike | Infrastructure,
    overrides: Mapping[str, Any] | None = None,
    *,
    calibration: str | Path | None = None,
) -> Run:
    """Simulate a scenario; `calibration` is a file from `wanstack calibrate`."""
    from wanstack.sim.engine import simulate as run

    infra = source if isinstance(source, Infrastructure) else load_scenario(source, overrides)
    result = run(infra, _options(calibration))
    return Run(result, "--".join(result.variant()))


def _options(calibration: str | Path | None) -> SimOptions | None:
    if calibration is None:
        return None
    from wanstack.sim.calibration import load_calibration

    return SimOptions(params=load_calibration(Path(calibration)).params())


def compare(
    source: ScenarioLike,
    models: Sequence[str] | None = None,
    *,
    backends: Sequence[str | None] = (None,),
    quota_modes: Sequence[str | None] = (None,),
    overrides: Mapping[str, Any] | None = None,
    processes: int | None = None,
) -> Runs:
    """The scenario under every model (default: the whole library) × RPC backend × quota mode (None:
    the scenario's own), on worker processes."""
    from wanstack.scenario.deployment import library
    from wanstack.scenario.quotas import QuotaMode
    from wanstack.scenario.services import RpcBackend
    from wanstack.sim.variants import run_variants

    variants = [
        (m, None if b is None else RpcBackend(b), None if q is None else QuotaMode(q))
        for m in (models or list(library()))
        for b in backends
        for q in quota_modes
    ]
    results = run_variants(Source.of(source), variants, processes=processes, overrides=overrides)
    # Labelled as `wanstack compare --out` names their folders: `load_dir` gives the same labels back.
    return Runs([Run(r, "--".join(r.variant())) for r in results])


def sweep(
    source: ScenarioLike,
    grid: Mapping[str, Sequence[Any]],
    *,
    seeds: int | Sequence[int] = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Every combination of `grid`'s values (dotted fields, or `model`, `backend`, `quota_mode`) ×
    seeds, one row per run and operation. `seeds=5` runs the scenario's seed and the next four.
    Local worker processes by default, a Dask cluster with `scheduler="tcp://host:8786"`; with `out`,
    finished runs are kept there and a stopped sweep resumes where it left off."""
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
        on_done=on_done,
    )
    return _frame(rows)


def load_dir(path: str | Path) -> Run | Runs:
    """A folder `--out` wrote: one run (it holds result.json) or every run under it."""
    from wanstack.report.files import read_result, result_folders

    root = Path(path)
    folders = result_folders(root)
    if not folders:
        raise ValueError(f"{root}: no result.json in it or under it")
    if folders == [root]:
        return Run(read_result(root), root.name)
    return Runs([Run(read_result(f), str(f.relative_to(root))) for f in folders])
