"""Carrying messages hop by hop: network from site to site, then (optionally) a queueing station at
the arrival site. Every messaging pattern and HTTP/DB exchange is such a chain of hops
(`message.Message`), so one small executor carries them all.

This is the simulator's hot path (every message of every run passes `run` and `_arrived`). Its one
extension is declared: a `HostModel`, the machine the processes run on, which the runner calls at two
points of every hop (its departure, its arrival). Without one (a WAN study) every process has a
machine of its own: a library end's cost is a delay on the leg, a station queues its own work. The
bench-host plug-in (`sim.host.SharedHost`) is the one model: every process on one machine's cores.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from heapq import heappush
from itertools import count
from typing import Any, Protocol

from wanstack.sim.glide import Leg, plan
from wanstack.sim.message import Done, Early, Hop, Message
from wanstack.sim.network import Network
from wanstack.sim.stations import Station
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


class HostModel(Protocol):
    """The machine the processes run on, as a `ChainRunner` sees it: what a hop costs beyond the
    network on its way out (the sender's library, a relay) and on its way in (the receiver's library,
    a station's work on the machine's cores). The runner calls `depart` when a hop is due to leave and
    `arrive` when it has crossed; each hands the message back to the runner when the machine is done
    with it (`ChainRunner.cross`, `ChainRunner.run`), so the runner keeps the network, the routes and
    the losses."""

    def depart(self, m: Message, chains: ChainRunner) -> None:
        """Hop `m.at - 1` of `m` is due to leave its source: do the machine's work for it, then
        `chains.cross(m, extra_ms)`, `extra_ms` a delay added to the leg."""

    def arrive(self, m: Message, station: Station | None, chains: ChainRunner) -> None:
        """`m` has crossed hop `m.at - 1` to `station` (None: a host at the destination), which is
        up: do the machine's work for it, then `chains.run(m)` to carry it on."""


class ChainRunner:
    """Runs messages along their hops: a station down on the way or a hop without a route loses the
    message (`Message.lost`); the last hop through, `Message.done` runs. `host`: the machine the
    processes run on (`HostModel`); None, a machine each, is written out in the runner itself, the
    hot path of every WAN study (a model's two calls per hop would add to each)."""

    __slots__ = ("_arrive", "_served", "host", "net")

    # Whether a hop on a site may be sent ahead of its departure (`served`), and a call carried as one
    # message (`messaging.Messaging.call`), whose answer a report may take as it is sent (`_last`):
    # off, each leaves and arrives at an event of its own (tests hold the two ways to each other).
    ahead = True

    def __init__(self, net: Network, host: HostModel | None = None) -> None:
        self.net = net
        self.host = host
        # Bound once: `self._arrived` would make a new bound method for every message sent.
        self._arrive = self._arrived
        self._served = self.served

    def run(self, m: Message) -> None:
        """Carry `m` on from its next hop (`m.at`): a new message from its first."""
        hops = m.hops
        i = m.at
        if i == len(hops):
            m.done(m.arg)
            return
        if (
            m.fluid
            and not i
            and self.glide(((hops, m.nbytes, m.end_ms, True),), m.messages, m.tag, m.done, m.arg)
        ):
            return
        m.at = i + 1
        host = self.host
        if host is not None:
            host.depart(m, self)
            return
        hop = hops[i]
        early = m.early
        if early is not None and i + 1 == len(hops) and hop.station is None:
            self._last(m, hop, early, self._leg(m, i), None)
        elif self.net.send(hop.src, hop.dst, m, self._arrive, self._leg(m, i)) is None:
            self._unroutable(m)

    def _last(self, m: Message, hop: Hop, early: Early, extra_ms: float, depart_ms: float | None) -> None:
        """Send `m`'s last hop to its end host, and take its arrival at once (`early`, its
        `Message.early`) when nothing can happen to it before then: no fault is due and the run does not
        end (`served`'s condition for sending ahead) and its sender accepts. That saves the event of
        every periodic report's arrival back at its host, a sixth of an exact run's events."""
        net = self.net
        sim = net.sim
        arrival = net.send(hop.src, hop.dst, m, None, extra_ms, depart_ms=depart_ms)
        if arrival is None:
            self._unroutable(m)
        elif not (arrival < net.quiet_until and arrival < sim.until and early(m.arg, arrival)):
            heappush(sim.heap, (arrival, next(sim.seq), self._arrive, m))

    @staticmethod
    def _leg(m: Message, i: int) -> float:
        """The library's cost on hop `i` of `m`: the sender's on the first leg, the receiver's on the
        last, and both at a call's reply (`Message.reply_at`), where the reply's bytes take over."""
        last = len(m.hops) - 1
        r = m.reply_at
        if r and (i == r or i == r - 1):
            if i == r:
                m.nbytes = m.reply_nbytes
                m.report = False
            return m.end_ms
        return m.end_ms if i in (0, last) else 0.0

    def glide(self, legs: Sequence[Leg], messages: float, tag: str, done: Done, arg: Any) -> bool:
        """Carry a fluid batch's legs in one event when nothing can happen to it on the way
        (`sim.glide`): `done(arg)` when the hops would have brought it in, the same bytes and jobs
        counted. False, and nothing done, otherwise: the caller sends it hop by hop."""
        if self.host is not None:
            return False
        net = self.net
        way = plan(net, legs, messages)
        if way is None or not way.clear():
            return False
        arrival = way.due(net)
        if arrival is None:
            return False
        way.count(net, tag)
        net.sim.at(arrival, done, arg)
        return True

    def cross(self, m: Message, extra_ms: float) -> None:
        """The network leg of `m`'s hop in progress (`m.at - 1`), `extra_ms` added to its delay: a
        `HostModel`'s way back once `depart` is done."""
        hop = m.hops[m.at - 1]
        if self.net.send(hop.src, hop.dst, m, self._arrive, extra_ms) is None:
            self._unroutable(m)

    def _unroutable(self, m: Message) -> None:
        """The hop in progress has no route. What passes a broker waits for the route and the client's
        reconnection (a cast sent during a cut runs after the restore, as RabbitMQ keeps it in its
        queue); a REST or SQL request hangs on its connection while TCP retransmits, and goes through
        when the route is back (given up after about 15 minutes); a router's or a direct link's
        traffic is lost."""
        i = m.at - 1
        hop = m.hops[i]
        # A call's reply is a message of its own: what its first hop leaves from is not a hop of it.
        hops = m.hops[i:] if i == m.reply_at else m.hops
        j = 0 if i == m.reply_at else i
        if m.fluid or not self.net.site_up[hop.src]:
            self._lost(m)
            return
        if held_by_a_queue(hops, j):
            waits = reconnect_waits_ms()
        elif over_tcp(hops, j):
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
                self.run(m)
            elif (wait := next(waits, None)) is None:
                self._lost(m)  # TCP gave the connection up
            else:
                net.sim.after(wait, attempt)

        net.sim.after(next(waits), attempt)

    def _arrived(self, m: Message) -> None:
        station = m.hops[m.at - 1].station
        host = self.host
        if host is not None:
            if station is not None and not station.up:
                self._lost(m)
            else:
                host.arrive(m, station, self)
        elif station is None:
            self.run(m)
        elif not station.up:
            self._lost(m)
        elif m.fluid:
            station.jobs += int(m.messages)
            wait = station.backlog_wait()
            if wait:
                self.net.sim.after(wait, self.run, m)
            else:
                self.run(m)
        else:
            station.enter(m.messages * station.report_work if m.report else m.messages, self._served, m)

    def served(self, m: Message, end: float) -> None:
        """`m`'s station is done with it at `end` (its service worked out when it entered: `Station.enter`).
        Its next hop is sent at once, to leave at `end`, when it stays on the site (to another service
        there: nothing on the LAN changes before it leaves) and `end` comes before the next fault and the
        run's end, which read or change the lanes' counters. That saves an event at every station a
        message leaves for another service at its site: the broker's delivery to its server and the
        server's reply to the broker. Hops over the WAN leave when they leave: a bulk flow started in
        the meantime would make them wait (`Network.bulk_full`). Otherwise, or when its last hop is
        through, an event at `end` carries it on."""
        net = self.net
        sim = net.sim
        i = m.at
        hops = m.hops
        if i == len(hops):
            heappush(sim.heap, (end, next(sim.seq), m.done, m.arg))
            return
        hop = hops[i]
        src = hop.src
        if self.ahead and src == hop.dst and end < net.quiet_until and end < sim.until and net.site_up[src]:
            m.at = i + 1
            early = m.early
            if early is not None and i + 1 == len(hops) and hop.station is None:
                self._last(m, hop, early, self._leg(m, i), end)
            else:
                net.send(src, src, m, self._arrive, self._leg(m, i), depart_ms=end)
            return
        heappush(sim.heap, (end, next(sim.seq), self.run, m))

    @staticmethod
    def _lost(m: Message) -> None:
        if m.lost is not None:
            m.lost(m.arg)
