"""Runs as data: one run's results (`Run`) or several (`Runs`), every table a pandas DataFrame, and
result folders read back (`load_dir`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from wanstack.results.rows import flat_rows, operation_row
from wanstack.results.schema import RunResult
from wanstack.results.verdict import Verdict, verdict

if TYPE_CHECKING:
    import pandas as pd

Owner = TypeVar("Owner")


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows)


class _Table(Generic[Owner]):
    """A table as a DataFrame, read on each access from the run (or runs) it belongs to by `frame`,
    which is given the owner and the attribute's name (a field of `RunResult`)."""

    def __init__(self, frame: Callable[[Owner, str], pd.DataFrame], doc: str) -> None:
        self.frame = frame
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _Table[Owner]: ...
    @overload
    def __get__(self, instance: Owner, owner: type) -> pd.DataFrame: ...
    def __get__(self, instance: Owner | None, owner: type) -> _Table[Owner] | pd.DataFrame:
        return self if instance is None else self.frame(instance, self.name)


def _records(run: Run, name: str) -> pd.DataFrame:
    """One row per record of the result's `name` list, nested fields as dotted columns."""
    return _frame(flat_rows(getattr(run.result, name)))


def _stacked(runs: Runs, name: str) -> pd.DataFrame:
    """Every run's `name` table, stacked."""
    return runs.stacked(lambda run: getattr(run, name))


@dataclass(frozen=True)
class Run:
    """One run's results (`result`, the schema every engine writes) with each table as a DataFrame."""

    result: RunResult
    label: str = ""

    @property
    def operations(self) -> pd.DataFrame:
        """One row per operation: outcomes and latency percentiles (`p50_ms`, …) of its successes."""
        return _frame([operation_row(o) for o in self.result.operations])

    # One row per record of the result's list of that name, nested fields as dotted columns.
    links = _Table(_records, "Per backbone link: messages, bytes, bulk bytes each way; rate, utilisation.")
    sites = _Table(_records, "Per site: bytes sent and received over the WAN, bytes kept local.")
    stations = _Table(_records, "Per station (a service's workers at a site): jobs, utilisation, queues.")
    faults = _Table(_records, "Per fault: its span, the sites it isolated, boots ok and failed per site.")
    outages = _Table(_records, "Per outage: a site's service seen down by its servicegroup, when, until.")
    quotas = _Table(_records, "Per project and resource: mode, limit, claims, refusals, peak, over-commit.")
    inventory = _Table(_records, "Per region and site as the top site sees them: live, last known or never.")
    sla = _Table(_records, "Per criterion of the scenario's `sla:` block: its limit, the figure, passed.")

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

    @property
    def verdict(self) -> Verdict:
        """The runs ranked, best first: per run boot and delete p50/p95, what still works under each
        fault (in words), WAN bytes per operation, the busiest station's headroom, the Pareto front
        marked (`wanstack.results.verdict`); ranked by the scenario's `sla:` if it has one."""
        return verdict([run.result for run in self._runs])

    def stacked(self, table: Callable[[Run], pd.DataFrame]) -> pd.DataFrame:
        """`table` of every run, stacked, each row labelled with its run's label, model, RPC backend
        and seed."""
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

    operations = _Table(_stacked, "Every run's `operations`, stacked (`Run.operations`).")
    links = _Table(_stacked, "Every run's `links`, stacked (`Run.links`).")
    stations = _Table(_stacked, "Every run's `stations`, stacked (`Run.stations`).")
    faults = _Table(_stacked, "Every run's `faults`, stacked (`Run.faults`).")
    quotas = _Table(_stacked, "Every run's `quotas`, stacked (`Run.quotas`).")
    samples = _Table(_stacked, "Every run's `samples`, stacked (`Run.samples`).")


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
