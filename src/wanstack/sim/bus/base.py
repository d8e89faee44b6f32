"""What every messaging backend tells the simulator: how an RPC message or a notification travels
from its sender to its receiver, through which nodes, and what its sender waits for.

oslo.messaging on RabbitMQ (oslo_messaging/_drivers/impl_rabbit.py, amqpdriver.py; shared domain
notes §9): a `call` publishes to the topic exchange with routing key `topic.server`, the server
consumes, and the reply goes back through the broker to the caller's `reply_<uuid>` queue — two passes
through the broker, four legs. A `cast` is the first half only. A `fanout` publishes once to
`<topic>_fanout` and the broker copies the message into every server's queue (one enqueue per server).
Notifications go to `<topic>.<priority>` and wait for a listener. The other backends change where the
message passes, not the patterns (`messaging.Messaging`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from wanstack.sim.message import Hop
from wanstack.sim.stations import Station

StationFor = Callable[[str, str], Station]  # (kind, site) -> station
Target = tuple[str, Station]  # a server: its site and its station


class Confirm(NamedTuple):
    """Where a publisher's confirm comes from: the node it publishes to (`entry`) and, in a cluster,
    the member holding the queue when that is another one (`home`), whose copy the ack waits for."""

    entry: str
    home: str | None = None


class FanoutCopy(NamedTuple):
    """A fanout's copies on one bus: its broker copies the message once into each target's queue."""

    bus: str
    broker: Station
    targets: list[Target]


@dataclass(frozen=True)
class BusPlan:
    """What a region's buses are built from: the station at each node, the site of the node serving
    each site (the model's rpc-bus and notification-bus placement; the region's control site where
    none is placed), the region's rpc-bus sites (a cluster's members), and the lowest-delay path
    between two sites (a router mesh's routers are on it)."""

    station: StationFor
    rpc_bus_for: Callable[[str], str]
    notification_bus_for: Callable[[str], str]
    rpc_nodes: list[str]
    control_site: str
    path: Callable[[str, str], list[str] | None]
    nearest: Callable[[str, list[str]], str]  # the node of a list nearest to a site


class RpcBus(Protocol):
    """How oslo.messaging's RPC messages travel on one backend."""

    def bus_for(self, site: str) -> str:
        """The site of the node that serves `site`'s services."""
        ...

    def request_hops(self, src: str, dst: str, server: Station | None) -> tuple[Hop, ...]:
        """From a client at `src` to the server station at `dst`."""
        ...

    def reply_hops(self, server_site: str, client_site: str) -> tuple[Hop, ...]:
        """A call's reply, back to the caller's reply queue."""
        ...

    def confirm(self, src: str, dst: str) -> Confirm:
        """Where the confirm of a cast from `src` to a server at `dst` comes from."""
        ...

    def fanout_copies(self, src: str, targets: list[Target]) -> list[FanoutCopy] | None:
        """The brokers that copy a fanout, each with its targets; None: no broker copies it (the
        sender casts to every server)."""
        ...


class NotificationBus(Protocol):
    """Where notifications go: a node that stores them until a listener consumes them."""

    confirmed: bool  # whether the notifier waits for the node's confirm

    def bus_for(self, site: str) -> str:
        """The site of the node where `site`'s services send their notifications."""
        ...

    def node(self, bus: str) -> Station:
        """The station of the node at site `bus`."""
        ...
