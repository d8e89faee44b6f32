"""One RabbitMQ cluster spread over the region's rpc-bus sites (the `broker-cluster` backend).

Clients connect to their nearest member; a queue lives on the member nearest its consumer (where it
was declared), so a message entering elsewhere takes the extra member hop. A publisher confirm waits
until the queue's member has the message ("a message is confirmed once it has been accepted by all
the queues it was routed to", RabbitMQ's publisher-confirm docs).
"""

from __future__ import annotations

from wanstack.sim.bus.base import BusPlan, Confirm, FanoutCopy, Target
from wanstack.sim.message import Hop
from wanstack.sim.stations import Station


class BrokerCluster:
    """The `broker-cluster` RPC bus: every site is served by its nearest cluster member (`bus_for`); a message
    enters at the sender's member and, when the queue lives on another member (the one nearest the receiver),
    crosses to it before delivery. A confirm waits for both members; a fanout is copied by the sender's
    member."""

    def __init__(self, plan: BusPlan) -> None:
        self.plan = plan
        self.members = plan.rpc_nodes or [plan.control_site]
        self._nearest: dict[str, str] = {}
        # A pair's hops never change (`broker.Broker`): built once each.
        self._hops: dict[tuple[str, str, Station | None], tuple[Hop, ...]] = {}

    def bus_for(self, site: str) -> str:
        member = self._nearest.get(site)
        if member is None:
            member = self._nearest[site] = self.plan.nearest(site, self.members)
        return member

    def request_hops(self, src: str, dst: str, server: Station | None) -> tuple[Hop, ...]:
        key = (src, dst, server)
        hops = self._hops.get(key)
        if hops is None:
            hops = self._hops[key] = self._route(src, dst, server)
        return hops

    def _route(self, src: str, dst: str, server: Station | None) -> tuple[Hop, ...]:
        entry, home = self.bus_for(src), self.bus_for(dst)
        station = self.plan.station
        if home == entry:
            return (Hop(src, entry, station("rpc-broker", entry)), Hop(home, dst, server))
        return (
            Hop(src, entry, station("rpc-broker", entry)),
            Hop(entry, home, station("rpc-broker", home)),
            Hop(home, dst, server),
        )

    def reply_hops(self, server_site: str, client_site: str) -> tuple[Hop, ...]:
        return self.request_hops(server_site, client_site, None)

    def confirm(self, src: str, dst: str) -> Confirm:
        return Confirm(self.bus_for(src), self.bus_for(dst))

    def fanout_copies(self, src: str, targets: list[Target]) -> list[FanoutCopy] | None:
        # The sender's member takes the fanout and routes a copy to every bound queue.
        entry = self.bus_for(src)
        return [FanoutCopy(entry, self.plan.station("rpc-broker", entry), targets)]
