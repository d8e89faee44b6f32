"""The WAN paths migrations take between two sites, and what each VM's move over one would cost.

A route from site A to site B carries `lanes` migrations at once, each with an equal share of the
route's spare bandwidth. QEMU migrates over one TCP connection, capped by its window over the RTT
(`cost.Path.usable_bytes_per_s`); a route wider than one connection needs several lanes to be full,
and more lanes than that only split the bandwidth, so that every migration lasts longer and re-sends
more dirtied memory. So `lanes` = ⌈spare bandwidth / one connection's rate⌉.
"""

from __future__ import annotations

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
    if lanes is None:
        one = Path(spare, rtt).usable_bytes_per_s(settings) * 8 / 1e6
        lanes = max(1, math.ceil(spare / one - 1e-9)) if one > 0 else 1
    a, b = infra.sites[src].location, infra.sites[dst].location
    km = great_circle_km(a.lat, a.lon, b.lat, b.lon) if a and b else 0.0
    return Route(src, dst, spare, rtt, km, lanes)


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
