"""RabbitMQ, one node per bus instance (the `broker` backend).

Every service talks to the node serving the *receiver* — the cell's or region's bus, as Nova's cell
mappings give each cell its transport URL (https://docs.openstack.org/nova/latest/admin/cells.html) —
and a fanout to servers on several buses goes out on each bus at once, as
`nova.context.scatter_gather_cells` targets cells in parallel. Notifications on RabbitMQ
(`BrokerNotifications`) wait for the node's publisher confirm.
"""

from __future__ import annotations

from wanstack.sim.bus.base import BusPlan, Confirm, FanoutCopy, Target
from wanstack.sim.message import Hop
from wanstack.sim.stations import Station


class Broker:
    """The `broker` RPC bus: a request goes from the client to the RabbitMQ node serving the server's site and
    on to the server; the reply goes back through the node serving the server's site; a publisher confirm
    comes from the receiver's node; a fanout is copied by each bus's node into its servers' queues. Each
    pair's hops are built once and kept."""

    def __init__(self, plan: BusPlan) -> None:
        self.plan = plan
        self.bus_for = plan.rpc_bus_for
        # A pair's hops never change (the placement is fixed; a node's state is its station's), so
        # each is built once: building them per message cost the simulator ≈ 5 % of its time.
        self._requests: dict[tuple[str, str, Station | None], tuple[Hop, ...]] = {}
        self._replies: dict[tuple[str, str], tuple[Hop, ...]] = {}

    def request_hops(self, src: str, dst: str, server: Station | None) -> tuple[Hop, ...]:
        key = (src, dst, server)
        hops = self._requests.get(key)
        if hops is None:
            bus = self.bus_for(dst)
            hops = self._requests[key] = (
                Hop(src, bus, self.plan.station("rpc-broker", bus)),
                Hop(bus, dst, server),
            )
        return hops

    def reply_hops(self, server_site: str, client_site: str) -> tuple[Hop, ...]:
        key = (server_site, client_site)
        hops = self._replies.get(key)
        if hops is None:
            bus = self.bus_for(server_site)
            broker = self.plan.station("rpc-broker", bus)
            hops = self._replies[key] = (Hop(server_site, bus, broker), Hop(bus, client_site, None))
        return hops

    def confirm(self, src: str, dst: str) -> Confirm:
        return Confirm(self.bus_for(dst))

    def fanout_copies(self, src: str, targets: list[Target]) -> list[FanoutCopy] | None:
        groups: dict[str, list[Target]] = {}
        for site, server in targets:
            groups.setdefault(self.bus_for(site), []).append((site, server))
        return [FanoutCopy(bus, self.plan.station("rpc-broker", bus), group) for bus, group in groups.items()]


class BrokerNotifications:
    """Notifications to the RabbitMQ at the notification-bus site serving the sender."""

    confirmed = True

    def __init__(self, plan: BusPlan) -> None:
        self.plan = plan
        self.bus_for = plan.notification_bus_for

    def node(self, bus: str) -> Station:
        return self.plan.station("notification-broker", bus)
