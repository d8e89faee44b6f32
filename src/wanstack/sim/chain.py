"""Carrying messages hop by hop: network from site to site, then (optionally) a queueing station at
the arrival site. Every messaging pattern and HTTP/DB exchange is such a chain of hops
(`message.Message`), so one small executor carries them all.

This is the simulator's hot path (every message of every run passes `_next` and `_arrived`). The
bench-host plug-in (`sim.host`) carries the same messages through its shared CPU instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count

from wanstack.sim.message import Hop, Message
from wanstack.sim.network import Network
from wanstack.topology.tcp import retransmissions_ms

# Stations that keep what they are given until its consumer takes it: a RabbitMQ node's queues, a
# Kafka-like log. A router (AMQP 1.0 dispatch) keeps nothing, nor does a direct connection.
QUEUEING = frozenset({"rpc-broker", "notification-broker", "log-leader"})


def reconnect_waits_ms() -> Iterator[float]:
    """oslo.messaging's reconnection to RabbitMQ: `rabbit_retry_interval` = 1 s growing by
    `rabbit_retry_backoff` = 2 s up to `rabbit_interval_max` = 30 s (oslo_messaging/_drivers/
    impl_rabbit.py; kombu's `retry_over_time` adds the step at each attempt: 1, 3, 5, … 29, 30, 30 s)."""
    for step in count():
        yield min(1.0 + 2.0 * step, 30.0) * 1000.0


# Stations reached by REST or SQL over a kept-alive TCP connection with no timeout of its own
# (keystoneauth's `timeout` and the [neutron]/[placement] options default to None; PyMySQL and
# oslo.db set no read timeout): across a cut their requests hang while TCP retransmits.
OVER_TCP = frozenset(
    {"nova-api", "neutron-server", "placement", "glance-api", "keystone", "api-database", "cell-database"}
)


def over_tcp(hops: tuple[Hop, ...], i: int) -> bool:
    """Whether hop `i` is a REST or SQL request to its server (or the server's answer)."""
    to = hops[i].station
    before = hops[i - 1].station if i > 0 else None
    return (to is not None and to.key[0] in OVER_TCP) or (before is not None and before.key[0] in OVER_TCP)


def held_by_a_queue(hops: tuple[Hop, ...], i: int) -> bool:
    """Whether hop `i` goes to or from a station that keeps messages: a publish to a broker, which
    oslo.messaging retries until it reconnects (`retry=None` for casts and notifications), or a
    delivery from a broker's queue, which waits there until its consumer reconnects."""
    to = hops[i].station
    before = hops[i - 1].station if i > 0 else None
    return (to is not None and to.key[0] in QUEUEING) or (before is not None and before.key[0] in QUEUEING)


class ChainRunner:
    """Runs messages along their hops: a station down on the way or a hop without a route loses the
    message (`Message.lost`); the last hop through, `Message.done` runs."""

    __slots__ = ("net",)

    def __init__(self, net: Network) -> None:
        self.net = net

    def run(self, message: Message) -> None:
        self._next(message)

    def _next(self, m: Message) -> None:
        hops = m.hops
        i = m.at
        if i == len(hops):
            m.done(m.arg)
            return
        hop = hops[i]
        m.at = i + 1
        # The library's cost at an end host: the sender's on the first leg, the receiver's on the last.
        extra = m.end_ms if i == 0 or i == len(hops) - 1 else 0.0
        if not self.net.send(hop.src, hop.dst, m, self._arrived, extra):
            self._unroutable(m)

    def _unroutable(self, m: Message) -> None:
        """The hop in progress has no route. What passes a broker waits for the route and the client's
        reconnection (a cast sent during a cut runs after the restore, as RabbitMQ keeps it in its
        queue); a REST or SQL request hangs on its connection while TCP retransmits, and goes through
        when the route is back (given up after about 15 minutes); a router's or a direct link's
        traffic is lost."""
        i = m.at - 1
        hop = m.hops[i]
        if m.fluid or not self.net.site_up[hop.src]:
            self._lost(m)
            return
        if held_by_a_queue(m.hops, i):
            waits = reconnect_waits_ms()
        elif over_tcp(m.hops, i):
            waits = retransmissions_ms()
        else:
            self._lost(m)
            return
        net = self.net

        def attempt(_: object = None) -> None:
            if not net.site_up[hop.src]:
                self._lost(m)
            elif net.reachable(hop.src, hop.dst):
                m.at = i
                self._next(m)
            elif (wait := next(waits, None)) is None:
                self._lost(m)  # TCP gave the connection up
            else:
                net.sim.after(wait, attempt)

        net.sim.after(next(waits), attempt)

    def _arrived(self, m: Message) -> None:
        station = m.hops[m.at - 1].station
        if station is None:
            self._next(m)
        elif not station.up:
            self._lost(m)
        elif m.fluid:
            station.jobs += int(m.messages)
            wait = station.backlog_wait()
            if wait:
                self.net.sim.after(wait, self._next, m)
            else:
                self._next(m)
        else:
            station.submit(m.messages, self._next, m)

    @staticmethod
    def _lost(m: Message) -> None:
        if m.lost is not None:
            m.lost(m.arg)
