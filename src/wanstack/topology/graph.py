"""The backbone graph. Sites are nodes; every link is two directed edges, so one-way delays may
differ by direction (EnOS constraints without `symmetric`). Routing follows the lowest one-way
delay, as a link-state IGP with delay metrics would."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import networkx as nx


@dataclass(frozen=True, slots=True)
class WanLink:
    """A backbone link with every property resolved (no defaults left to apply)."""

    a: str
    b: str
    delay_ab_ms: float
    delay_ba_ms: float
    jitter_ms: float
    bandwidth_mbps: float
    loss_pct: float
    distance_km: float | None = None

    @property
    def rtt_ms(self) -> float:
        return self.delay_ab_ms + self.delay_ba_ms


class Topology:
    """Sites and WAN links as a directed networkx graph, with cached shortest-delay routing.

    Routing from one source is one Dijkstra run (O((V+E) log V)), cached per source, so asking for
    many paths from few sources (every site to its control plane) stays cheap at thousands of sites.
    """

    def __init__(self, sites: Iterable[str], links: Sequence[WanLink]) -> None:
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(sites)
        self.links = tuple(links)
        for link in self.links:
            self.graph.add_edge(link.a, link.b, delay=link.delay_ab_ms, link=link)
            self.graph.add_edge(link.b, link.a, delay=link.delay_ba_ms, link=link)
        self._routes: dict[str, tuple[dict[str, float], dict[str, list[str]]]] = {}

    @property
    def sites(self) -> list[str]:
        return list(self.graph.nodes)

    def link(self, a: str, b: str) -> WanLink | None:
        data = self.graph.get_edge_data(a, b)
        return None if data is None else data["link"]

    @cached_property
    def _component(self) -> dict[str, int]:
        # Links are bidirectional, so weak components are the reachability classes.
        return {
            site: i
            for i, members in enumerate(nx.weakly_connected_components(self.graph))
            for site in members
        }

    def reachable(self, a: str, b: str) -> bool:
        return self._component[a] == self._component[b]

    def _from(self, source: str) -> tuple[dict[str, float], dict[str, list[str]]]:
        if source not in self._routes:
            self._routes[source] = nx.single_source_dijkstra(self.graph, source, weight="delay")
        return self._routes[source]

    def path(self, a: str, b: str) -> list[str]:
        """Sites on the lowest-delay route from a to b, both included. Raises nx.NetworkXNoPath."""
        paths = self._from(a)[1]
        if b not in paths:
            raise nx.NetworkXNoPath(f"no route from {a} to {b}")
        return paths[b]

    def path_delay_ms(self, a: str, b: str) -> float:
        """One-way propagation delay along the route from a to b."""
        dist = self._from(a)[0]
        if b not in dist:
            raise nx.NetworkXNoPath(f"no route from {a} to {b}")
        return dist[b]

    def bottleneck_mbps(self, a: str, b: str) -> float:
        """Smallest link capacity on the route from a to b (infinite for a == b)."""
        route = self.path(a, b)
        return min(
            (self.graph[u][v]["link"].bandwidth_mbps for u, v in itertools.pairwise(route)),
            default=float("inf"),
        )

    def nearest(self, sources: Iterable[str]) -> dict[str, str]:
        """For every site, the source it reaches with the least delay (one multi-source Dijkstra).
        Sites that reach no source are left out."""
        src = list(sources)
        if not src:
            return {}
        # Distances are measured source -> site on the reversed graph, i.e. site -> source.
        _, paths = nx.multi_source_dijkstra(self.graph.reverse(copy=False), set(src), weight="delay")
        return {site: path[0] for site, path in paths.items()}
