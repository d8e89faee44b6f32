import networkx as nx
import pytest

from wanstack.topology import Topology, WanLink, great_circle_km
from wanstack.topology.geo import fibre_delay_ms


def _link(a: str, b: str, d: float, bw: float = 1000.0, back: float | None = None) -> WanLink:
    return WanLink(a, b, d, d if back is None else back, 0.0, bw, 0.0)


def line() -> Topology:
    # a -5- b -5- c, plus a slow direct a-c of 20 ms and 10 Mbit/s
    return Topology("abcd", [_link("a", "b", 5, 100), _link("b", "c", 5, 1000), _link("a", "c", 20, 10)])


def test_routing_takes_the_lowest_delay_path() -> None:
    topo = line()
    assert topo.path("a", "c") == ["a", "b", "c"]
    assert topo.path_delay_ms("a", "c") == 10
    assert topo.bottleneck_mbps("a", "c") == 100
    assert topo.bottleneck_mbps("a", "a") == float("inf")


def test_unreachable_sites_are_reported() -> None:
    topo = line()
    assert not topo.reachable("a", "d")
    with pytest.raises(nx.NetworkXNoPath):
        topo.path("a", "d")


def test_asymmetric_delays_route_each_way() -> None:
    topo = Topology("ab", [_link("a", "b", 2, back=7)])
    assert topo.path_delay_ms("a", "b") == 2
    assert topo.path_delay_ms("b", "a") == 7


def test_nearest_source_per_site() -> None:
    topo = Topology("abcd", [_link("a", "b", 2), _link("b", "c", 5)])
    assert topo.nearest(["a", "c"]) == {"a": "a", "b": "a", "c": "c"}
    assert topo.nearest(["c"])["a"] == "c"
    assert "d" not in topo.nearest(["a"])


def test_distance_and_fibre_delay() -> None:
    paris_london = great_circle_km(48.8566, 2.3522, 51.5074, -0.1278)
    assert paris_london == pytest.approx(344, abs=2)
    # ITU-T G.114: 5 µs/km; 1000 km of straight fibre = 5 ms one-way, plus the per-link overhead.
    assert fibre_delay_ms(1000, 5.0, 0.5, 1.0) == pytest.approx(5.5)


def test_traffic_between_two_sites_counts_on_every_link_of_their_route() -> None:
    from wanstack.results.cases import add_links, route_traffic

    topo = line()
    # c → a: the route c-b-a crosses both links against their a→b orientation.
    links = route_traffic(topo, "c", "a", (3.0, 1.0), (300.0, 100.0), duration_s=1.0)
    assert [(x.a, x.b) for x in links] == [("b", "c"), ("a", "b")]
    assert all(
        (x.bytes_ab, x.bytes_ba, x.messages_ab, x.messages_ba) == (100.0, 300.0, 1.0, 3.0) for x in links
    )
    both = add_links(links + route_traffic(topo, "a", "b", (1.0, 0.0), (50.0, 0.0), duration_s=1.0), 1.0)
    ab = next(x for x in both if (x.a, x.b) == ("a", "b"))
    assert (ab.bytes_ab, ab.bytes_ba) == (150.0, 300.0)
