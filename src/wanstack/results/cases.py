"""Messaging test-case results in the common schema: each case becomes one `OperationResult`."""

from __future__ import annotations

from collections.abc import Sequence

from wanstack.results.schema import OperationResult, RunResult
from wanstack.results.stats import latency_stats
from wanstack.scenario.build import Infrastructure


def case_result(
    name: str, latencies_ms: Sequence[float], submitted: int, failures: int, duplicates: int = 0
) -> OperationResult:
    reasons = {"duplicates": duplicates} if duplicates else {}
    return OperationResult(
        op=name,
        submitted=submitted,
        succeeded=len(latencies_ms),
        failed=failures,
        timed_out=0,
        latency_ms=latency_stats(latencies_ms),
        failure_reasons=reasons,
    )


def cases_run(
    engine: str, infra: Infrastructure, operations: list[OperationResult], wall_s: float
) -> RunResult:
    return RunResult(
        engine=engine,
        scenario=infra.scenario.name,
        model=infra.model.name,
        rpc_backend="broker",
        notification_backend="broker",
        seed=infra.scenario.run.seed,
        duration_s=0.0,
        wall_time_s=wall_s,
        operations=operations,
    )
