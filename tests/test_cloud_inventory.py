"""The inventory of a real multi-region cloud (`multiregion.cloud_inventory`): every region asked at
once, each given a deadline; a region that does not answer in time is shown as last known or
unreachable, never dropped, and never holds the answer past the deadline. Live counts against a real
Nova are checked in tests/test_testbed.py; here the logic with stand-ins, then a real Keystone whose
regions' compute endpoints refuse or black-hole."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from wanstack.lab.keystone import KeystoneServer, available
from wanstack.lab.openstack_env import ADMIN_PASSWORD
from wanstack.lab.ports import free_port
from wanstack.lab.relay import DelayRelay
from wanstack.multiregion.cloud_inventory import (
    DOWN_CELL,
    NO_HOST,
    Answered,
    CloudInventory,
    Failed,
    Late,
    RegionAnswer,
    answers_from_json,
    count_servers,
    gather,
    inventory,
    rows_of,
    to_json,
)
from wanstack.multiregion.inventory import Counts, Inventory, Source

# Deadlines measured on the wall clock: run alone (scripts/run-tests.sh).
pytestmark = pytest.mark.timing

needs_keystone = pytest.mark.skipif(not available(), reason="OpenStack's environment is not installed")


def test_every_call_is_answered_failed_or_late_within_the_deadline() -> None:
    release = threading.Event()

    def hang() -> int:
        release.wait(30)  # far past the deadline: joining it would make the test take 30 s
        return 0

    def fail() -> int:
        raise ConnectionRefusedError("refused")

    start = time.monotonic()
    try:
        got = gather({"fast": lambda: 7, "refused": fail, "black hole": hang}, deadline_s=0.5)
        elapsed = time.monotonic() - start
    finally:
        release.set()
    assert 0.5 <= elapsed < 0.9, elapsed
    fast, refused, late = got["fast"], got["refused"], got["black hole"]
    assert isinstance(fast, Answered) and fast.value == 7 and fast.elapsed_s < 0.5
    assert isinstance(refused, Failed) and "ConnectionRefusedError: refused" in refused.error
    assert late == Late(0.5)


def test_every_region_answering_returns_at_once() -> None:
    start = time.monotonic()
    got = gather({f"r{i}": (lambda i=i: time.sleep(0.2) or i) for i in range(20)}, deadline_s=5.0)
    # in parallel: twenty calls of 0.2 s take about 0.2 s, not 4 s, and nobody waits for the deadline
    assert time.monotonic() - start < 1.5
    assert [o.value for o in got.values() if isinstance(o, Answered)] == list(range(20))


def _server(
    project: str, az: str | None, vcpus: int, ram: int, *, microversion: str = "2.96", flavor_id: str = "f1"
) -> SimpleNamespace:
    if microversion >= "2.47":
        flavor = SimpleNamespace(id=None, original_name="m1", vcpus=vcpus, ram=ram)
    else:
        flavor = SimpleNamespace(id=flavor_id, original_name=None, vcpus=0, ram=0)
    return SimpleNamespace(
        project_id=project, availability_zone=az, status="ACTIVE", flavor=flavor, microversion=microversion
    )


def test_servers_are_counted_per_project_and_zone_with_their_flavors_size() -> None:
    stub = SimpleNamespace(
        project_id="p2", availability_zone=None, status="UNKNOWN", flavor=None, microversion="2.96"
    )
    servers = [
        _server("p1", "edge-1", 2, 2048),
        _server("p1", "edge-1", 4, 8192),
        _server("p1", None, 1, 512),  # never scheduled (cell0): listed, counted, no zone
        _server("p2", "edge-2", 1, 512),
        stub,
    ]
    answer = count_servers(servers, flavor=lambda _: pytest.fail("the flavor is embedded"))
    assert answer.counts == {
        ("p1", "edge-1"): Counts(2, 6, 10240),
        ("p1", NO_HOST): Counts(1, 1, 512),
        ("p2", "edge-2"): Counts(1, 1, 512),
    }
    assert answer.down_cell == {"p2": 1}
    assert answer.total == Counts(5, 8, 11264)
    # below 2.47 the server names its flavor: looked up (once per region in ask_region's cache)
    looked = []
    old = count_servers(
        [_server("p1", "az", 0, 0, microversion="2.1", flavor_id="big")],
        flavor=lambda fid: looked.append(fid) or SimpleNamespace(vcpus=8, ram=16384),
    )
    assert looked == ["big"] and old.counts == {("p1", "az"): Counts(1, 8, 16384)}


def _answer(region: str, at: float, **counts: Counts) -> RegionAnswer:
    return RegionAnswer(region, at, "all projects", {(p, "nova"): c for p, c in counts.items()})


def test_no_region_is_dropped_and_the_total_is_an_interval() -> None:
    answers = {
        "live": _answer("live", 100.0, p1=Counts(2, 4, 1024), p2=Counts(1, 1, 512)),
        "empty": RegionAnswer("empty", 100.0, "all projects"),
        "cut": _answer("cut", 40.0, p1=Counts(3, 3, 300)),  # answered at 40 s, not now
        "cells": RegionAnswer("cells", 100.0, "all projects", {("p1", "nova"): Counts(1, 1, 1)}, {"p1": 2}),
    }
    why = {"cut": "no answer within 3 s", "never": "ConnectFailure: refused"}
    regions = ["live", "empty", "cut", "never", "cells"]
    rows = rows_of(regions, answers, why, now_s=101.0, bounds={})
    assert [r.region for r in rows] == ["live", "live", "empty", "cut", "never", "cells", "cells"]
    by = {(r.region, r.project, r.site): r for r in rows}
    assert by["live", "p1", "nova"].source is Source.LIVE and by["live", "p1", "nova"].as_of_s == 100.0
    assert by["empty", "", ""].source is Source.LIVE and by["empty", "", ""].counts == Counts()
    cut = by["cut", "", ""]
    assert (cut.source, cut.as_of_s, cut.counts, cut.low, cut.upper) == (
        Source.LAST_KNOWN,
        40.0,
        Counts(3, 3, 300),
        Counts(),
        None,
    )
    never = by["never", "", ""]
    assert (never.source, never.counts, never.upper) == (Source.UNREACHABLE, None, None)
    down = by["cells", "p1", DOWN_CELL]
    assert (down.source, down.low, down.upper) == (Source.UNREACHABLE, Counts(2), None)
    inv = Inventory(101.0, tuple(rows))
    assert inv.low == Counts(3 + 1 + 2, 5 + 1, 1536 + 1) and inv.high is None and not inv.exact
    with pytest.raises(ValueError, match="no upper bound"):
        _ = cut.high
    # With a bound for each region that does not answer, the total has a top.
    bounded = rows_of(["live", "cut"], answers, why, now_s=101.0, bounds={"cut": Counts(10, 20, 4096)})
    assert Inventory(101.0, tuple(bounded)).high == Counts(13, 25, 5632)


def test_rows_written_as_json_give_the_last_known_counts_next_time() -> None:
    answers = {"a": _answer("a", 50.0, p1=Counts(2, 2, 128)), "b": _answer("b", 50.0, p1=Counts(1, 1, 64))}
    first = CloudInventory(
        Inventory(50.0, tuple(rows_of(["a", "b"], answers, {}, now_s=50.0, bounds={}))), answers, {}, 3.0, 0.1
    )
    rows = json.loads(json.dumps(to_json(first)))
    assert {k for k in rows[0]} >= {
        "region",
        "site",
        "source",
        "as_of_s",
        "instances",
        "vcpus_high",
        "ram_mb",
    }
    earlier = answers_from_json(rows)
    later = rows_of(
        ["a", "b"], {**earlier, "a": _answer("a", 90.0)}, {"b": "no answer within 3 s"}, now_s=90.0, bounds={}
    )
    b = next(r for r in later if r.region == "b")
    assert (b.source, b.as_of_s, b.counts) == (Source.LAST_KNOWN, 50.0, Counts(1, 1, 64))
    # already last known in the file: carried on as that region's total then
    again = answers_from_json(
        to_json(CloudInventory(Inventory(90.0, tuple(later)), earlier, {"b": "x"}, 3.0, 0.1))
    )
    assert again["b"].at_s == 50.0 and again["b"].total == Counts(1, 1, 64)


# --- a real Keystone whose regions do not answer ----------------------------------------------------
@pytest.fixture(scope="module")
def keystone() -> Any:
    with KeystoneServer() as server:
        yield server


def _auth(keystone: KeystoneServer) -> dict[str, Any]:
    return {
        "auth_url": f"{keystone.url}/v3",
        "username": "admin",
        "password": ADMIN_PASSWORD,
        "project_name": "admin",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
        "region_name": "RegionOne",
    }


@needs_keystone
def test_a_refused_and_a_black_holed_region_within_the_deadline(
    keystone: KeystoneServer, tmp_path: Path, runner, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """RegionOne's compute endpoint refuses at once; RegionTwo's is a cut link holding every new
    connection (no answer ever comes until it is restored, long after the test). The answer comes
    within the deadline, names both, drops neither, and has no upper bound."""
    from wanstack.cli import app

    conn: Any = keystone.connect()
    conn.identity.create_region(id="RegionTwo")
    conn.identity.create_region(id="RegionThree")  # no compute endpoint: not asked by default
    service = conn.identity.create_service(name="nova", type="compute")
    hole = DelayRelay(free_port(), hold_new=True).start()  # relays to a port nobody listens on
    hole.cut()
    try:
        for region, port in (("RegionOne", free_port()), ("RegionTwo", hole.port)):
            conn.identity.create_endpoint(
                service_id=service.id,
                interface="public",
                url=f"http://127.0.0.1:{port}/v2.1",
                region_id=region,
            )
        start = time.monotonic()
        result = inventory(_auth(keystone), deadline_s=2.0)
        elapsed = time.monotonic() - start
        # Keystone's token and catalog, then 2 s at most; a joined black hole would take 60 s
        assert elapsed < 4.0, elapsed
        rows = {r.region: r for r in result.inventory.rows}
        assert list(rows) == ["RegionOne", "RegionTwo"]
        assert all(r.source is Source.UNREACHABLE and r.counts is None for r in rows.values())
        assert result.why["RegionTwo"] == "no answer within 2 s"
        assert "RegionOne" in result.why and "within" not in result.why["RegionOne"]  # refused, at once
        assert result.inventory.high is None and result.inventory.low == Counts()
        # an earlier answer makes the black-holed region last known, as of then
        earlier = {
            "RegionTwo": RegionAnswer("RegionTwo", 1.0e9, "all projects", {("p", "nova"): Counts(4, 8, 256)})
        }
        again = inventory(
            _auth(keystone), regions=["RegionTwo", "RegionThree"], deadline_s=1.0, previous=earlier
        )
        two, three = again.inventory.rows
        assert (two.source, two.as_of_s, two.counts) == (Source.LAST_KNOWN, 1.0e9, Counts(4, 8, 256))
        assert three.source is Source.UNREACHABLE and "compute" in again.why["RegionThree"].lower()

        # The command line: the same, as a table, a total and JSON rows.
        clouds = tmp_path / "clouds.yaml"
        auth = "".join(f"      {k}: {v}\n" for k, v in _auth(keystone).items() if k != "region_name")
        clouds.write_text(f"clouds:\n  here:\n    auth:\n{auth}    region_name: RegionOne\n")
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
        out = tmp_path / "inv.json"
        start = time.monotonic()
        shown = runner.invoke(app, ["inventory", "--cloud", "here", "--deadline", "1.5", "--out", str(out)])
        assert time.monotonic() - start < 4.0
        assert shown.exit_code == 0, shown.output
        text = " ".join(shown.output.split())
        assert "between 0 and ? instances (0 as last counted)" in text
        assert "RegionTwo/* (no answer within 1.5 s)" in text and "RegionOne/* (" in text
        written = json.loads((out / "inventory.json").read_text())
        assert [(r["region"], r["source"], r["instances_high"]) for r in written] == [
            ("RegionOne", "unreachable", None),
            ("RegionTwo", "unreachable", None),
        ]
        both = runner.invoke(app, ["inventory", "default", "--cloud", "here"])
        assert both.exit_code == 2

        # quota apply reads each region's usage first: unknown in a region, it refuses to re-plan
        scenario = tmp_path / "q.yaml"
        scenario.write_text(
            "generate: {kind: star, edges: 1, delay_ms: 10}\n"
            "quotas:\n  projects: [{name: admin, limits: {instances: 9}}]\n"
        )
        start = time.monotonic()
        refused = runner.invoke(
            app,
            [
                "quota",
                "apply",
                str(scenario),
                "--cloud",
                "here",
                "--regions",
                "RegionTwo,RegionThree",
                "--deadline",
                "1",
            ],
        )
        assert time.monotonic() - start < 4.0
        assert refused.exit_code == 1, refused.output
        assert "RegionTwo (no answer within 1 s)" in " ".join(refused.output.split())
        assert not list(conn.identity.limits())  # nothing written
    finally:
        hole.stop()
