"""A run's results against its scenario's `sla:` block (`scenario.sla`): one check per criterion."""

from __future__ import annotations

from collections.abc import Mapping

from wanstack.results.schema import OperationResult, RunResult, SlaCheck
from wanstack.scenario.sla import LATENCY_CRITERIA, Criteria


def _checks(op: OperationResult, criteria: Criteria) -> list[SlaCheck]:
    out = []
    for name, figure in LATENCY_CRITERIA.items():
        limit = getattr(criteria, name)
        if limit is None:
            continue
        ms = getattr(op.latency_ms, figure)
        value = None if ms is None else ms / 1000.0
        # No success to time: the bound cannot be shown to hold, so it does not.
        out.append(
            SlaCheck(
                op=op.op,
                criterion=name,
                limit=limit,
                value=value,
                passed=value is not None and value <= limit,
            )
        )
    if criteria.failure_rate_pct is not None:
        rate = 100.0 * (op.submitted - op.succeeded) / op.submitted if op.submitted else 0.0
        out.append(
            SlaCheck(
                op=op.op,
                criterion="failure_rate_pct",
                limit=criteria.failure_rate_pct,
                value=rate,
                passed=rate <= criteria.failure_rate_pct,
            )
        )
    return out


def check(result: RunResult, sla: Mapping[str, Criteria]) -> list[SlaCheck]:
    """Every criterion of `sla` against `result`; an operation the SLA names but the run never
    submitted fails (a criterion on nothing would pass silently)."""
    checks: list[SlaCheck] = []
    for op_name, criteria in sla.items():
        ops = [o for o in result.operations if o.op == op_name or (op_name == "*" and "(" not in o.op)]
        if not ops:
            checks.append(SlaCheck(op=op_name, criterion="submitted", limit=None, value=0.0, passed=False))
        for op in ops:
            checks.extend(_checks(op, criteria))
    return checks


def with_sla(result: RunResult, sla: Mapping[str, Criteria]) -> RunResult:
    return result.model_copy(update={"sla": check(result, sla)}) if sla else result
