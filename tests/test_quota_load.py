"""The quota service under load (`quotabench/load.py`, the core of `benchmarks/quota_load.py --quick`):
50 clients at once, each on a keep-alive connection of its own, at two regions behind relays with a real
Keystone, against a limit of 5 servers; then the same with a region killed (kill -9) and started again in
the middle. The limit holds in the regions' databases, no request gets a 5xx, and no claim a client saw
granted is lost or counted twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wanstack.lab.keystone import KeystoneServer, available
from wanstack.quotabench.load import REGIONS, LoadBench
from wanstack.quotabench.sites import prepare

pytestmark = [
    pytest.mark.skipif(not available(), reason="OpenStack's environment is not installed"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def keystone() -> Iterator[KeystoneServer]:
    with KeystoneServer() as server:
        yield server


def test_fifty_clients_at_two_regions_hold_the_limit_through_a_region_killed(
    keystone: KeystoneServer,
) -> None:
    bench = LoadBench(
        clients=50,
        limit=5,
        duration_s=4.0,
        down_s=1.5,
        rebalance_s=0.5,
        runs=("two regions", "region killed"),
    )
    results = bench.run(keystone, prepare(keystone, REGIONS), log=lambda _: None)
    for name, got in results.items():
        # Contention happened: claims were both granted and refused.
        assert got["granted"] >= bench.limit and got["refused"] > got["granted"], (name, got)
        assert got["over-commit"] == 0 and got["peak held"] <= bench.limit, (name, got)
        assert got["server errors"] == 0 and got["unanswered"] == 0 and got["other"] == 0, (name, got)
        assert got["lost"] == got["counted twice"] == got["wrong claim"] == 0, (name, got)
        assert got["held for nobody"] == got["release lost"] == got["held at the end"] == 0, (name, got)
        assert got["pool + granted = limit"] and got["reported usage = databases"], (name, got)
    calm, killed = results["two regions"], results["region killed"]
    assert calm["connection errors"] == 0 and calm["retried claims"] == 0, calm
    # Keep-alive: a connection per client, not one per request (cheroot's default closed most).
    assert calm["connections"] < 2 * bench.clients < calm["claims"], calm
    # The kill was seen (connections refused or reset while edge-1 was down), and only then.
    assert killed["connection errors"] == killed["connection errors during faults"] > 0, killed


def test_the_peak_from_the_databases_counts_what_was_held_when_the_run_began() -> None:
    from wanstack.quotabench.runs import ClaimRow, peak_since

    rows = [
        ClaimRow("edge-1", "a", "k1", 2, created_at=1.0, released_at=12.0),  # held across the start
        ClaimRow("edge-1", "b", "k2", 5, created_at=2.0, released_at=3.0),  # over before the start
        ClaimRow("edge-2", "c", "k3", 1, created_at=11.0, released_at=None),
        ClaimRow("edge-2", "d", None, 1, created_at=12.0, released_at=13.0),  # a release first at 12.0
    ]
    assert peak_since(rows, since=10.0) == 3
    assert peak_since(rows, since=0.0) == 7
