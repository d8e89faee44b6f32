"""oslo.messaging's patterns over each backend, as chains of hops.

What oslo.messaging does on RabbitMQ (oslo_messaging/_drivers/impl_rabbit.py, amqpdriver.py;
shared domain notes §9): a `call` publishes to the topic exchange with routing key `topic.server`,
the server consumes, and the reply goes back through the broker to the caller's `reply_<uuid>`
queue — two passes through the broker, four legs. A `cast` is the first half only. A `fanout`
publishes once to `<topic>_fanout` and the broker copies the message into every server's queue
(one enqueue per server). Notifications go to `<topic>.<priority>` and wait for a listener.

Backends:
- `broker`: every service talks to the RabbitMQ serving the *receiver* (the cell's or region's bus,
  as nova's cell mappings give each cell its transport URL).
- `broker-cluster`: clients connect to their nearest cluster node; a queue lives on the node nearest
  its consumer (where it was declared), so a message entering elsewhere takes the extra node hop.
- `router-mesh`: a router at every site; a message visits the router of every site on its route and
  is never stored (Qpid Dispatch style, "closest" distribution for unicast).
- `brokerless`: sender to receiver directly.
Notifications: `broker` (RabbitMQ at the notification bus) or `log` (Kafka-like partition leader).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from wanstack.scenario.services import NotificationBackend, RpcBackend
from wanstack.sim.chain import ChainRunner, Done, Hop
from wanstack.sim.network import Network
from wanstack.sim.stations import Station

StationFor = Callable[[str, str], Station]  # (kind, site) -> station


class Messaging:
    def __init__(
        self,
        net: Network,
        chains: ChainRunner,
        station: StationFor,
        rpc: RpcBackend,
        notifications: NotificationBackend,
        rpc_bus_for: Callable[[str], str],
        cluster_nodes: list[str],
        notification_bus_for: Callable[[str], str],
        end_ms: tuple[float, float, float],
        timeout_ms: float,
    ) -> None:
        self.net = net
        self.chains = chains
        self.station = station
        self.rpc = rpc
        self.notifications = notifications
        self.rpc_bus_for = rpc_bus_for
        self.notification_bus_for = notification_bus_for
        # A library end's cost on a message's path: a call's, a cast's, a notification's.
        self.client_ms, self.cast_ms, self.notify_ms = end_ms
        self.timeout_ms = timeout_ms
        self.cluster_nodes = cluster_nodes
        self._nearest_node: dict[str, str] = {}

    # --- routes of one message -----------------------------------------------------------------
    def _node(self, site: str) -> str:
        node = self._nearest_node.get(site)
        if node is None:
            node = min(
                self.cluster_nodes,
                key=lambda n: (
                    self.net.topology.path_delay_ms(site, n)
                    if self.net.topology.reachable(site, n)
                    else 1e18,
                    n,
                ),
            )
            self._nearest_node[site] = node
        return node

    def request_hops(self, src: str, dst: str, server: Station | None, fanout: int = 1) -> tuple[Hop, ...]:
        """Hops from a client at `src` to the server station at `dst`."""
        if self.rpc is RpcBackend.BROKER:
            bus = self.rpc_bus_for(dst)
            return ((src, bus, self.station("rpc-broker", bus)), (bus, dst, server))
        if self.rpc is RpcBackend.BROKER_CLUSTER:
            entry, home = self._node(src), self._node(dst)
            hops: list[Hop] = [(src, entry, self.station("rpc-broker", entry))]
            if home != entry:
                hops.append((entry, home, self.station("rpc-broker", home)))
            hops.append((home, dst, server))
            return tuple(hops)
        if self.rpc is RpcBackend.ROUTER_MESH:
            path = self.net.path(src, dst) if src != dst else [src]
            if path is None:
                return ((src, dst, server),)  # no route: the network drops it
            hops = [(src, src, self.station("router", src))]
            hops += [(u, v, self.station("router", v)) for u, v in itertools.pairwise(path)]
            hops.append((dst, dst, server))
            return tuple(hops)
        return ((src, dst, server),)

    def reply_hops(self, server_site: str, client_site: str) -> tuple[Hop, ...]:
        """The reply of a call: back through the same bus to the caller's reply queue."""
        if self.rpc is RpcBackend.BROKER:
            bus = self.rpc_bus_for(server_site)
            return ((server_site, bus, self.station("rpc-broker", bus)), (bus, client_site, None))
        hops = self.request_hops(server_site, client_site, None)
        return hops

    # --- patterns ------------------------------------------------------------------------------
    def call(
        self,
        src: str,
        dst: str,
        server: Station | None,
        request_bytes: float,
        reply_bytes: float,
        done: Done,
        failed: Done,
        arg: Any,
        messages: float = 1.0,
        tag: str = "background",
        fluid: bool = False,
    ) -> None:
        """RPC call: request, server work, reply. A message lost on the way (no route, a broker or the
        server down) surfaces as a MessagingTimeout `rpc_response_timeout` after the call started."""
        start = self.net.sim.now
        sim = self.net.sim

        def lost(_: Any) -> None:
            sim.at(start + self.timeout_ms, failed, arg)

        def replied(_: Any) -> None:
            # Sent by the server's process, not by a client at its site.
            self.chains.run(
                self.reply_hops(dst, src),
                reply_bytes,
                messages,
                done,
                lost,
                arg,
                self.client_ms,
                tag,
                fluid,
                server,
            )

        self.chains.run(
            self.request_hops(src, dst, server),
            request_bytes,
            messages,
            replied,
            lost,
            None,
            self.client_ms,
            tag,
            fluid,
        )

    def cast(
        self,
        src: str,
        dst: str,
        server: Station | None,
        nbytes: float,
        done: Done,
        lost: Done | None,
        arg: Any,
        messages: float = 1.0,
        tag: str = "background",
        fluid: bool = False,
    ) -> None:
        """RPC cast: one way; `done` runs when the server has processed it."""
        self.chains.run(
            self.request_hops(src, dst, server), nbytes, messages, done, lost, arg, self.cast_ms, tag, fluid
        )

    def confirm_ms(self, src: str, nbytes: float, entry: str, home: str | None = None) -> float:
        """How long a publisher waits after sending: oslo.messaging's rabbit driver opens its kombu
        connections with `confirm_publish: True` (impl_rabbit.py), so every publish (a cast, a
        notification, a call's request) returns once the broker's basic.ack is back: one round trip
        between the publisher and its broker (`entry`), whatever the consumers do. In a cluster the
        ack waits until the queue's `home` member has the message ("a message is confirmed once it
        has been accepted by all the queues it was routed to", RabbitMQ's publisher-confirm docs):
        one more round trip between the members."""
        legs = [(src, entry, nbytes), (entry, src, CONFIRM_BYTES)]
        if home is not None and home != entry:
            legs += [(entry, home, nbytes), (home, entry, CONFIRM_BYTES)]
        total = 0.0
        for a, b, size in legs:
            leg = self.net.delay(a, b, size)
            if leg is None:
                return math.inf
            total += leg
        return total

    def notify_confirm_ms(self, src: str, nbytes: float) -> float:
        """How long a notifier waits after a notification: the broker's confirm (`confirm_ms`); a
        Kafka producer only queues the message locally (`produce()` then `poll(0)`, impl_kafka.py)."""
        if self.notifications is not NotificationBackend.BROKER:
            return 0.0
        return self.confirm_ms(src, nbytes, self.notification_bus_for(src))

    def cast_confirm_ms(self, src: str, dst: str, nbytes: float) -> float:
        """`confirm_ms` of a cast from `src` to a server at `dst`, on this bus."""
        if self.rpc is RpcBackend.BROKER_CLUSTER:
            return self.confirm_ms(src, nbytes, self._node(src), self._node(dst))
        return self.confirm_ms(src, nbytes, self.rpc_bus_for(dst))

    def fanout(
        self, src: str, targets: list[tuple[str, Station]], nbytes: float, done: Done | None, arg: Any
    ) -> None:
        """Fanout cast to every server of a topic; through a broker the message is enqueued once per
        server (the broker station works n times). Servers on several buses (a bus per cell): the
        client sends it on each bus at once (`bench.cases.Bus`), each broker copies it to its own."""
        if self.rpc in (RpcBackend.BROKER, RpcBackend.BROKER_CLUSTER) and targets:
            for bus, group in self._fanout_groups(src, targets).items():
                self._fanout_on(src, bus, group, nbytes, done, arg)
            return
        for site, server in targets:
            self.cast(src, site, server, nbytes, done or _ignore, None, arg)

    def _fanout_groups(
        self, src: str, targets: list[tuple[str, Station]]
    ) -> dict[str, list[tuple[str, Station]]]:
        if self.rpc is RpcBackend.BROKER_CLUSTER:
            return {self._node(src): targets}
        groups: dict[str, list[tuple[str, Station]]] = {}
        for site, server in targets:
            groups.setdefault(self.rpc_bus_for(site), []).append((site, server))
        return groups

    def _fanout_on(
        self,
        src: str,
        bus: str,
        targets: list[tuple[str, Station]],
        nbytes: float,
        done: Done | None,
        arg: Any,
    ) -> None:
        broker = self.station("rpc-broker", bus)

        def spread(_: Any) -> None:
            for site, server in targets:
                self.chains.run(((bus, site, server),), nbytes, 1.0, done or _ignore, None, arg, self.cast_ms)

        def enqueue(_: Any) -> None:
            # The broker copies the message into each of the n queues: n units of broker work.
            if broker.up:
                broker.submit(float(len(targets)), spread, None)

        self.chains.run(((src, bus, None),), nbytes, 1.0, enqueue, None, None, self.cast_ms)

    def fanout_confirm_ms(self, src: str, targets: list[tuple[str, Station]], nbytes: float) -> float:
        """How long a fanout's sender waits: the slowest of its buses' confirms (sent at once)."""
        if self.rpc not in (RpcBackend.BROKER, RpcBackend.BROKER_CLUSTER) or not targets:
            return 0.0
        return max(self.confirm_ms(src, nbytes, bus) for bus in self._fanout_groups(src, targets))

    def notify(self, src: str, nbytes: float, messages: float = 1.0, tag: str = "background") -> None:
        """A notification: to the notification bus, where a listener consumes it."""
        bus = self.notification_bus_for(src)
        kind = "notification-broker" if self.notifications is NotificationBackend.BROKER else "log-leader"
        self.chains.run(
            ((src, bus, self.station(kind, bus)),), nbytes, messages, _ignore, None, None, self.notify_ms, tag
        )


# An AMQP basic.ack frame: 7-byte frame header, class and method ids (4), delivery tag (8), the
# `multiple` bit (1), frame end (1) (AMQP 0-9-1 §4.2.3, §1.8.3.13). The relay measures 21 bytes a cast.
CONFIRM_BYTES = 21


def _ignore(_: Any) -> None:
    return None
