"""A run's tables as flat columns: what CSV files, DataFrames and sweep tables are made of. One place
decides every table's columns, their kinds and their rows, so a CSV, `Run.operations` and a sweep
table name a figure the same way, and an empty table still has its columns.

Column names hold no dot (pandas' `DataFrame.query` reads `links_delay_ms`, not `links.delay_ms`) and
no data: what varies from run to run (a failure's reason, a site) is a value in a column of its own,
one row each (`failures`, `fault_boots`), never a column's name."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from wanstack.results.schema import (
    FaultImpact,
    InventoryRow,
    LinkTraffic,
    OperationResult,
    Outage,
    QuotaStats,
    RunResult,
    SiteTraffic,
    SlaCheck,
    StationStats,
)

# What a column holds, for the dtype pandas gives it (`wanstack.api.runs` maps these; this layer does not
# import pandas). A number that may be missing is a float: pandas holds a missing number as NaN.
Kind = Literal["str", "int", "float", "bool"]
Columns = dict[str, Kind]
Data = dict[str, list[Any]]


def column_name(field: str) -> str:
    """A dotted scenario field (a sweep's `links.delay_ms`) as a column name: `links_delay_ms`."""
    return field.replace(".", "_")


def _kind(annotation: Any) -> Kind:
    """The column kind of a record's field: lists are joined into text, a count per key (`boots_ok`
    per site) is summed (its items are rows of a table of their own)."""
    args = typing.get_args(annotation)
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        (annotation,) = (a for a in args if a is not type(None))
    origin = typing.get_origin(annotation)
    if origin is list or annotation is str:
        return "str"
    if origin is dict and typing.get_args(annotation)[1] is int and not optional:
        return "int"
    if annotation is bool and not optional:
        return "bool"
    if annotation is int:
        return "float" if optional else "int"
    if annotation is float:
        return "float"
    raise TypeError(f"no column kind for a field of type {annotation!r}")


def record_columns(model: type[BaseModel]) -> Columns:
    """A record's fields as columns, in their order."""
    return {name: _kind(field.annotation) for name, field in model.model_fields.items()}


def record_row(record: BaseModel) -> dict[str, Any]:
    """A record as one row: lists as `a;b;c` (site names hold no `;`), counts per key as their total,
    so no cell holds a Python repr."""
    out: dict[str, Any] = {}
    for key, value in record.model_dump(mode="json").items():
        if isinstance(value, list):
            out[key] = ";".join(str(v) for v in value)
        elif isinstance(value, Mapping):
            out[key] = sum(value.values())
        else:
            out[key] = value
    return out


OPERATION_COLUMNS: Columns = {
    "op": "str",
    "submitted": "int",
    "succeeded": "int",
    "failed": "int",
    "timed_out": "int",
    "mean_ms": "float",
    "p50_ms": "float",
    "p95_ms": "float",
    "p99_ms": "float",
    "max_ms": "float",
    "wan_bytes_per_op": "float",
    "rate_per_s": "float",
}


def operation_row(op: OperationResult) -> dict[str, Any]:
    """An operation's outcomes and latency percentiles (of its successes) as `*_ms` columns; its failures'
    reasons are rows of the `failures` table."""
    stats = op.latency_ms
    return {
        "op": op.op,
        "submitted": op.submitted,
        "succeeded": op.succeeded,
        "failed": op.failed,
        "timed_out": op.timed_out,
        "mean_ms": stats.mean,
        "p50_ms": stats.p50,
        "p95_ms": stats.p95,
        "p99_ms": stats.p99,
        "max_ms": stats.max,
        "wan_bytes_per_op": op.wan_bytes_per_op,
        "rate_per_s": op.rate_per_s,
    }


def _columnar(rows: Iterable[Mapping[str, Any]], columns: Columns) -> Data:
    data: Data = {name: [] for name in columns}
    for row in rows:
        for name, values in data.items():
            values.append(row[name])
    return data


@dataclass(frozen=True)
class Table:
    """One table of a run: its columns (by name, with their kinds) and its data, column by column."""

    doc: str
    columns: Callable[[RunResult], Columns]
    data: Callable[[RunResult], Data]

    def row_count(self, result: RunResult) -> int:
        """How many rows `result` gives this table."""
        data = self.data(result)
        return len(next(iter(data.values()))) if data else 0


def _records(field: str, model: type[BaseModel], doc: str) -> Table:
    columns = record_columns(model)
    return Table(
        doc, lambda _: columns, lambda r: _columnar((record_row(x) for x in getattr(r, field)), columns)
    )


def _fixed(columns: Columns, rows: Callable[[RunResult], Iterable[Mapping[str, Any]]], doc: str) -> Table:
    return Table(doc, lambda _: columns, lambda r: _columnar(rows(r), columns))


def _failures(result: RunResult) -> Iterable[dict[str, Any]]:
    for op in result.operations:
        for reason, count in sorted(op.failure_reasons.items()):
            yield {"op": op.op, "reason": reason, "count": count}


def _fault_boots(result: RunResult) -> Iterable[dict[str, Any]]:
    for f in result.faults:
        for site in sorted({*f.boots_ok, *f.boots_failed}):
            ok, failed = f.boots_ok.get(site, 0), f.boots_failed.get(site, 0)
            yield {
                "fault": f.fault,
                "start_s": f.start_s,
                "site": site,
                "boots_ok": ok,
                "boots_failed": failed,
            }


def _timeseries_columns(result: RunResult) -> Columns:
    series = result.timeseries.series if result.timeseries is not None else {}
    return {"t_s": "float", **dict.fromkeys(series, "float")}


def _timeseries(result: RunResult) -> Data:
    ts = result.timeseries
    return {"t_s": []} if ts is None else {"t_s": ts.t_s, **ts.series}


SAMPLE_COLUMNS: Columns = {
    "op": "str",
    "site": "str",
    "start_s": "float",
    "latency_ms": "float",
    "outcome": "str",
}


def _samples(result: RunResult) -> Data:
    samples = result.samples
    return samples.model_dump() if samples is not None else {name: [] for name in SAMPLE_COLUMNS}


FAILURE_COLUMNS: Columns = {"op": "str", "reason": "str", "count": "int"}
FAULT_BOOT_COLUMNS: Columns = {
    "fault": "str",
    "start_s": "float",
    "site": "str",
    "boots_ok": "int",
    "boots_failed": "int",
}

TABLES: dict[str, Table] = {
    "operations": _fixed(
        OPERATION_COLUMNS,
        lambda r: (operation_row(o) for o in r.operations),
        "One row per operation: outcomes and latency percentiles (`p50_ms`, …) of its successes.",
    ),
    "failures": _fixed(
        FAILURE_COLUMNS, _failures, "One row per operation and reason it failed for: `op`, `reason`, `count`."
    ),
    "links": _records(
        "links", LinkTraffic, "Per backbone link: messages, bytes, bulk bytes each way; rate, utilisation."
    ),
    "sites": _records(
        "sites", SiteTraffic, "Per site: bytes sent and received over the WAN, bytes kept local."
    ),
    "stations": _records(
        "stations", StationStats, "Per station (a service's workers at a site): jobs, utilisation, queues."
    ),
    "faults": _records(
        "faults",
        FaultImpact,
        "Per fault: its span, the sites it isolated (`a;b`), boots ok and failed during it in all.",
    ),
    "fault_boots": _fixed(
        FAULT_BOOT_COLUMNS,
        _fault_boots,
        "One row per fault and site that booted during it: `boots_ok`, `boots_failed` there.",
    ),
    "outages": _records(
        "outages", Outage, "Per outage: a site's service seen down by its servicegroup, when, until."
    ),
    "quotas": _records(
        "quotas", QuotaStats, "Per project and resource: mode, limit, claims, refusals, peak, over-commit."
    ),
    "inventory": _records(
        "inventory", InventoryRow, "Per region and site as the top site sees them: live, last known or never."
    ),
    "sla": _records(
        "sla", SlaCheck, "Per criterion of the scenario's `sla:` block: its limit, the figure, passed."
    ),
    "timeseries": Table(
        "One row per time step (`t_s`), one column per series (queues, liveness, …).",
        _timeseries_columns,
        _timeseries,
    ),
    "samples": Table(
        "Every finished operation: `op`, `site`, `start_s`, `latency_ms`, `outcome`.",
        lambda _: SAMPLE_COLUMNS,
        _samples,
    ),
}
