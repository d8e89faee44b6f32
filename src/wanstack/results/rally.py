"""A Rally task's JSON report (`rally task report --json`, rally 5.1.1's exporter revision 1.2) in the
common result schema, engine `rally`: one operation per atomic action, named as the simulator and
`wanstack testbed run` name what Rally reports (`boot (rally)`, …), so `wanstack compare-results`
sets them side by side.

The report holds tasks → subtasks → workloads; each workload's `data` holds its iterations, each with
its `atomic_actions` (name, `started_at`, `finished_at` in seconds since the epoch, `failed` when the
iteration's error was raised inside it, nested `children`) and its `error` (the exception's type,
message and traceback, empty when the iteration succeeded). Sources: rally/task/atomic.py
(`ActionTimer`), rally/task/runner.py (`_run_scenario_once`), rally/plugins/task/exporters/json_exporter.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from wanstack.results.header import run_header
from wanstack.results.schema import OperationResult, RunResult
from wanstack.results.stats import latency_stats
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.workload import OperationKind

ENGINE = "rally"
# rally-openstack's atomic actions for what the simulator and the testbed run
# (rally_openstack/task/scenarios/nova/utils.py: `_boot_server`, `_delete_server`, `_pause_server`,
# `_unpause_server`); each waits for the state as Rally polls it (`wanstack.scenario.rally`).
ATOMIC = {
    "nova.boot_server": OperationKind.BOOT,
    "nova.delete_server": OperationKind.DELETE,
    "nova.pause_server": OperationKind.PAUSE,
    "nova.unpause_server": OperationKind.UNPAUSE,
}
# The exception rally's `utils.wait_for_status` raises when the state does not come in time
# (rally/exceptions.py `TimeoutException`).
TIMEOUT = "TimeoutException"
# The request's id novaclient appends to every API error (novaclient/exceptions.py `ClientException`):
# left out so that one reason counts every iteration it failed.
REQUEST_ID = re.compile(r" \(Request-ID: [^)]*\)")


def operation_name(atomic: str) -> str:
    """What the common schema calls a Rally atomic action: `boot (rally)` for `nova.boot_server` (as
    the simulator's and the testbed's `observer: rally` rows), Rally's own name for any other."""
    kind = ATOMIC.get(atomic)
    return atomic if kind is None else f"{kind.value} (rally)"


def workloads(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every workload of every task of the report, in order."""
    for task in report["tasks"]:
        for subtask in task["subtasks"]:
            yield from subtask["workloads"]


def _atomics(actions: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for action in actions:
        yield action
        yield from _atomics(action.get("children", []))


def rally_result(report: dict[str, Any], infra: Infrastructure) -> RunResult:
    """The Rally report `report` (parsed JSON) as a `RunResult` of engine `rally` for the scenario
    `infra` (its header: scenario, model, backends, seed). Per atomic action: `submitted`, the
    iterations that reached it; `failed`, those whose error was raised inside it (`timed_out` when
    that error is Rally's timeout), with the error's type and message as reasons; the latency, from
    its start to its end, of the others. `duration_s` is the workloads' load durations added up."""
    timings: dict[str, list[float]] = {}
    reached: dict[str, int] = {}
    reasons: dict[str, dict[str, int]] = {}
    timeouts: dict[str, int] = {}
    duration_s = 0.0
    for workload in workloads(report):
        duration_s += float(workload["load_duration"])
        for iteration in workload["data"]:
            error = iteration.get("error") or []
            why = REQUEST_ID.sub("", ": ".join(str(part) for part in error[:2])) or "failed"
            for action in _atomics(iteration.get("atomic_actions", [])):
                name = operation_name(action["name"])
                reached[name] = reached.get(name, 0) + 1
                timings.setdefault(name, [])
                if action.get("failed") or "finished_at" not in action:
                    found = reasons.setdefault(name, {})
                    found[why] = found.get(why, 0) + 1
                    timeouts[name] = timeouts.get(name, 0) + (error[:1] == [TIMEOUT])
                    continue
                timings[name].append((float(action["finished_at"]) - float(action["started_at"])) * 1000.0)
    operations = [
        OperationResult(
            op=name,
            submitted=reached[name],
            succeeded=len(timings[name]),
            failed=reached[name] - len(timings[name]),
            timed_out=timeouts.get(name, 0),
            latency_ms=latency_stats(timings[name]),
            failure_reasons=reasons.get(name, {}),
        )
        for name in sorted(reached, key=_order)
    ]
    return RunResult(**run_header(infra, ENGINE), duration_s=duration_s, operations=operations)


def _order(name: str) -> tuple[int, str]:
    """The schema's order of operations (boot, delete, …), then Rally's other atomic actions by name."""
    kinds = [f"{kind.value} (rally)" for kind in OperationKind]
    return (kinds.index(name), "") if name in kinds else (len(kinds), name)
