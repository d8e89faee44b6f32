"""Messages over the backbone.

A message from site `a` to site `b` takes the lowest-delay route and arrives after
    propagation (sum of one-way link delays) + serialization at the bottleneck
    + jitter (netem's default: uniform in ±jitter on each link, drawn per link and added)
    + retransmissions when a packet is lost (each costs an RTO, doubling as TCP backs off).
Two services at one site talk over the LAN (`lan_delay_ms`). Routes are cached and recomputed when
a link is cut or restored; a message with no route is dropped (its sender times out).

Bytes and messages are counted per (source, destination) pair ("lane") on the hot path and spread onto
the links of the route only when the lanes are flushed, so accounting costs O(1) per message.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable
from heapq import heappush
from typing import Any, NamedTuple, Protocol

import networkx as nx

from wanstack.sim.kernel import Simulator
from wanstack.sim.message import Message
from wanstack.topology import Topology, WanLink
from wanstack.topology.tcp import TCP_MSS_BYTES, TCP_RETRIES2, TCP_RTO_MAX_MS, TCP_RTO_MIN_MS

# A shortest-path tree is kept whole once its root has served this many paths (`Network.path`).
TREE_KEPT_AFTER = 32


class Route(NamedTuple):
    """The lowest-delay path from one site to another, as a message sees it."""

    delay_ms: float  # one way
    bottleneck_mbps: float
    jitters_ms: tuple[float, ...]  # the route's links' jitters (non-zero ones), each uniform ±jitter
    survival: float  # probability that a packet crosses every link
    rtt_ms: float
    links: tuple[int, ...]  # link ids; ~i marks link i crossed from b to a


class Settling(Protocol):
    """Counts that reach their lanes late (`glide.Glide`): `settle` puts them there."""

    def settle(self) -> None: ...


class Lane:
    """The hot-path record of a (source, destination) pair: what a message pays on it, and counters
    that `Network.flush` moves onto links and sites (so a send touches one dict entry)."""

    __slots__ = ("delay_ms", "local", "messages", "ms_per_byte", "nbytes", "perturbed", "route")

    def __init__(self, delay_ms: float, ms_per_byte: float, route: Route | None) -> None:
        self.delay_ms = delay_ms
        self.ms_per_byte = ms_per_byte
        self.route = route  # None: two services at one site
        self.local = route is None
        self.perturbed = route is not None and (bool(route.jitters_ms) or route.survival < 1.0)
        self.messages = 0.0
        self.nbytes = 0.0


class Network:
    """The backbone in simulated time: routes between sites (cached, recomputed when a link or site goes down
    or comes back), each message's delay, drops where no route is left, and the bytes and messages every link,
    site and traffic class carried. `wan_overhead_ms` is added to every WAN crossing (the bench relays' late
    timers, `sim.host`; 0 otherwise)."""

    def __init__(
        self,
        sim: Simulator,
        topology: Topology,
        lan_delay_ms: float,
        wan_overhead_ms: float = 0.0,
        bulk_queue_ms: float = 0.0,
    ) -> None:
        self.sim = sim
        self.topology = topology
        self.lan_delay_ms = lan_delay_ms
        self.wan_overhead_ms = wan_overhead_ms
        # A message crossing a link direction that bulk flows fill waits behind their standing queue
        # (`Params.bulk_queue_ms`); `flows.FlowNetwork` keeps the set of full directions (signed ids).
        self.bulk_queue_ms = bulk_queue_ms
        self.bulk_full: set[int] = set()
        self.links: list[WanLink] = list(topology.links)
        self._link_index = {(link.a, link.b): i for i, link in enumerate(self.links)}
        self.link_up = [True] * len(self.links)
        self.site_up: dict[str, bool] = dict.fromkeys(topology.sites, True)
        self._rng = sim.stream("network")
        self._routes: dict[tuple[str, str], Route | None] = {}
        # Shortest-path trees by root, from it (`_forward`) and toward it (`_reverse`): None until the
        # root has served `TREE_KEPT_AFTER` paths (`path`), each counted in `_served`.
        self._forward: dict[str, dict[str, list[str]] | None] = {}
        self._reverse: dict[str, dict[str, list[str]] | None] = {}
        self._served: dict[tuple[str, bool], int] = {}
        self._down: bool | None = None  # `_anything_down`, None until asked after a change
        # No route or station changes before this time: the next scheduled fault (`faults.Faults`).
        self.quiet_until = math.inf
        self.epoch = 0  # counts route changes: what was worked out from the routes is stale after one
        # Ways whose lanes' counters lag behind (`glide.Glide.send`): settled by `flush`.
        self.settling: list[Settling] = []
        # Immutable figures of those ways (their delays' terms, their bytes), one object per value
        # (`glide.plan`).
        self.shared: dict[Hashable, Any] = {}
        self._asked: dict[str, int] = {}
        # A backbone that is a tree (a hierarchy without cross links) has one path between two sites:
        # each site's parent and depth from the first site, or None for a mesh (`path`).
        self._tree = _tree_of(topology, len(self._link_index))
        # The lanes by source, then destination, for the hot path (two lookups of interned strings,
        # no tuple built and hashed per message), and by pair in the order they were made, which
        # `flush` adds them up in.
        self._to: dict[str, dict[str, Lane]] = {}
        self._lanes: dict[tuple[str, str], Lane] = {}
        n = len(self.links)
        self.link_messages = [[0.0, 0.0] for _ in range(n)]  # per direction a→b, b→a
        self.link_bytes = [[0.0, 0.0] for _ in range(n)]
        self.link_bulk_bytes = [[0.0, 0.0] for _ in range(n)]
        self.local_bytes: dict[str, float] = {}
        self.wan_bytes_out: dict[str, float] = {}
        self.wan_bytes_in: dict[str, float] = {}
        self.dropped = 0
        self.wan_bytes_by_tag: dict[str, float] = {}  # traffic class (operation kind, background) -> bytes

    # --- routing -------------------------------------------------------------------------------
    def _graph(self) -> nx.DiGraph:
        if not self._anything_down:
            return self.topology.graph  # no filtering view: Dijkstra runs several times faster

        def edge_up(u: str, v: str) -> bool:
            return self.link_up[self._index(u, v)] and self.site_up[u] and self.site_up[v]

        return nx.subgraph_view(self.topology.graph, filter_edge=edge_up)

    def _index(self, u: str, v: str) -> int:
        i = self._link_index.get((u, v))
        return i if i is not None else self._link_index[(v, u)]

    def path(self, a: str, b: str) -> list[str] | None:
        """Lowest-delay path. On a tree backbone, the one path there is (`_tree_path`). Otherwise read
        from a shortest-path tree: one already rooted at `a` (from it) or at
        `b` (toward it) if there is one; else a new tree for whichever end has been asked for more often
        (a hub that many sites talk to gets one tree toward it instead of one tree per talking site).

        A tree is kept whole only once its root has served `TREE_KEPT_AFTER` paths; until then each of
        its paths comes from a Dijkstra run from the root that stops at the other end, which finds the
        path the whole tree has (networkx's Dijkstra fixes a node's path when it pops the node, and
        stopping early changes nothing before that). A million hosts over 10,000 sites have a few
        thousand small hubs (each cell's), whose whole trees would take gigabytes and minutes."""
        if self._tree is not None:
            return self._tree_path(self._tree, a, b)
        if b in self._reverse:
            return self._from_root(b, a, forward=False)
        if a in self._forward:
            return self._from_root(a, b, forward=True)
        asked = self._asked
        asked[a] = asked.get(a, 0) + 1
        asked[b] = asked.get(b, 0) + 1
        if asked[b] >= asked[a]:
            self._reverse[b] = None
            return self._from_root(b, a, forward=False)
        self._forward[a] = None
        return self._from_root(a, b, forward=True)

    def _from_root(self, root: str, other: str, forward: bool) -> list[str] | None:
        """The path between `root` and `other` in the tree rooted at `root` (from it when `forward`,
        else toward it), the tree kept once the root has served `TREE_KEPT_AFTER` paths."""
        trees = self._forward if forward else self._reverse
        tree = trees[root]
        if tree is None:
            served = self._served[root, forward] = self._served.get((root, forward), 0) + 1
            graph = self._graph() if forward else self._graph().reverse(copy=False)
            if served >= TREE_KEPT_AFTER:
                _, tree = nx.single_source_dijkstra(graph, root, weight="delay")
                trees[root] = tree
            else:
                try:
                    _, found = nx.single_source_dijkstra(graph, root, target=other, weight="delay")
                except nx.NetworkXNoPath:
                    return None
                way: list[str] = found
                return way if forward else way[::-1]
        path = tree.get(other)
        if path is None or forward:
            return path
        return path[::-1]

    def _tree_path(self, tree: tuple[dict[str, str], dict[str, int]], a: str, b: str) -> list[str] | None:
        """The path between `a` and `b` on a tree backbone: up from both to their first common
        ancestor, found in as many steps as the path is long (a Dijkstra run that stops at its target
        walked a thousand sibling sites of a 10,000-site hierarchy: a second of a million-host run).
        It is the lowest-delay path, being the only one, and None when a link or a site on it is down,
        as the Dijkstra run on what is up finds no other. `tree`: each site's parent and depth."""
        parent, depth = tree
        up, down = [a], [b]
        x, y = a, b
        while depth[x] > depth[y]:
            x = parent[x]
            up.append(x)
        while depth[y] > depth[x]:
            y = parent[y]
            down.append(y)
        while x != y:
            x, y = parent[x], parent[y]
            up.append(x)
            down.append(y)
        path = up + down[-2::-1]
        if self._anything_down:
            site_up, link_up = self.site_up, self.link_up
            for u, v in itertools.pairwise(path):
                if not (site_up[u] and site_up[v] and link_up[self._index(u, v)]):
                    return None
        return path

    def route(self, a: str, b: str) -> Route | None:
        key = (a, b)
        if key in self._routes:
            return self._routes[key]
        if not (self.site_up[a] and self.site_up[b]):
            return None
        path = self.path(a, b)
        route: Route | None = None
        if path is not None:
            delay = back = 0.0
            jitters = []
            bottleneck = math.inf
            survival = 1.0
            ids = []
            for u, v in itertools.pairwise(path):
                i = self._index(u, v)
                link = self.links[i]
                forward = link.a == u
                delay += link.delay_ab_ms if forward else link.delay_ba_ms
                back += link.delay_ba_ms if forward else link.delay_ab_ms
                bottleneck = min(bottleneck, link.bandwidth_mbps)
                if link.jitter_ms:
                    jitters.append(link.jitter_ms)
                survival *= 1.0 - link.loss_pct / 100.0
                ids.append(i if forward else ~i)  # ~i marks the b→a direction
            route = Route(delay, bottleneck, tuple(jitters), survival, delay + back, tuple(ids))
        self._routes[key] = route
        return route

    def set_link(self, a: str, b: str, up: bool) -> None:
        self.flush()
        self.link_up[self._index(a, b)] = up
        self._invalidate()

    def set_site(self, site: str, up: bool) -> None:
        self.flush()
        self.site_up[site] = up
        self._invalidate()

    @property
    def _anything_down(self) -> bool:
        """Whether a link or a site is down (checked once per change, not once per Dijkstra run: with
        10,000 sites the check cost more than the short runs it guards)."""
        if self._down is None:
            self._down = not (all(self.link_up) and all(self.site_up.values()))
        return self._down

    def _invalidate(self) -> None:
        self._down = None
        self.epoch += 1
        self.settling.clear()  # flushed just before: the ways of the old routes are done
        self._routes.clear()
        self._lanes.clear()
        self._to.clear()
        self._forward.clear()
        self._reverse.clear()
        self._served.clear()

    def reachable(self, a: str, b: str) -> bool:
        return (a == b and self.site_up[a]) or self.route(a, b) is not None

    # --- messages ------------------------------------------------------------------------------
    def _lane(self, a: str, b: str) -> Lane | None:
        """A new lane for the pair, or None when there is no route (lanes are flushed and dropped
        before routes change)."""
        if a == b:
            if not self.site_up[a]:
                return None
            lane = Lane(self.lan_delay_ms, 0.0, None)
        else:
            route = self.route(a, b)
            if route is None:
                return None
            delay = route.delay_ms
            lane = Lane(
                delay + (self.wan_overhead_ms if delay > 0 else 0.0),
                8.0 / (route.bottleneck_mbps * 1000.0),
                route,
            )
        self._lanes[(a, b)] = lane
        self._to.setdefault(a, {})[b] = lane
        return lane

    def _perturb(self, route: Route, message_bytes: float, total: float) -> float | None:
        """Jitter and TCP retransmissions of one message on a lossy or jittery route; None when TCP
        gives up on it (every packet of a 100 % lossy link is lost: the connection is reset)."""
        if route.jitters_ms:
            # netem without a `distribution` (the EnOS setting, and the bench relay's rule): each link
            # delays a packet uniformly in [delay − jitter, delay + jitter]; a route adds its links'
            # draws. The propagation part cannot go below zero (netem never sends before now).
            uniform = self._rng.uniform
            offset = sum(uniform(-j, j) for j in route.jitters_ms)
            total = max(total - route.delay_ms, total + offset)
        if route.survival < 1.0:
            packets = max(1, math.ceil(message_bytes / TCP_MSS_BYTES))
            p_loss = 1.0 - route.survival**packets
            rto = route.rtt_ms + TCP_RTO_MIN_MS
            retransmissions = 0
            while self._rng.random() < p_loss:
                if retransmissions == TCP_RETRIES2:  # Linux resets the connection after tcp_retries2
                    return None
                retransmissions += 1
                total += rto
                rto = min(2.0 * rto, TCP_RTO_MAX_MS)
        return total

    def delay(self, a: str, b: str, nbytes: float) -> float | None:
        """Delivery time of one message of `nbytes`, or None when there is no route."""
        lane = self.lane(a, b)
        if lane is None:
            return None
        total: float = lane.delay_ms + nbytes * lane.ms_per_byte
        route = lane.route
        if route is None:
            return total
        if self.bulk_full:
            total += self._bulk_wait(route.links)
        return self._perturb(route, nbytes, total) if lane.perturbed else total

    def _bulk_wait(self, link_ids: tuple[int, ...]) -> float:
        full = self.bulk_full
        return self.bulk_queue_ms * sum(1 for i in link_ids if i in full)

    def send(
        self,
        a: str,
        b: str,
        message: Message,
        arrive: Callable[[Message], None] | None,
        extra_ms: float,
        *,
        depart_ms: float | None = None,
    ) -> float | None:
        """Deliver `message` (its `messages` messages of `nbytes` bytes in all: a batch when more than
        one) from site `a` to site `b`: `arrive(message)` runs when it gets there, `extra_ms` later than
        the network alone would (end-host processing). Returns when it gets there; None, and the message
        counted as dropped, when there is no route. `depart_ms`: when it leaves, if later than now (a
        hop sent ahead of its departure: `chain.ChainRunner.served`). `arrive` None: nothing scheduled,
        the caller does (`chain.ChainRunner`). The hot path of every model."""
        try:
            lane = self._to[a][b]
        except KeyError:  # a new pair (or no route): a zero-cost `try` in CPython ≥ 3.11
            made = self._lane(a, b)
            if made is None:
                self.dropped += int(message.messages)
                return None
            lane = made
        nbytes = message.nbytes
        messages = message.messages
        # `1.0`, not `1`: a float-to-float comparison, which CPython specializes (`messages` is a float).
        one = nbytes / messages if messages > 1.0 else nbytes
        delay = lane.delay_ms + one * lane.ms_per_byte
        route = lane.route
        if route is not None:
            if self.bulk_full:
                delay += self._bulk_wait(route.links)
            if lane.perturbed:
                perturbed = self._perturb(route, one, delay)
                if perturbed is None:  # TCP gave up: the message is lost as on a cut link
                    self.dropped += int(messages)
                    return None
                delay = perturbed
            by_tag = self.wan_bytes_by_tag
            tag = message.tag
            try:
                by_tag[tag] += nbytes
            except KeyError:
                by_tag[tag] = 0.0 + nbytes  # the sum `get(tag, 0.0) + nbytes` would make
        lane.messages += messages
        lane.nbytes += nbytes
        sim = self.sim
        arrival: float = (sim.now if depart_ms is None else depart_ms) + delay + extra_ms
        if arrive is not None:
            heappush(sim.heap, (arrival, next(sim.seq), arrive, message))
        return arrival

    def lane(self, a: str, b: str) -> Lane | None:
        """The pair's lane (None: no route)."""
        return self._to.get(a, {}).get(b) or self._lane(a, b)

    def count(self, lane: Lane, messages: float, nbytes: float, tag: str) -> None:
        """Count what a message carries on `lane`, as `send` does."""
        if lane.route is not None:
            self.wan_bytes_by_tag[tag] = self.wan_bytes_by_tag.get(tag, 0.0) + nbytes
        lane.messages += messages
        lane.nbytes += nbytes

    def account(self, a: str, b: str, messages: float, nbytes: float, tag: str) -> None:
        """Count what a message from `a` to `b` carries, as `send` does, without delivering anything:
        for answers nobody waits on (a fluid batch's), whose timing does not matter."""
        lane = self.lane(a, b)
        if lane is not None:
            self.count(lane, messages, nbytes, tag)

    @property
    def wan_bytes_total(self) -> float:
        return sum(self.wan_bytes_by_tag.values())

    def flush(self) -> None:
        """Move the lanes' counters onto links and sites (before routes change, and at the end)."""
        for way in self.settling:
            way.settle()
        for (a, b), lane in self._lanes.items():
            messages, nbytes = lane.messages, lane.nbytes
            if not messages:
                continue
            lane.messages = lane.nbytes = 0.0
            if lane.route is None:
                self.local_bytes[a] = self.local_bytes.get(a, 0.0) + nbytes
                continue
            self.wan_bytes_out[a] = self.wan_bytes_out.get(a, 0.0) + nbytes
            self.wan_bytes_in[b] = self.wan_bytes_in.get(b, 0.0) + nbytes
            for i in lane.route.links:
                j, direction = (i, 0) if i >= 0 else (~i, 1)
                self.link_messages[j][direction] += messages
                self.link_bytes[j][direction] += nbytes

    def add_bulk(self, a: str, b: str, link_ids: tuple[int, ...], nbytes: float, tag: str) -> None:
        if a == b:
            self.local_bytes[a] = self.local_bytes.get(a, 0.0) + nbytes
            return
        self.wan_bytes_out[a] = self.wan_bytes_out.get(a, 0.0) + nbytes
        self.wan_bytes_in[b] = self.wan_bytes_in.get(b, 0.0) + nbytes
        self.wan_bytes_by_tag[tag] = self.wan_bytes_by_tag.get(tag, 0.0) + nbytes
        for i in link_ids:
            j, direction = (i, 0) if i >= 0 else (~i, 1)
            self.link_bulk_bytes[j][direction] += nbytes
            self.link_bytes[j][direction] += nbytes


def _tree_of(topology: Topology, pairs: int) -> tuple[dict[str, str], dict[str, int]] | None:
    """Each site's parent and depth seen from the first site when the backbone is a tree (connected, one
    link fewer than sites, no two links between one pair: `pairs` is how many pairs are linked), else
    None."""
    sites = topology.sites
    if not sites or pairs != len(topology.links) or pairs != len(sites) - 1:
        return None
    root = sites[0]
    parent: dict[str, str] = {}
    depth = {root: 0}
    for u, v in nx.bfs_edges(topology.graph, root):
        parent[v] = u
        depth[v] = depth[u] + 1
    return (parent, depth) if len(depth) == len(sites) else None
