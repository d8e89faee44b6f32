"""What keeps a million hosts cheap changes no figure: paths from a Dijkstra that stops at its target,
periodic tasks sharing one event, fluid batches crossing in one step, the count of sites down in one
pass; and a periodic report costs its handler's own time (issue 38)."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wanstack.scenario.load import parse
from wanstack.sim import background as background_module
from wanstack.sim import network as network_module
from wanstack.sim.background import Liveness
from wanstack.sim.chain import ChainRunner
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sim.kernel import Periodic, Simulator
from wanstack.sim.network import Network
from wanstack.sim.params import REPORT_MS, Params
from wanstack.topology import Topology, WanLink


def random_topology(seed: int, sites: int) -> Topology:
    """A connected mesh with small integer delays, so many paths tie."""
    rng = random.Random(seed)
    names = [f"s{i}" for i in range(sites)]
    pairs = {(names[i], names[rng.randrange(i)]) for i in range(1, sites)}  # a spanning tree
    pairs |= {tuple(rng.sample(names, 2)) for _ in range(sites)}  # type: ignore[misc]
    seen: set[frozenset[str]] = set()
    links = []
    for a, b in sorted(pairs):
        if frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        d = float(rng.randint(1, 3))
        links.append(WanLink(a, b, d, float(rng.randint(1, 3)), 0.0, 1000.0, 0.0))
    return Topology(names, links)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), sites=st.integers(3, 25))
def test_a_path_from_a_stopped_dijkstra_is_the_whole_trees(seed: int, sites: int) -> None:
    topo = random_topology(seed, sites)
    pairs = list(itertools.permutations(topo.sites, 2))
    random.Random(seed).shuffle(pairs)

    def paths(kept_after: int) -> list[list[str] | None]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(network_module, "TREE_KEPT_AFTER", kept_after)
            net = Network(Simulator(seed=1), topo, lan_delay_ms=0.05)
            return [net.path(a, b) for a, b in pairs]

    assert paths(10**9) == paths(1)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), sites=st.integers(2, 30), cuts=st.integers(0, 3))
def test_a_path_on_a_tree_backbone_is_the_dijkstra_runs(seed: int, sites: int, cuts: int) -> None:
    """A hierarchy without cross links: its one path between two sites, climbed to their common
    ancestor, is what Dijkstra finds, with links and sites down (then none)."""
    rng = random.Random(seed)
    names = [f"s{i}" for i in range(sites)]
    links = [
        WanLink(names[rng.randrange(i)], names[i], float(rng.randint(1, 3)), 1.0, 0.0, 1000.0, 0.0)
        for i in range(1, sites)
    ]
    topo = Topology(names, links)

    def paths(tree: bool) -> list[list[str] | None]:
        net = Network(Simulator(seed=1), topo, lan_delay_ms=0.05)
        assert net._tree is not None
        if not tree:
            net._tree = None
        cut = random.Random(seed)
        for _ in range(cuts):
            if cut.random() < 0.5:
                link = cut.choice(links)
                net.set_link(link.a, link.b, False)
            else:
                net.set_site(cut.choice(names), False)
        return [net.path(a, b) for a, b in itertools.permutations(names, 2)]

    assert paths(tree=True) == paths(tree=False)


def test_a_mesh_backbone_is_routed_by_dijkstra() -> None:
    assert Network(Simulator(seed=1), random_topology(3, 12), lan_delay_ms=0.05)._tree is None


@settings(max_examples=60, deadline=None)
@given(
    firsts=st.lists(st.integers(0, 9), min_size=1, max_size=12),
    others=st.lists(st.integers(0, 60), max_size=12),
)
def test_periodic_tasks_run_when_and_in_the_order_tasks_rescheduling_themselves_would(
    firsts: list[int], others: list[int]
) -> None:
    """Integer times, so tasks tie with each other and with other events (as an RPC timeout of 60 s
    ties with a 60 s periodic task)."""
    period, until = 10.0, 60.0

    def order(shared: bool) -> list[tuple[float, str]]:
        sim = Simulator(seed=1)
        seen: list[tuple[float, str]] = []

        def task(name: str) -> None:
            seen.append((sim.now, name))

        def itself(name: str) -> None:
            sim.after(period, itself, name)
            task(name)

        def other(name: str) -> None:
            seen.append((sim.now, name))
            sim.after(period / 2, lambda _: seen.append((sim.now, name + "'")))

        if shared:
            tasks = [(float(t), next(sim.seq), f"t{i}") for i, t in enumerate(firsts)]
            Periodic(sim, period, task, tasks)
        else:
            for i, t in enumerate(firsts):
                sim.after(float(t), itself, f"t{i}")
        for j, t in enumerate(others):
            sim.at(float(t), other, f"o{j}")
        sim.run(until)
        return seen

    assert order(shared=True) == order(shared=False)


FLUID = """
name: fluid
generate: {{kind: star, edges: 6, delay_ms: 15, hosts: {{count: 1200}}, center_hosts: {{count: 100}}}}
model: {model}
workload:
  operations:
    - {{op: boot, times: 20, concurrency: 2, start_s: 5}}
    - {{op: boot, times: 10, concurrency: 2, sites: [edge-1], start_s: 150}}
faults:
  - {{at_s: 120, action: cut-link, link: [central, edge-1]}}
  - {{at_s: 200, action: restore-link, link: [central, edge-1]}}
  - {{at_s: 260, action: broker-down, site: central}}
  - {{at_s: 290, action: broker-up, site: central}}
run: {{duration_s: 400, seed: 5}}
"""


@pytest.mark.parametrize("model", ["centralized", "cells-shared"])
def test_fluid_batches_in_one_step_change_no_figure(model: str, monkeypatch: Any) -> None:
    """With and without the one-step crossing (`sim.glide`), under cuts and a broker loss: the same
    operations, latencies, outages, station jobs and bytes per link (those of batches still on their
    way at the end aside: one step counts them when they leave)."""
    infra = parse(FLUID.format(model=model), "fluid.yaml")
    glided = simulate(infra, SimOptions(fluid_background=True))
    monkeypatch.setattr(ChainRunner, "glide", lambda *_: False)
    monkeypatch.setattr(background_module.Background, "_glided", lambda *_: False)
    hopped = simulate(infra, SimOptions(fluid_background=True))
    assert glided.events is not None and hopped.events is not None and glided.events < 0.9 * hopped.events
    assert glided.operations == hopped.operations
    assert glided.samples == hopped.samples
    assert glided.outages == hopped.outages
    for g, h in zip(glided.stations, hopped.stations, strict=True):
        assert (g.kind, g.site) == (h.kind, h.site)
        assert g.jobs == pytest.approx(h.jobs, rel=0.002)
        assert g.utilisation == pytest.approx(h.utilisation, rel=1e-9)
    for g_link, h_link in zip(glided.links, hopped.links, strict=True):
        assert g_link.bytes_ab == pytest.approx(h_link.bytes_ab, rel=0.002)
        assert g_link.bytes_ba == pytest.approx(h_link.bytes_ba, rel=0.002)


def test_a_periodic_report_costs_its_handler_not_a_boot_request() -> None:
    """Every host on its own, no operation: the conductor's busy time is its reports' handlers
    (REPORT_MS each: nova-compute's every 10 s, the resource tracker's three calls every 60 s), not as
    many boot requests (its measured service time, several times longer)."""
    text = """
name: reports
generate: {kind: star, edges: 2, delay_ms: 5, hosts: {count: 20}, center_hosts: {count: 10}}
model: centralized
run: {duration_s: 600, seed: 2}
"""
    result = simulate(parse(text, "r.yaml"), SimOptions(fluid_background=False))
    conductor = next(s for s in result.stations if s.kind == "nova-conductor")
    params = Params()
    assert params.stations["nova-conductor"].service_ms > 2 * REPORT_MS
    hosts, duration_s = 50, 600
    calls = hosts * duration_s * (1 / 10 + 3 / 60)
    assert conductor.jobs == pytest.approx(calls, rel=0.03)
    busy_ms = conductor.utilisation * conductor.workers * duration_s * 1000
    assert busy_ms == pytest.approx(conductor.jobs * REPORT_MS, rel=0.01)


@settings(max_examples=60, deadline=None)
@given(
    last=st.dictionaries(st.sampled_from([f"s{i}" for i in range(12)]), st.floats(0, 500)),
    silent=st.integers(0, 5),
    now=st.floats(0, 600),
)
def test_sites_down_in_one_pass_counts_what_compute_up_says_site_by_site(
    last: dict[str, float], silent: int, now: float
) -> None:
    live = Liveness(down_ms=60.0, neutron_down_ms=75.0, enabled=True)
    live.site_last_ok.update(last)
    hosted = [*last, *(f"quiet{i}" for i in range(silent))]
    assert live.sites_down(len(hosted), now) == sum(1 for s in hosted if not live.compute_up(s, now))
