"""Runs as data: one run's results (`Run`) or several (`Runs`), every table a pandas DataFrame, and
result folders read back (`load_dir`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from wanstack.results.rows import TABLES, Columns, Data, Kind
from wanstack.results.schema import RunResult

if TYPE_CHECKING:
    import pandas as pd

Owner = TypeVar("Owner")
# What `Runs` adds in front of every table: which run each row is from.
RUN_COLUMNS: Columns = {"run": "str", "model": "str", "rpc_backend": "str", "seed": "int"}


@cache
def _text() -> Any:
    """The dtype pandas gives text: `str` from pandas 3, `object` before."""
    import pandas as pd

    return pd.Series(["text"]).dtype


def _dtype(kind: Kind) -> Any:
    return _text() if kind == "str" else {"int": "int64", "float": "float64", "bool": "bool"}[kind]


def _frame(columns: Columns, data: Data) -> pd.DataFrame:
    """A DataFrame of `columns` (in their order, each of its kind's dtype: an empty table keeps both)."""
    import pandas as pd

    return pd.DataFrame({name: pd.Series(data[name], dtype=_dtype(kind)) for name, kind in columns.items()})


class _Table(Generic[Owner]):
    """A table as a DataFrame, read on each access from the run (or runs) it belongs to by `frame`,
    which is given the owner and the attribute's name (a table of `wanstack.results.rows.TABLES`, whose
    description the attribute takes)."""

    def __init__(self, frame: Callable[[Owner, str], pd.DataFrame], prefix: str = "") -> None:
        self.frame = frame
        self.prefix = prefix
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.__doc__ = self.prefix + TABLES[name].doc

    @overload
    def __get__(self, instance: None, owner: type) -> _Table[Owner]: ...
    @overload
    def __get__(self, instance: Owner, owner: type) -> pd.DataFrame: ...
    def __get__(self, instance: Owner | None, owner: type) -> _Table[Owner] | pd.DataFrame:
        return self if instance is None else self.frame(instance, self.name)


def _one(run: Run, name: str) -> pd.DataFrame:
    table = TABLES[name]
    return _frame(table.columns(run.result), table.data(run.result))


def _stacked(runs: Runs, name: str) -> pd.DataFrame:
    return runs.stacked(lambda run: getattr(run, name))


def _headline(result: RunResult) -> list[str]:
    """A few figures to know a run by: each operation's successes and latency (the first four)."""
    lines = []
    for op in result.operations[:4]:
        p50, p95 = ("n/a" if p is None else f"{p:,.0f} ms" for p in (op.latency_ms.p50, op.latency_ms.p95))
        lines.append(f"{op.op}: {op.succeeded}/{op.submitted} ok, p50 {p50}, p95 {p95}")
    if len(result.operations) > 4:
        lines.append(f"… {len(result.operations) - 4} more operations")
    return lines


@dataclass(frozen=True, repr=False)
class Run:
    """One run's results (`result`, the schema every engine writes) with each table as a DataFrame.
    Column names hold no dot (`DataFrame.query` takes them as they are), and an empty table keeps its
    columns and dtypes."""

    result: RunResult
    label: str = ""

    operations = _Table(_one)
    failures = _Table(_one)
    links = _Table(_one)
    sites = _Table(_one)
    stations = _Table(_one)
    faults = _Table(_one)
    fault_boots = _Table(_one)
    outages = _Table(_one)
    quotas = _Table(_one)
    inventory = _Table(_one)
    sla = _Table(_one)
    timeseries = _Table(_one)
    samples = _Table(_one)

    def __repr__(self) -> str:
        """Which run this is, a few figures, and its tables with their rows (not the whole result)."""
        r = self.result
        head = (
            f"Run({self.label!r}, scenario={r.scenario!r}, engine={r.engine!r}, model={r.model!r}, "
            f"seed={r.seed}, {r.duration_s:,.0f} s simulated"
        )
        sla = [f"SLA {'passed' if r.sla_passed else 'FAILED'}"] if r.sla else []
        tables = ", ".join(f"{name} ({table.row_count(r)})" for name, table in TABLES.items())
        return "\n  ".join([head, *_headline(r), *sla, f"tables: {tables})"])

    def save(self, folder: str | Path) -> list[Path]:
        """result.json, one CSV per table and the samples (`load_dir` reads them back)."""
        from wanstack.report.files import write_result

        return write_result(self.result, Path(folder))


# A run with nothing in it: what an empty `Runs`' tables are shaped by.
_BLANK = Run(
    RunResult(
        engine="", scenario="", model="", rpc_backend="", notification_backend="", seed=0, duration_s=0.0
    )
)


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

    def __repr__(self) -> str:
        labels = ", ".join(repr(run.label) for run in self._runs[:8])
        more = f", … {len(self._runs) - 8} more" if len(self._runs) > 8 else ""
        return f"Runs({len(self._runs)} runs: {labels}{more})"

    def stacked(self, table: Callable[[Run], pd.DataFrame]) -> pd.DataFrame:
        """`table` of every run, stacked, each row labelled with its run's label, model, RPC backend
        and seed (with no run, or no rows, an empty table of those columns and the table's)."""
        import pandas as pd

        frames = []
        for run in self._runs or [_BLANK]:
            frame = table(run)
            r = run.result
            n = len(frame)
            labels = _frame(
                RUN_COLUMNS,
                {
                    "run": [run.label] * n,
                    "model": [r.model] * n,
                    "rpc_backend": [r.rpc_backend] * n,
                    "seed": [r.seed] * n,
                },
            )
            labels.index = frame.index  # side by side, whatever index `table` gave its rows
            frames.append(pd.concat([labels, frame], axis=1))
        # Empty tables are left out: they add no row, and pandas deprecates their say in the dtypes.
        full = [f for f in frames if len(f)]
        return pd.concat(full, ignore_index=True) if full else frames[0]

    operations = _Table(_stacked, "Every run's, stacked: ")
    failures = _Table(_stacked, "Every run's, stacked: ")
    links = _Table(_stacked, "Every run's, stacked: ")
    sites = _Table(_stacked, "Every run's, stacked: ")
    stations = _Table(_stacked, "Every run's, stacked: ")
    faults = _Table(_stacked, "Every run's, stacked: ")
    fault_boots = _Table(_stacked, "Every run's, stacked: ")
    outages = _Table(_stacked, "Every run's, stacked: ")
    quotas = _Table(_stacked, "Every run's, stacked: ")
    inventory = _Table(_stacked, "Every run's, stacked: ")
    sla = _Table(_stacked, "Every run's, stacked: ")
    timeseries = _Table(_stacked, "Every run's, stacked: ")
    samples = _Table(_stacked, "Every run's, stacked: ")


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
