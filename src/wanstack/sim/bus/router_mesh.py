"""A router at every site (the `router-mesh` backend): a message visits the router of every site on
its route and is never stored (Qpid Dispatch style, "closest" distribution for unicast; OpenStack
performance-docs, massively distributed RPC test plan)."""

from __future__ import annotations

import itertools

from wanstack.sim.bus.base import BusPlan, Confirm, FanoutCopy, Target
from wanstack.sim.message import Hop
from wanstack.sim.stations import Station


class RouterMesh:
    """The `router-mesh` RPC bus: a message is handled by the router of its sender's site, then of every site
    on the lowest-delay path to the receiver; a reply takes the same way back, a fanout is cast by the sender
    to every server, and a cast's confirm is charged as a broker's would be."""

    def __init__(self, plan: BusPlan) -> None:
        self.plan = plan
        self.bus_for = plan.rpc_bus_for

    def request_hops(self, src: str, dst: str, server: Station | None) -> tuple[Hop, ...]:
        path = self.plan.path(src, dst) if src != dst else [src]
        if path is None:
            return (Hop(src, dst, server),)  # no route: the network drops it
        router = self.plan.station
        hops = [Hop(src, src, router("router", src))]
        hops += [Hop(u, v, router("router", v)) for u, v in itertools.pairwise(path)]
        hops.append(Hop(dst, dst, server))
        return tuple(hops)

    def reply_hops(self, server_site: str, client_site: str) -> tuple[Hop, ...]:
        return self.request_hops(server_site, client_site, None)

    def confirm(self, src: str, dst: str) -> Confirm:
        # As a broker's (a round trip to the bus node serving the receiver, which the model places at
        # every site): the simulator's cases have always charged it so.
        return Confirm(self.bus_for(dst))

    def fanout_copies(self, src: str, targets: list[Target]) -> list[FanoutCopy] | None:
        return None  # routers do not store: the sender casts to every server
