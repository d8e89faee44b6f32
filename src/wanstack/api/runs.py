"""Runs as data: one run's results (`Run`) or several (`Runs`), every table a pandas DataFrame, and
result folders read back (`load_dir`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wanstack.results.rows import flat_rows, operation_row
from wanstack.results.schema import RunResult

if TYPE_CHECKING:
    import pandas as pd


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
