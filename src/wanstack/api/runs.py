"""Runs as data: one run's results (`Run`) or several (`Runs`), every table a pandas DataFrame, and
result folders read back (`load_dir`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from wanstack.results.rows import TABLES, Columns, Data, Kind
from wanstack.results.schema import RunResult
from wanstack.results.verdict import Verdict, verdict

if TYPE_CHECKING:
    import pandas as pd

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


class _Table:
    """A table as a DataFrame, read on each access from the run (or runs) it belongs to (`_Tables.table`,
    given the attribute's name: a table of `wanstack.results.rows.TABLES`, whose description it takes)."""

    def __init__(self) -> None:
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.__doc__ = TABLES[name].doc

    @overload
    def __get__(self, instance: None, owner: type) -> _Table: ...
    @overload
    def __get__(self, instance: _Tables, owner: type) -> pd.DataFrame: ...
    def __get__(self, instance: _Tables | None, owner: type) -> _Table | pd.DataFrame:
        return self if instance is None else instance.table(self.name)


class _Tables:
    """Every table of a run as an attribute; a `Run` gives its own, `Runs` every run's, stacked."""

    def table(self, name: str) -> pd.DataFrame:
        raise NotImplementedError

    operations = _Table()
    failures = _Table()
    links = _Table()
    sites = _Table()
    stations = _Table()
    faults = _Table()
    fault_boots = _Table()
    outages = _Table()
    quotas = _Table()
    inventory = _Table()
    sla = _Table()
    timeseries = _Table()
    samples = _Table()


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
class Run(_Tables):
    """One run's results (`result`, the schema every engine writes) with each table as a DataFrame.
    Column names hold no dot (`DataFrame.query` takes them as they are), and an empty table keeps its
    columns and dtypes."""

    result: RunResult
    label: str = ""

    def table(self, name: str) -> pd.DataFrame:
        """The table `name` of `wanstack.results.rows.TABLES` (also each table's attribute)."""
        table = TABLES[name]
        return _frame(table.columns(self.result), table.data(self.result))

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


class Runs(Sequence[Run], _Tables):
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

    @property
    def verdict(self) -> Verdict:
        """The runs ranked, best first: per run boot and delete p50/p95, what still works under each
        fault (in words), WAN bytes per operation, the busiest station's headroom, the Pareto front
        marked (`wanstack.results.verdict`); ranked by the scenario's `sla:` if it has one."""
        return verdict([run.result for run in self._runs])

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

    def table(self, name: str) -> pd.DataFrame:
        """Every run's table `name`, stacked (`stacked`; also each table's attribute)."""
        return self.stacked(lambda run: run.table(name))


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
