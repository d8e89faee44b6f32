"""Results as flat rows: what CSV files, DataFrames and sweep tables are made of. One place decides the
column names, so a CSV, `Run.operations` and a sweep table name a figure the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from wanstack.results.schema import OperationResult


def flat_row(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested records and mappings become `parent.key` columns, lists `a;b;c` (site names hold no `;`),
    so no cell holds a Python repr."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_row(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = ";".join(str(v) for v in value)
        else:
            out[name] = value
    return out


def operation_row(op: OperationResult) -> dict[str, Any]:
    """An operation's outcomes and latency percentiles (of its successes) as `*_ms` columns."""
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
        **{f"failure_reasons.{k}": v for k, v in sorted(op.failure_reasons.items())},
    }


def flat_rows(rows: Iterable[BaseModel]) -> list[dict[str, Any]]:
    return [
        operation_row(r) if isinstance(r, OperationResult) else flat_row(r.model_dump(mode="json"))
        for r in rows
    ]


def columns(flat: list[dict[str, Any]]) -> list[str]:
    """Every column any row has (a failure reason only some operations saw), in first-seen order."""
    seen: dict[str, None] = {}
    for row in flat:
        seen.update(dict.fromkeys(row))
    return list(seen)
