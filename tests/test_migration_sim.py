"""Migration plans inside the simulator: one move alone follows the cost model; moves and the
workload's image downloads share the backbone, so each slows the other."""

from __future__ import annotations

import pytest

from wanstack.migration.cost import Guest, Path, live_migration
from wanstack.migration.fleet import Fleet, SiteCapacity, Vm
from wanstack.migration.planner import Planning, evacuate
from wanstack.migration.routes import route
from wanstack.migration.settings import MigrationSettings
from wanstack.scenario.load import parse
from wanstack.sim.migrations import simulate_plan


def one_vm_fleet(infra_sites: list[str], guest: Guest, site: str) -> Fleet:
    vm = Vm("vm", site, 0, "custom", guest, 2)
    sites = {name: SiteCapacity(name, 1e9, 10_000) for name in infra_sites}
    sites[site].take(vm)
    return Fleet([vm], sites)


@pytest.mark.parametrize("dirty", [0.0, 20.0, 60.0])
def test_a_lone_migration_takes_what_the_cost_model_says(dirty: float) -> None:
    infra = parse(
        "generate: {kind: star, edges: 1, delay_ms: 10}\nworkload: {operations: []}\n",
        "one.yaml",
    )
    guest = Guest(4096, dirty, working_set_mb=800)
    fleet = one_vm_fleet(list(infra.sites), guest, "edge-1")
    plan = evacuate(infra, fleet, "edge-1", Planning(solver="greedy"), destinations=["central"])
    (move,) = plan.moves
    run = simulate_plan(infra, plan, fleet.by_id(), workload=False)
    (sim,) = run.moved
    settings = MigrationSettings()
    r = route(infra, "edge-1", "central", settings)
    assert r is not None
    model = live_migration(guest, Path(r.bandwidth_mbps, r.rtt_ms), settings)
    assert move.cost == model
    # The simulator's rounds pay a round trip each (request, last byte) that the closed form does not.
    assert sim.total_s == pytest.approx(model.total_s, rel=0.05)
    assert sim.wan_bytes == pytest.approx(model.wan_bytes, rel=0.05)
    assert sim.rounds == pytest.approx(model.rounds, abs=1)
    assert sim.downtime_ms == pytest.approx(model.downtime_ms, rel=0.5)


def test_migrations_and_boots_slow_each_other_on_a_shared_link() -> None:
    """Centralized model: images come from the central site; evacuating the central site's VMs to
    edge-1 sends them down the same link, in the same direction, as edge-1's image downloads."""
    text = """
generate:
  {kind: star, edges: 2, delay_ms: 5, hosts: {count: 4}, center_hosts: {count: 4}}
model: centralized
workload:
  images: [{name: big, size_mb: 2000}]
  operations:
    - {op: boot, times: 20, concurrency: 4, image: big, sites: [edge-1]}
run: {duration_s: 900, seed: 3}
"""
    infra = parse(text, "shared.yaml")
    guests = [Guest(8192, 5.0, working_set_mb=500) for _ in range(8)]
    vms = [Vm(f"vm{i}", "central", i % 4, "custom", g, 2) for i, g in enumerate(guests)]
    sites = {name: SiteCapacity(name, 1e9, 10_000) for name in infra.sites}
    for vm in vms:
        sites["central"].take(vm)
    fleet = Fleet(vms, sites)
    plan = evacuate(infra, fleet, "central", Planning(solver="greedy"), destinations=["edge-1"])
    together = simulate_plan(infra, plan, fleet.by_id(), duration_s=900, baseline=True)
    alone = simulate_plan(infra, plan, fleet.by_id(), duration_s=900, workload=False)
    assert together.baseline is not None
    boots = {op.op: op for op in together.result.operations}["boot"]
    unhindered = {op.op: op for op in together.baseline.operations}["boot"]
    assert boots.latency_ms is not None and unhindered.latency_ms is not None
    # Only the boots that download the image (the first on each host; libvirt caches it) are slowed.
    assert boots.latency_ms.mean > 1.1 * unhindered.latency_ms.mean
    assert boots.latency_ms.max > 1.1 * unhindered.latency_ms.max
    assert together.makespan_s > 1.1 * alone.makespan_s
    assert len(together.moved) == len(alone.moved) == len(vms)


def test_messages_wait_behind_bulk_flows_that_fill_a_link() -> None:
    """A bulk flow filling central → edge-1 adds the standing queue (`Params.bulk_queue_ms`) to
    messages that way only, and only while it runs."""
    from wanstack.sim.engine import Engine

    infra = parse("generate: {kind: star, edges: 1, delay_ms: 5}\nworkload: {operations: []}\n", "q.yaml")
    engine = Engine(infra)
    net, sim = engine.net, engine.sim
    quiet = (net.delay("central", "edge-1", 100), net.delay("edge-1", "central", 100))
    done: list[float] = []
    engine.flows.start("central", "edge-1", 1e9, lambda _: done.append(sim.now), lambda _: None)
    sim.run(100.0)  # admitted after one RTT
    loaded = (net.delay("central", "edge-1", 100), net.delay("edge-1", "central", 100))
    assert loaded[0] == pytest.approx(quiet[0] + engine.params.bulk_queue_ms)
    assert loaded[1] == pytest.approx(quiet[1])
    sim.run(60_000.0)
    assert done and net.delay("central", "edge-1", 100) == pytest.approx(quiet[0])
