"""The messaging backends, one module each, behind two small protocols (`base.RpcBus`,
`base.NotificationBus`); the deployment model names one of each per region.

A new backend is one module with a class that satisfies the protocol, plus its name in
`scenario.services` (`RpcBackend` or `NotificationBackend`) and one line in the registry below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wanstack.scenario.placement import Placement
from wanstack.scenario.services import NotificationBackend, RpcBackend, Service
from wanstack.sim.bus.base import BusPlan, NotificationBus, RpcBus, StationFor
from wanstack.sim.bus.broker import Broker, BrokerNotifications
from wanstack.sim.bus.brokerless import Brokerless
from wanstack.sim.bus.cluster import BrokerCluster
from wanstack.sim.bus.log import LogNotifications
from wanstack.sim.bus.router_mesh import RouterMesh
from wanstack.topology import Topology

RPC_BUSES: dict[RpcBackend, Callable[[BusPlan], RpcBus]] = {
    RpcBackend.BROKER: Broker,
    RpcBackend.BROKER_CLUSTER: BrokerCluster,
    RpcBackend.ROUTER_MESH: RouterMesh,
    RpcBackend.BROKERLESS: Brokerless,
}
NOTIFICATION_BUSES: dict[NotificationBackend, Callable[[BusPlan], NotificationBus]] = {
    NotificationBackend.BROKER: BrokerNotifications,
    NotificationBackend.LOG: LogNotifications,
}

__all__ = [
    "NOTIFICATION_BUSES",
    "RPC_BUSES",
    "Buses",
    "NotificationBus",
    "RpcBus",
    "nearest_by_delay",
    "region_buses",
]


@dataclass(frozen=True)
class Buses:
    """A region's two buses."""

    rpc: RpcBus
    notifications: NotificationBus


def region_buses(
    placement: Placement,
    region: str,
    station: StationFor,
    path: Callable[[str, str], list[str] | None],
    nearest: Callable[[str, list[str]], str],
) -> Buses:
    """The buses of `region` as its deployment model places them."""
    plan = placement.region_by_name[region]

    def serving(service: Service) -> Callable[[str], str]:
        def bus_for(site: str) -> str:
            bus = placement.serving(service, site)
            return bus if bus is not None else plan.control_site

        return bus_for

    nodes = [i.site for i in placement.instances if i.service is Service.RPC_BUS and i.region == region]
    bus_plan = BusPlan(
        station,
        serving(Service.RPC_BUS),
        serving(Service.NOTIFICATION_BUS),
        nodes,
        plan.control_site,
        path,
        nearest,
    )
    return Buses(RPC_BUSES[plan.rpc](bus_plan), NOTIFICATION_BUSES[plan.notifications](bus_plan))


def nearest_by_delay(topology: Topology) -> Callable[[str, list[str]], str]:
    """Of some nodes, the one with the least one-way delay from a site (unreachable ones last, then
    by name): where a site's clients connect in a cluster."""

    def nearest(site: str, nodes: list[str]) -> str:
        return min(
            nodes,
            key=lambda n: (topology.path_delay_ms(site, n) if topology.reachable(site, n) else 1e18, n),
        )

    return nearest
