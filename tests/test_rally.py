"""Rally's own JSON report in the common result schema (`wanstack.results.rally`), and the task and
environment `wanstack testbed rally` gives Rally (`wanstack.testbed.rally`). The reports are real:
`fixtures/rally-edge.json` is Rally 5.1.1 (rally-openstack 4.1.0) against the testbed of
`benchmarks/results/rally-2026-12-07/scenario.yaml` (centralized, edge-1 25 ms away), two iterations of
NovaServers.boot_and_delete_server and two of NovaServers.pause_and_unpause_server at edge-1;
`fixtures/rally-no-host.json` two boots asked for a host the testbed does not have (Nova answers
400). The run against a real testbed is in tests/test_testbed.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from wanstack.results.rally import operation_name, rally_result, workloads
from wanstack.scenario.load import load

FIXTURES = Path(__file__).parent / "fixtures"
SCENARIO = Path(__file__).parents[1] / "benchmarks" / "results" / "rally-2026-12-07" / "scenario.yaml"


def _report(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((FIXTURES / f"rally-{name}.json").read_text(encoding="utf-8"))
    return found


def _alone(report: dict[str, Any], workload: dict[str, Any]) -> dict[str, Any]:
    """The report with one workload only."""
    task = copy.deepcopy(report["tasks"][0])
    task["subtasks"] = [{**task["subtasks"][0], "workloads": [workload]}]
    return {**report, "tasks": [task]}


@pytest.mark.parametrize("index", [0, 1])
def test_each_atomic_action_has_the_figures_rallys_own_statistics_give(index: int) -> None:
    """One workload at a time, each atomic action's row holds what Rally's report says of it (its
    statistics, rounded to the ms): as many iterations, its median, mean and maximum."""
    report = _report("edge")
    workload = list(workloads(report))[index]
    result = rally_result(_alone(report, workload), load(str(SCENARIO)))
    atomics = workload["statistics"]["durations"]["atomics"]
    assert [o.op for o in result.operations] == [operation_name(a["name"]) for a in _in_schema_order(atomics)]
    for atomic in atomics:
        rally = atomic["data"]
        row = result.operation(operation_name(atomic["name"]))
        assert row is not None
        assert (row.submitted, row.succeeded, row.failed) == (
            rally["iteration_count"],
            rally["iteration_count"],
            0,
        )
        assert rally["success"] == "100.0%"
        stats = row.latency_ms
        assert stats.p50 is not None and stats.mean is not None and stats.max is not None
        for ours, theirs in (
            (stats.p50, rally["median"]),
            (stats.mean, rally["avg"]),
            (stats.max, rally["max"]),
        ):
            assert ours / 1000.0 == pytest.approx(theirs, abs=0.0006)


def _in_schema_order(atomics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = ["nova.boot_server", "nova.delete_server", "nova.pause_server", "nova.unpause_server"]
    return sorted(atomics, key=lambda a: order.index(a["name"]))


def test_the_workloads_of_a_report_add_up_into_one_row_per_operation_named_as_the_simulator_names_it() -> (
    None
):
    report = _report("edge")
    infra = load(str(SCENARIO))
    result = rally_result(report, infra)
    assert (result.engine, result.scenario, result.model, result.seed) == (
        "rally",
        "testbed-rally-25ms",
        "centralized",
        1,
    )
    counts = {o.op: (o.submitted, o.succeeded) for o in result.operations}
    # Both workloads boot and delete; only the second pauses and unpauses.
    assert counts == {
        "boot (rally)": (4, 4),
        "delete (rally)": (4, 4),
        "pause (rally)": (2, 2),
        "unpause (rally)": (2, 2),
    }
    assert result.duration_s == pytest.approx(sum(w["load_duration"] for w in workloads(report)))
    # Rally's boot waits 1 s before its first poll and polls every 2 s (wanstack.scenario.rally): no
    # boot it reports is shorter than the pre-poll delay.
    boot = result.operation("boot (rally)")
    assert boot is not None and boot.latency_ms.max is not None
    assert boot.latency_ms.count == 4 and 1000.0 < boot.latency_ms.p50 <= boot.latency_ms.max  # type: ignore[operator]


def test_iterations_that_failed_are_counted_with_why_and_timed_only_when_they_succeeded() -> None:
    result = rally_result(_report("no-host"), load(str(SCENARIO)))
    (boot,) = result.operations  # a boot that failed never reached its delete
    assert (boot.op, boot.submitted, boot.succeeded, boot.failed, boot.timed_out) == (
        "boot (rally)",
        2,
        0,
        2,
        0,
    )
    assert boot.latency_ms.count == 0 and boot.latency_ms.p50 is None
    # One reason for both (novaclient's request id left out).
    assert boot.failure_reasons == {"BadRequest: Compute host nowhere could not be found. (HTTP 400)": 2}


def test_compare_results_sets_rallys_rows_beside_the_simulators(tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    """The simulator's run of the same scenario (`observer: rally`) and Rally's report, side by side."""
    from wanstack.cli import app
    from wanstack.report.files import write_result

    infra = load(str(SCENARIO))
    write_result(rally_result(_report("edge"), infra), tmp_path / "rally")
    simulated = runner.invoke(app, ["run", str(SCENARIO), "--out", str(tmp_path / "sim"), "--format", "json"])
    assert simulated.exit_code == 0, simulated.output
    shown = runner.invoke(
        app,
        [
            "compare-results",
            str(tmp_path / "rally" / "result.json"),
            str(tmp_path / "sim" / "result.json"),
            "--format",
            "json",
        ],
    )
    assert shown.exit_code == 0, shown.output
    operations = json.loads(shown.output)["tables"][0]
    assert operations["title"] == "operations: rally (rally) vs sim (sim)"
    assert [row["operation"] for row in operations["rows"]] == [
        "boot (rally)",
        "delete (rally)",
        "pause (rally)",
        "unpause (rally)",
    ]


def test_rally_is_given_the_testbeds_keystone_administrator_image_flavor_network_and_site() -> None:
    from wanstack.testbed.rally import Workload, spec, task

    found = {
        "top": "central",
        "computes": ["edge-1"],
        "apis": {"central": {"keystone": "http://127.0.1.1:5000"}},
        "resources": {"image": "i", "flavor": "f", "network": "n"},
    }
    cloud = spec(found)["existing@openstack"]
    assert cloud["auth_url"] == "http://127.0.1.1:5000/v3" and cloud["users"] == [cloud["admin"]]
    (subtask,) = task(found, [Workload.PAUSE_AND_UNPAUSE], "edge-1", times=3, concurrency=2)["subtasks"]
    (workload,) = subtask["workloads"]
    assert workload["scenario"] == {
        "NovaServers.pause_and_unpause_server": {
            "image": {"id": "i"},
            "flavor": {"id": "f"},
            "nics": [{"net-id": "n"}],
            "host": "edge-1",
        }
    }
    assert workload["runner"] == {"constant": {"times": 3, "concurrency": 2}}


def test_testbed_rally_without_a_testbed_says_so(tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    from wanstack.cli import app
    from wanstack.testbed import rally

    shown = runner.invoke(app, ["testbed", "rally", "--folder", str(tmp_path / "none")])
    assert shown.exit_code == 2
    expected = "no testbed is up" if rally.available() else rally.MISSING
    assert expected in " ".join(shown.output.split())


@pytest.mark.slow
def test_rally_that_cannot_reach_keystone_fails_saying_so_and_keeps_its_files(tmp_path: Path) -> None:
    """Real Rally (`make rally`) given a Keystone nobody listens on: its database and environment are
    made, its task refused, and the error carries Rally's own last lines."""
    from wanstack.lab.ports import free_port
    from wanstack.testbed.rally import Workload, available, run_task

    if not available():
        pytest.skip("Rally is not installed (`make rally`)")
    found = {
        "root": str(tmp_path),
        "top": "central",
        "computes": ["edge-1"],
        "apis": {"central": {"keystone": f"http://127.0.0.1:{free_port()}"}},
        "resources": {"image": "i", "flavor": "f", "network": "n"},
    }
    with pytest.raises(RuntimeError, match="rally task start failed") as raised:
        run_task(found, [Workload.BOOT_AND_DELETE], "edge-1", times=1)
    assert "platforms are not available: existing@openstack" in str(raised.value)
    folder = tmp_path / "rally"
    assert (folder / "environment.ready").exists() and (folder / "task-1.json").exists()
    assert not (folder / "report-1.json").exists()
    with pytest.raises(ValueError, match="runs no nova-compute"):
        run_task(found, [Workload.BOOT_AND_DELETE], "elsewhere")
