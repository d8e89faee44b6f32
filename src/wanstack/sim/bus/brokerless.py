"""Direct sender-to-receiver connections (the `brokerless` backend), as the former ZeroMQ driver of
oslo.messaging did (removed in oslo.messaging 9.0.0; shared domain notes §9)."""

from __future__ import annotations

from wanstack.sim.bus.base import BusPlan, Confirm, FanoutCopy, Target
from wanstack.sim.message import Hop
from wanstack.sim.stations import Station


class Brokerless:
    """The `brokerless` RPC bus: a request and its reply go straight between client and server, a fanout is
    cast by the sender to every server, and a cast's confirm is charged as a round trip to the receiver."""

    def __init__(self, plan: BusPlan) -> None:
        self.bus_for = plan.rpc_bus_for

    def request_hops(self, src: str, dst: str, server: Station | None) -> tuple[Hop, ...]:
        return (Hop(src, dst, server),)

    def reply_hops(self, server_site: str, client_site: str) -> tuple[Hop, ...]:
        return (Hop(server_site, client_site, None),)

    def confirm(self, src: str, dst: str) -> Confirm:
        # As a broker's, to the bus site serving the receiver (the model places one at every site:
        # the receiver's own), which is a round trip to the receiver.
        return Confirm(self.bus_for(dst))

    def fanout_copies(self, src: str, targets: list[Target]) -> list[FanoutCopy] | None:
        return None  # nothing copies it: the sender casts to every server
