"""`compare`'s verdict (issue 37): per run what a user decides on — latencies, what still works under
each fault in words, WAN bytes per operation, the busiest station's headroom — ranked, with the Pareto
front marked; as data (API, `--format json`) and as the last table printed, readable at 80 columns."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import wanstack
from wanstack.cli import app
from wanstack.results.schema import (
    FaultImpact,
    LatencyStats,
    OperationResult,
    Outage,
    RunResult,
    Samples,
    SlaCheck,
    StationStats,
)
from wanstack.results.verdict import dominates, pareto_front, verdict
from wanstack.scenario.deployment import library


def _op(op: str, p95: float, submitted: int = 10, failed: int = 0, wan: float = 1000.0) -> OperationResult:
    return OperationResult(
        op=op,
        submitted=submitted,
        succeeded=submitted - failed,
        failed=failed,
        timed_out=0,
        latency_ms=LatencyStats(count=submitted - failed, p50=p95 * 0.9, p95=p95),
        wan_bytes_per_op=wan,
    )


def _result(
    model: str,
    boot_p95: float,
    delete_p95: float,
    *,
    wan: float = 1000.0,
    samples: Samples | None = None,
    faults: list[FaultImpact] | None = None,
    outages: list[Outage] | None = None,
    sla: list[SlaCheck] | None = None,
) -> RunResult:
    return RunResult(
        engine="sim",
        scenario="hand-made",
        model=model,
        rpc_backend="broker",
        notification_backend="broker",
        seed=1,
        duration_s=1800.0,
        operations=[_op("boot", boot_p95, wan=wan), _op("delete", delete_p95, wan=wan)],
        stations=[
            StationStats(
                kind="nova-conductor",
                site="central",
                workers=1,
                service_ms=1.0,
                jobs=10,
                utilisation=0.25,
                mean_queue=0.0,
                max_queue=1,
            )
        ],
        faults=faults or [],
        outages=outages or [],
        samples=samples,
        sla=sla or [],
        totals={"wan_bytes": wan * 20, "wan_bytes_background": 0.0},
    )


CUT = FaultImpact(fault="cut-link central–edge-01", start_s=1200.0, end_s=1500.0, isolated_sites=["edge-01"])


def _cut_samples(outcomes_during: list[str], outcomes_after: list[str]) -> Samples:
    """Boots at edge-01: some started during the cut (1300 s on), some right after it (1505 s on),
    and one at edge-02 long before it."""
    starts = [1300.0 + i for i in range(len(outcomes_during))] + [
        1505.0 + i for i in range(len(outcomes_after))
    ]
    n = len(starts)
    return Samples(
        op=["boot"] * (n + 1),
        site=["edge-01"] * n + ["edge-02"],
        start_s=[*starts, 10.0],
        latency_ms=[500.0] * (n + 1),
        outcome=[*outcomes_during, *outcomes_after, "ok"],
    )


# --- the Pareto front and the ranking, on hand-made figures ---


def test_the_pareto_front_of_a_hand_made_example() -> None:
    points = [
        (1.0, 5.0, 0.0),  # best on the first axis
        (2.0, 2.0, 0.0),  # a compromise nobody beats everywhere
        (2.0, 3.0, 0.0),  # dominated by the one above (worse on one axis, equal on the others)
        (5.0, 1.0, 1.0),  # best on the second axis, worst on the third
        (5.0, 5.0, 1.0),  # dominated by all of the first, second and fourth
        (2.0, 2.0, 0.0),  # equal to the second: neither dominates the other
    ]
    assert pareto_front(points) == [True, True, False, True, False, True]
    assert dominates((2.0, 2.0, 0.0), (2.0, 3.0, 0.0))
    assert not dominates((2.0, 2.0, 0.0), (2.0, 2.0, 0.0))


axis = st.floats(min_value=0, max_value=100, allow_nan=False) | st.just(float("inf"))


@given(st.lists(st.tuples(axis, axis, axis, axis), min_size=1, max_size=12))
def test_the_front_is_exactly_the_undominated_points(points: list[tuple[float, ...]]) -> None:
    front = pareto_front(points)
    for i, p in enumerate(points):
        beaten = any(dominates(q, p) for q in points)
        assert front[i] is (not beaten)
    assert any(front)  # a finite set always has an undominated point


def test_the_default_ranking_puts_surviving_the_fault_first_then_boot_then_delete() -> None:
    broke = _result(
        "fast-but-breaks",
        1000.0,
        100.0,
        faults=[CUT],
        samples=_cut_samples(["failed"], ["failed"]),
    )
    slow = _result("slow-and-sure", 3000.0, 200.0, faults=[CUT], samples=_cut_samples(["ok"], ["ok"]))
    quick = _result("quick-and-sure", 2000.0, 300.0, faults=[CUT], samples=_cut_samples(["ok"], ["ok"]))
    tie = _result(
        "same-boot-slower-delete", 2000.0, 400.0, faults=[CUT], samples=_cut_samples(["ok"], ["ok"])
    )
    v = verdict([broke, slow, quick, tie])
    assert [r.model for r in v.rows] == [
        "quick-and-sure",
        "same-boot-slower-delete",
        "slow-and-sure",
        "fast-but-breaks",
    ]
    assert [r.rank for r in v.rows] == [1, 2, 3, 4]
    assert "fail" in v.ranked_by and "boot p95" in v.ranked_by
    pareto = {r.model: r.pareto for r in v.rows}
    # fast-but-breaks is the fastest (undominated); tie is beaten by quick on delete, slow is not beaten.
    assert pareto == {
        "quick-and-sure": True,
        "same-boot-slower-delete": False,
        "slow-and-sure": True,
        "fast-but-breaks": True,
    }
    # Without an outage the boot after the cut is not the cut's: one failure under it.
    assert v.rows[-1].failed_under_faults == 1 and v.rows[0].failed_under_faults == 0


def test_a_scenario_sla_ranks_first() -> None:
    fails = [SlaCheck(op="boot", criterion="p95_s", limit=1.5, value=2.0, passed=False)]
    passes = [SlaCheck(op="boot", criterion="p95_s", limit=5.0, value=3.0, passed=True)]
    fast = _result("fast", 2000.0, 100.0, sla=fails)
    slow = _result("slow", 3000.0, 100.0, sla=passes)
    v = verdict([fast, slow])
    assert [r.model for r in v.rows] == ["slow", "fast"]
    assert "sla" in v.ranked_by
    assert [r.sla_failed for r in v.rows] == [0, 1]


def test_failures_right_after_a_cut_are_told_and_explained() -> None:
    """nova-compute is seen down until it reports again after the link returns: boots there fail for
    a while after the cut, and the words say so and why."""
    down = Outage(site="edge-01", service="nova-compute", hosts=10, down_at_s=1251.0, up_at_s=1525.0)
    r = _result(
        "centralized",
        1000.0,
        100.0,
        faults=[CUT],
        outages=[down],
        samples=_cut_samples(["failed"], ["failed"] * 3),
    )
    (row,) = verdict([r]).rows
    (fault,) = row.faults
    assert (fault.ok_there, fault.failed_there, fault.failed_after) == (0, 4, 3)
    assert fault.back_after_s == pytest.approx(25.0)
    assert "fail during the cut and for 25 s after it" in fault.there
    assert "nova-compute" in fault.there and "edge-01" in fault.there
    assert "nothing" in fault.elsewhere  # no operation elsewhere during it
    ok = _result("region-per-site", 1000.0, 100.0, faults=[CUT], samples=_cut_samples(["ok"] * 3, []))
    (fault,) = verdict([ok]).rows[0].faults
    assert fault.there == "at edge-01 boots: 3 work" and fault.ok_there == 3


def test_an_operation_held_until_the_cut_ends_did_not_work_during_it() -> None:
    """A boot asked during the cut that finishes only once the link is back waited, it did not work:
    said so, and it ranks below one that worked."""
    held = Samples(op=["boot"], site=["edge-01"], start_s=[1300.0], latency_ms=[208_000.0], outcome=["ok"])
    waits = _result("waits", 1000.0, 100.0, faults=[CUT], samples=held)
    works = _result("works", 2000.0, 100.0, faults=[CUT], samples=_cut_samples(["ok"], []))
    v = verdict([waits, works])
    assert [r.model for r in v.rows] == ["works", "waits"]
    (fault,) = v.rows[1].faults
    assert (fault.ok_there, fault.waited_there) == (0, 1)
    assert "1 waits for the cut to end (up to 208 s)" in fault.there and "work" not in fault.there


def test_wan_bytes_per_operation_and_headroom() -> None:
    (row,) = verdict([_result("m", 1000.0, 100.0, wan=500.0)]).rows
    assert row.wan_bytes_per_op == pytest.approx(500.0 * 20 / 20)  # foreground WAN bytes / successes
    assert row.headroom == pytest.approx(0.75) and row.busiest_station == "nova-conductor @ central"


# --- through the API and the command line ---

CUT_SCENARIO = """
generate: {kind: star, edges: 2, delay_ms: 20, hosts: {count: 2}, center_hosts: {count: 1}}
model: centralized
workload:
  operations:
    - {op: boot, times: 4, concurrency: 1}
    - {op: delete, times: 4, concurrency: 1, start_s: 100}
    - {op: boot, times: 3, concurrency: 1, sites: [edge-1], start_s: 250}
faults:
  - {at_s: 200, action: cut-link, link: [central, edge-1]}
  - {at_s: 400, action: restore-link, link: [central, edge-1]}
run: {duration_s: 600, seed: 1}
"""


@pytest.fixture
def cut(tmp_path: Path) -> str:
    path = tmp_path / "cut.yaml"
    path.write_text(CUT_SCENARIO, encoding="utf-8")
    return str(path)


def test_the_api_result_has_the_verdict(cut: str) -> None:
    runs = wanstack.compare(cut, ["centralized", "region-per-site"], processes=1)
    v = runs.verdict
    assert sorted(r.rank for r in v.rows) == [1, 2]
    assert {r.model for r in v.rows} == {"centralized", "region-per-site"}
    assert v.rows[0].model == "region-per-site"  # boots at the cut-off site work there
    assert all(r.faults and r.faults[0].there for r in v.rows)


def test_the_json_has_the_verdict(runner: CliRunner, cut: str) -> None:
    result = runner.invoke(
        app,
        ["compare", cut, "--models", "centralized,region-per-site", "--processes", "1", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["model"] for r in data["runs"]] == ["centralized", "region-per-site"]
    rows = data["verdict"]["rows"]
    assert [r["rank"] for r in rows] == [1, 2] and {"pareto", "faults", "headroom"} <= set(rows[0])


def test_wide_shows_every_column_and_the_page_the_verdict(
    runner: CliRunner, cut: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wanstack.cli import output

    monkeypatch.setattr(output.console, "width", 120)  # a terminal too narrow for every column
    args = ["compare", cut, "--models", "centralized,region-per-site", "--processes", "1"]
    page = tmp_path / "compare.html"
    narrow = runner.invoke(app, [*args, "--html", str(page)])
    wide = runner.invoke(app, [*args, "--wide"])
    assert narrow.exit_code == 0 and wide.exit_code == 0, (narrow.output, wide.output)

    def header(out: str) -> str:
        return "".join(line for line in out.splitlines() if line.startswith("┃"))

    assert "busiest station" not in header(narrow.stdout) and "--wide adds: busiest station" in narrow.stdout
    assert "busiest station" in header(wide.stdout) and "--wide adds" not in wide.stdout
    html = page.read_text(encoding="utf-8")
    assert html.index("Verdict") < html.index("Operations") and "region-per-site" in html


@pytest.fixture(scope="module")
def compare_80() -> str:
    env = {
        **os.environ,
        "COLUMNS": "80",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["wanstack", "compare", "default"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_compare_at_80_columns_cuts_nothing(compare_80: str) -> None:
    assert "…" not in compare_80
    assert max(len(line) for line in compare_80.splitlines()) <= 80
    words = set(re.findall(r"[\w.-]+", compare_80))
    for model in library():
        assert model in words, model


@pytest.mark.slow
def test_compare_ends_with_the_ranking(compare_80: str) -> None:
    last = compare_80[compare_80.rindex("Verdict") :]
    ranks = [int(m) for m in re.findall(r"^│\s*(\d+)★?\s*│\s*[a-z]", last, re.M)]
    assert ranks == list(range(1, len(library()) + 1)), last
    assert "★" in last  # the Pareto front is marked
