from __future__ import annotations

import networkx as nx
import pytest

from wanstack.scenario.enos import expand_group
from wanstack.scenario.generators import hierarchy, random_geometric, star
from wanstack.scenario.infrastructure import (
    HierarchyGenerator,
    RandomGeometricGenerator,
    StarGenerator,
    Tier,
)
from wanstack.scenario.load import parse


def test_star() -> None:
    sites, links = star(StarGenerator(kind="star", edges=12, delay_ms=7))
    assert len(sites) == 13 and len(links) == 12
    assert {link.a for link in links} == {"central"}
    assert all(link.delay_ms == 7 for link in links)


def test_hierarchy_counts_and_parents() -> None:
    sites, links = hierarchy(
        HierarchyGenerator(kind="hierarchy", regional=2, edge_per_regional=3, far_edge_per_edge=4)
    )
    assert len(sites) == 1 + 2 + 6 + 24 and len(links) == len(sites) - 1
    tiers = {s.name: s.tier for s in sites}
    assert all(tiers[s.parent].rank == s.tier.rank - 1 for s in sites if s.parent)


@pytest.mark.parametrize("n", [2, 50, 2000])
def test_random_geometric_is_connected_and_deterministic(n: int) -> None:
    settings = RandomGeometricGenerator(kind="random-geometric", sites=n, seed=3)
    sites, links = random_geometric(settings)
    graph = nx.Graph([(link.a, link.b) for link in links])
    graph.add_nodes_from(s.name for s in sites)
    assert nx.is_connected(graph)
    assert sum(s.tier is Tier.CENTRAL for s in sites) == 1
    again = random_geometric(settings)
    assert again == (sites, links)
    assert random_geometric(settings.model_copy(update={"seed": 4})) != (sites, links)


def test_enos_group_ranges() -> None:
    assert expand_group("edge-[1-3]") == ["edge-1", "edge-2", "edge-3"]
    assert expand_group("paris") == ["paris"]


ENOS = """
sites:
  - {name: grp1, tier: central, location: {lat: 45, lon: 5}}
  - {name: grp2, tier: edge, location: {lat: 45, lon: 6}}
  - {name: grp3, tier: edge, location: {lat: 46, lon: 5}}
  - {name: grp4, tier: far-edge, location: {lat: 46, lon: 6}}
network_constraints:
  enable: true
  default_delay: 25ms
  default_rate: 1gbit
  default_loss: 0
  except: [grp4]
  constraints:
    - {src: grp1, dst: grp2, delay: 10ms, rate: 100mbit, symmetric: true}
    - {src: grp1, dst: grp3, delay: 50ms}
"""


def test_enos_constraints_build_a_mesh_with_one_way_delays() -> None:
    infra = parse(ENOS + "links: []\n", "enos.yaml")
    topo = infra.topology
    assert len(infra.links) == 6  # full mesh of 4 sites
    # symmetric constraint: 10 ms each way, RTT 20 ms (EnOS delay is one-way)
    assert topo.link("grp1", "grp2").rtt_ms == 20  # type: ignore[union-attr]
    assert topo.link("grp1", "grp2").bandwidth_mbps == 100  # type: ignore[union-attr]
    # one-way constraint: grp1→grp3 50 ms, grp3→grp1 keeps the default 25 ms
    # ... so routing prefers the unshaped, short links through the excluded grp4
    assert topo.path("grp1", "grp3") == ["grp1", "grp4", "grp3"]
    link13 = topo.link("grp1", "grp3")
    assert link13 is not None and (link13.delay_ab_ms, link13.delay_ba_ms) == (50, 25)
    assert topo.link("grp2", "grp3").rtt_ms == 50  # type: ignore[union-attr]
    # grp4 is excluded: its links keep their own delay, here derived from distance (~111 km → ~1 ms)
    link34 = topo.link("grp3", "grp4")
    assert link34 is not None and link34.delay_ab_ms == pytest.approx(0.5 + 77.4 * 0.005, abs=0.05)


def test_enos_group_matching_nothing_is_an_error() -> None:
    from wanstack.scenario.errors import ScenarioError

    with pytest.raises(ScenarioError, match="group 'grp9' matches no site"):
        parse(ENOS.replace("dst: grp3", "dst: grp9"), "enos.yaml")
