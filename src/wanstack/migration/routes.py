"""The WAN paths migrations take between two sites, and what each VM's move over one would cost.

A route from site A to site B carries `lanes` migrations at once, each with an equal share of the
route's spare bandwidth. QEMU migrates over one TCP connection, capped by its window over the RTT
(`cost.Path.usable_bytes_per_s`); a route wider than one connection needs several lanes to be full,
and more lanes than that only split the bandwidth, so that every migration lasts longer and re-sends
more dirtied memory. So `lanes` = ⌈spare bandwidth / one connection's rate⌉.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

from wanstack.migration.cost import MigrationCost, Path, cold_migration, live_migration, post_copy
from wanstack.migration.fleet import Vm
from wanstack.migration.settings import MigrationSettings
from wanstack.scenario.build import Infrastructure
from wanstack.topology import great_circle_km


@dataclass(frozen=True)
class Route:
    """The path migrations take from `src` to `dst`: its spare bandwidth at the bottleneck (Mbit/s), its round
    trip (ms), the great-circle distance between the sites (km; 0 without locations), and the migrations it
    carries at once (`lanes`), each over a `lane` with an equal share."""

    src: str
    dst: str
    bandwidth_mbps: float  # spare bandwidth of the path's bottleneck
    rtt_ms: float
    distance_km: float
    lanes: int

    @property
    def lane(self) -> Path:
        return Path(self.bandwidth_mbps / self.lanes, self.rtt_ms)


def route(
    infra: Infrastructure,
    src: str,
    dst: str,
    settings: MigrationSettings,
    *,
    utilisation: float = 0.0,
    lanes: int | None = None,
) -> Route | None:
    """The path from `src` to `dst`, `utilisation` of its bottleneck taken by other traffic; None when
    the sites are not connected."""
    topo = infra.topology
    if not topo.reachable(src, dst):
        return None
    spare = topo.bottleneck_mbps(src, dst) * max(0.0, 1.0 - utilisation)
    rtt = topo.path_delay_ms(src, dst) + topo.path_delay_ms(dst, src)
    a, b = infra.sites[src].location, infra.sites[dst].location
    km = great_circle_km(a.lat, a.lon, b.lat, b.lon) if a and b else 0.0
    return Route(src, dst, spare, rtt, km, lanes or _lanes(spare, rtt, settings))


def _lanes(spare_mbps: float, rtt_ms: float, settings: MigrationSettings) -> int:
    """Enough migrations at once to fill `spare_mbps`, each one TCP connection at `rtt_ms`."""
    one = Path(spare_mbps, rtt_ms).usable_bytes_per_s(settings) * 8 / 1e6
    return max(1, math.ceil(spare_mbps / one - 1e-9)) if one > 0 else 1


def shared(
    infra: Infrastructure,
    routes: dict[tuple[str, str], Route],
    settings: MigrationSettings,
    *,
    utilisation: float = 0.0,
) -> dict[tuple[str, str], Route]:
    """`routes` as one plan uses them together. Routes whose paths cross one backbone link in the same
    direction split it: first each route its max-min fair share, to size its lanes (enough connections
    to fill that share); then every lane, as the simulator's flows do (`sim.flows`: max-min per flow),
    so a route's bandwidth is its lanes times its lanes' fair rate. A route alone on its links keeps
    its bottleneck. Without this an evacuation to three sites behind one uplink planned three times
    the uplink's rate, which the simulator could not carry."""
    topo = infra.topology
    edges = {key: list(itertools.pairwise(topo.path(*key))) for key in routes}
    capacity = {
        e: topo.graph[e[0]][e[1]]["link"].bandwidth_mbps * max(0.0, 1.0 - utilisation)
        for path in edges.values()
        for e in path
    }
    lanes = {
        key: _lanes(min(rate, routes[key].bandwidth_mbps), routes[key].rtt_ms, settings)
        for key, rate in _filled(edges, capacity, dict.fromkeys(routes, 1)).items()
    }
    out = dict(routes)
    for key, rate in _filled(edges, capacity, lanes).items():
        if rate < routes[key].bandwidth_mbps - 1e-9 or lanes[key] != routes[key].lanes:
            out[key] = dataclasses.replace(routes[key], bandwidth_mbps=rate, lanes=lanes[key])
    return out


def _filled(
    edges: dict[tuple[str, str], list[tuple[str, str]]],
    capacity: dict[tuple[str, str], float],
    weight: dict[tuple[str, str], int],
) -> dict[tuple[str, str], float]:
    """Weighted max-min fair rates by progressive filling: the link with the least capacity per unit
    of weight among its routes still open fixes their rate (weight × that level); what they take is
    removed from their other links; repeat. Routes without a link (a site to itself) are left out."""
    left = dict(capacity)
    active = {key for key, path in edges.items() if path}
    rate: dict[tuple[str, str], float] = {}
    while active:
        crowd = {e: [k for k in active if e in edges[k]] for e in left}
        e, level = min(
            ((e, left[e] / sum(weight[k] for k in ks)) for e, ks in crowd.items() if ks),
            key=lambda item: (item[1], item[0]),
        )
        for key in crowd[e]:
            rate[key] = weight[key] * level
            active.discard(key)
            for f in edges[key]:
                left[f] -= rate[key]
    return rate


def move_cost(vm: Vm, r: Route, settings: MigrationSettings) -> MigrationCost | None:
    """How the VM would move over one lane of `r` as Nova would do it with these settings — pre-copy,
    post-copy when it is permitted and pre-copy misses the VM's downtime limit, cold when neither keeps
    to it and a cold move does — or None when no way keeps the VM's downtime under its limit."""
    live = live_migration(vm.guest, r.lane, settings)
    if live.converged and live.downtime_ms <= vm.max_downtime_ms:
        return live
    if settings.permit_post_copy:
        post = post_copy(vm.guest, r.lane, settings)
        if post.downtime_ms <= vm.max_downtime_ms:
            return post
    cold = cold_migration(vm.guest, r.lane, settings)
    return cold if cold.downtime_ms <= vm.max_downtime_ms else None
