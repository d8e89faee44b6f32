"""A WAN link in user space: a TCP relay that delays each direction, with jitter, loss and a rate cap.

The kernel here has no netem, so each emulated link is an asyncio relay placed between a client and
the server it reaches across the WAN. What a relay does is its `LinkShape`: one link's, written by
hand (probes, tests), or the route's between two of a scenario's sites (`LinkShape.of_path`, what
every engine uses), composed as the simulator composes a route (`sim.network.Network.route`). Bytes
read from one side are released to the other later, per chunk, pipelined and never reordered (a TCP
stream stays in order), each direction with its own figures:
- delay: the direction's one-way delay, as in EnOS (the RTT through the relay is the two directions'
  sum: twice the delay when they are equal);
- jitter: each hop's uniform ±jitter (netem's default distribution), drawn for every chunk and added,
  as the simulator draws one per link of a route; clamped to keep the stream in order;
- loss: a chunk of k segments is "lost" with probability 1 − (1 − p)^k and then released one RTO
  later (RTT + 200 ms, Linux's TCP_RTO_MIN, doubling at each new loss), which is what TCP shows the
  application;
- bandwidth: each direction of a relay is one line of that rate, shared by every connection through
  the relay: a chunk is serialised onto it behind whatever entered before it (from any connection),
  then propagates. So N connections through one relay share the rate, as the traffic crossing a link
  of that bandwidth does;
- TCP's window (`TcpWindow`; None: none): a relay on loopback would otherwise acknowledge every byte
  at once, and a bulk transfer through it would never be held to window/RTT. So each direction of each
  connection has a sender's congestion window: what the relay lets onto the line is in flight until
  its ACK would come back (when it reaches the other side, plus the way back's delay), and the relay
  reads no more while the window is full (the sender's socket then fills and blocks it, as a real
  sender's does). The window starts at TCP's initial window (10 segments, RFC 6928), grows by what
  each ACK acknowledges (slow start, RFC 5681 §3.1: about ×2 per RTT) up to the receiver's largest
  window (Linux's default `tcp_rmem` max, 6 MiB, half of it advertised: `topology.tcp`). An emulated
  loss halves it (ssthresh = cwnd/2, as after a fast retransmit, RFC 5681 §3.2 and what Mathis'
  formula assumes), after which it grows by about one MSS per RTT (congestion avoidance, §3.1). A
  connection idle for more than an RTO (RTT + 200 ms) starts again from the initial window (RFC 5681
  §4.1; Linux's tcp_slow_start_after_idle = 1). So a transfer takes at least
  `topology.tcp.window_transfer_ms`; a message smaller than the initial window (an RPC) is never held
  by it.
Its clock: asyncio's selector sleeps whole milliseconds (epoll's timeout is rounded up), so a wait
shorter than one (a window's ACK at a LAN's sub-millisecond RTT) is spun, yielding to the loop, and
longer ones are slept, each late by less than a millisecond (`_until`).

What it does not model:
- links shared between routes: a relay is a route, not a backbone link, so relays whose routes cross
  one link each get that link's whole rate (two sites behind one 10 Mbit/s link, each with a relay
  to the top, get 10 Mbit/s each);
- the rest of TCP: the handshake (a connection through a relay is set up at once), the receive
  window's own growth (Linux's autotuning starts at tcp_rmem[1] and keeps ahead of slow start),
  CUBIC's growth (Linux's default; the relay grows as Reno does), and the window of a connection
  while its link is cut;
- what a loss costs the line: the retransmission does not take the line again, and losses are drawn
  per chunk read (up to 64 KiB, ⌈size / MSS⌉ segments), not per segment on the wire;
- a route's change: a relay keeps its shape when a link on its route is cut (`cut` holds it instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import itertools
import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from wanstack.lab.amqp import AmqpMessages
from wanstack.lab.messages import MessageCounter
from wanstack.lab.natsproto import NatsMessages
from wanstack.lab.ports import free_port
from wanstack.topology import Topology
from wanstack.topology.tcp import (
    TCP_INITIAL_WINDOW_BYTES,
    TCP_MSS_BYTES,
    TCP_RTO_MIN_MS,
    TCP_WINDOW_BYTES,
    first_retransmission_after,
)

# The shortest wait a relay sleeps rather than spins (`_until`): epoll's timeout granularity.
SLEEP_GRAIN_S = 0.001
CHUNK = 65536
COUNTERS: dict[str, type[MessageCounter]] = {"amqp": AmqpMessages, "nats": NatsMessages}


def derived_seed(seed: int, *names: str) -> int:
    """A seed of its own for one relay, from the run's `seed` and names (its route's ends, which of
    the route's relays it is), as `sim.kernel.Simulator.stream` derives a component's: two relays of
    one run never draw the same numbers, and a relay draws the same ones in every run of that seed."""
    digest = hashlib.blake2b(":".join((str(seed), *names)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Way(NamedTuple):
    """One direction of a link or route, as a relay applies it."""

    delay_ms: float  # one way
    jitters_ms: tuple[float, ...]  # each hop's ±jitter (non-zero ones): uniform draws, added
    loss_pct: float  # a segment lost on the way (any hop)
    bandwidth_mbps: float | None  # the bottleneck; None: no cap

    @property
    def jitter_bound_ms(self) -> float:
        """The most the jitter moves a chunk, either way."""
        return sum(self.jitters_ms)


def _jitters(jitter_ms: float | tuple[float, ...]) -> tuple[float, ...]:
    match jitter_ms:
        case tuple():
            return tuple(j for j in jitter_ms if j)
        case _:
            return (float(jitter_ms),) if jitter_ms else ()


def _cap(bandwidth_mbps: float | None) -> float | None:
    """A rate as the relay applies it: None for none (infinite, or not given)."""
    return None if bandwidth_mbps is None or math.isinf(bandwidth_mbps) else bandwidth_mbps


def _way(topology: Topology, a: str, b: str) -> Way:
    """The lowest-delay route from a to b as one direction, composed as `sim.network.Network.route`:
    delays added, jitters kept per hop, survivals multiplied (1 − loss), the bottleneck's rate."""
    delay = loss = 0.0
    jitters: list[float] = []
    bottleneck = math.inf
    for u, v in itertools.pairwise(topology.path(a, b)):
        link = topology.link(u, v)
        assert link is not None  # the route follows the graph's edges
        delay += link.delay_ab_ms if link.a == u else link.delay_ba_ms
        if link.jitter_ms:
            jitters.append(float(link.jitter_ms))
        # 1 − (1 − L)(1 − p) = L + p − L·p, in percent: a single hop's loss comes out as written.
        loss += link.loss_pct - loss * link.loss_pct / 100.0
        bottleneck = min(bottleneck, float(link.bandwidth_mbps))
    return Way(delay, tuple(jitters), loss, _cap(bottleneck))


@dataclass(frozen=True, kw_only=True)
class TcpWindow:
    """TCP's sender window as a relay applies it to each direction of each connection: it starts at
    `initial_bytes`, doubles per RTT in slow start and stops at `max_bytes`, the receiver's largest
    advertised window. The defaults are Linux's (`topology.tcp`): 10 segments of 1448 B (RFC 6928),
    and half of tcp_rmem's 6 MiB maximum (tcp_adv_win_scale = 1), 3 MiB. On this machine's 6.18 kernel
    tcp_rmem's maximum is 32 MiB (Linux 6.16 raised it): `TcpWindow(max_bytes=16 * 2**20)` for that."""

    initial_bytes: int = TCP_INITIAL_WINDOW_BYTES
    max_bytes: int = TCP_WINDOW_BYTES
    mss_bytes: int = TCP_MSS_BYTES


@dataclass(slots=True)
class _InFlight:
    """One direction of one connection as its sender sees it: the congestion window, the bytes in
    flight and when each piece's ACK comes back (in order: pieces are released in order)."""

    window: float
    initial: float  # the window it starts from, and again after an idle RTO
    cap: float
    mss: float
    idle_s: float  # an RTO: idle for longer, the window starts again from the initial one
    threshold: float = math.inf  # ssthresh: slow start below it
    in_flight: int = 0
    acks: deque[tuple[float, int]] = field(default_factory=deque)
    last_sent: float = -math.inf

    def room(self, now: float) -> float:
        """What may be sent at `now`, after the ACKs that came back by then have opened the window."""
        acks = self.acks
        while acks and acks[0][0] <= now:
            acked = acks.popleft()[1]
            self.in_flight -= acked
            if self.window < self.threshold:  # slow start: + what is acknowledged (RFC 5681 §3.1)
                self.window = min(self.cap, self.window + acked)
            else:  # congestion avoidance: about one MSS per RTT (RFC 5681 eq. 3)
                self.window = min(self.cap, self.window + self.mss * acked / self.window)
        if not self.in_flight and now - self.last_sent > self.idle_s:
            # Nothing sent for more than an RTO: the restart window again (RFC 5681 §4.1).
            self.window = min(self.window, self.initial)
        return self.window - self.in_flight

    def lose(self) -> None:
        """A loss: halve the window (RFC 5681 eq. 4, with the window for FlightSize)."""
        self.threshold = self.window = max(self.window / 2, 2 * self.mss)


@dataclass(frozen=True, kw_only=True)
class LinkShape:
    """What a link, or a route of links, does to the bytes crossing it, each way. The `reverse_*`
    fields are the way back (server to client); None: the same as the way there.

    `jitter_ms`: one link's ±jitter, or a route's hops' (a tuple: each drawn, the draws added).
    `bandwidth_mbps`: None (or infinite) for no cap. `seed`: the relay's jitter and loss draws.
    `window`: TCP's window on each direction of each connection (None: the relay acknowledges at once
    and a transfer is held by nothing but the bandwidth)."""

    delay_ms: float = 0.0
    reverse_delay_ms: float | None = None
    jitter_ms: float | tuple[float, ...] = 0.0
    reverse_jitter_ms: float | tuple[float, ...] | None = None
    loss_pct: float = 0.0
    reverse_loss_pct: float | None = None
    bandwidth_mbps: float | None = None
    reverse_bandwidth_mbps: float | None = None
    seed: int = 0
    window: TcpWindow | None = TcpWindow()

    @classmethod
    def of_path(cls, topology: Topology, a: str, b: str, *, seed: int = 0) -> LinkShape:
        """The shape of the path between two sites of a scenario, for a relay whose clients are at
        `a` and whose server is at `b`: the way there is the lowest-delay route a→b, the way back the
        route b→a (the same links crossed backwards, unless asymmetric delays make another route the
        lowest), each composed as the simulator composes a route (`sim.network.Network.route` and
        `_perturb`):
        - one-way delay: the sum of the hops' delays in that direction;
        - jitter: the hops' jitters, each drawn uniformly in ±jitter and the draws added (not one
          draw in ±Σ jitter: two 5 ms hops make a triangle on ±10 ms, as netem on each link would);
        - loss: 1 − Π(1 − pᵢ) over the hops (a segment must survive every one);
        - bandwidth: the bottleneck, the least rate on the route (None for a == b: no link);
        - seed: `derived_seed(seed, a, b)`, from the run's seed and the pair (`reseeded` for a
          second relay on one pair).
        Raises networkx.NetworkXNoPath when one site cannot reach the other. O((V + E) log V) for
        the first route from a site (`Topology.path` caches them).

        Example: a→m (10 ms, 12 ms back, ±2 ms, 100 Mbit/s, 1 % loss), then m→b (5 ms, ±3 ms, 1 Gbit/s,
        2 % loss):

        >>> from wanstack.topology import Topology, WanLink
        >>> am, mb = WanLink("a", "m", 10, 12, 2, 100, 1), WanLink("m", "b", 5, 5, 3, 1000, 2)
        >>> topo = Topology("amb", [am, mb])
        >>> s = LinkShape.of_path(topo, "a", "b")
        >>> s.delay_ms, s.reverse_delay_ms, s.jitter_ms, round(s.loss_pct, 2), s.bandwidth_mbps
        (15.0, 17.0, (2.0, 3.0), 2.98, 100.0)
        """
        there, back = _way(topology, a, b), _way(topology, b, a)
        return cls(
            delay_ms=there.delay_ms,
            reverse_delay_ms=back.delay_ms,
            jitter_ms=there.jitters_ms,
            reverse_jitter_ms=back.jitters_ms,
            loss_pct=there.loss_pct,
            reverse_loss_pct=back.loss_pct,
            bandwidth_mbps=there.bandwidth_mbps,
            reverse_bandwidth_mbps=back.bandwidth_mbps,
            seed=derived_seed(seed, a, b),
        )

    def reseeded(self, name: str) -> LinkShape:
        """The same shape with draws of its own, for another relay on the same route (`name` tells
        it from the others: "epmd", "distribution" ...)."""
        return dataclasses.replace(self, seed=derived_seed(self.seed, name))

    @property
    def there(self) -> Way:
        """Client to server."""
        return Way(self.delay_ms, _jitters(self.jitter_ms), self.loss_pct, _cap(self.bandwidth_mbps))

    @property
    def back(self) -> Way:
        """Server to client."""
        there = self.there
        return Way(
            there.delay_ms if self.reverse_delay_ms is None else self.reverse_delay_ms,
            there.jitters_ms if self.reverse_jitter_ms is None else _jitters(self.reverse_jitter_ms),
            there.loss_pct if self.reverse_loss_pct is None else self.reverse_loss_pct,
            there.bandwidth_mbps
            if self.reverse_bandwidth_mbps is None
            else _cap(self.reverse_bandwidth_mbps),
        )

    @property
    def rtt_ms(self) -> float:
        """The round trip through the relay: both ways' delays (no jitter, loss or serialisation)."""
        return self.there.delay_ms + self.back.delay_ms

    def settle_ms(self) -> float:
        """How long what enters the relay while its line is idle may take to come out, in the slower
        direction: the delay, the jitter's bound and, on a lossy way, two losses of one chunk in a
        row (an RTO, then twice that; a third is rarer than p³ for a chunk lost with probability p)."""
        rto = self.rtt_ms + TCP_RTO_MIN_MS
        return max(
            way.delay_ms + way.jitter_bound_ms + (3.0 * rto if way.loss_pct else 0.0)
            for way in (self.there, self.back)
        )


async def _until(loop: asyncio.AbstractEventLoop, at: float) -> None:
    """Wait until the loop's time is `at`. asyncio's selector waits whole milliseconds (epoll's
    timeout is rounded up to one), so a sub-millisecond wait (a window's ACK at a LAN's 0.15 ms RTT,
    every round of slow start) would take a whole one: those are spun, yielding to the loop, and only
    waits of a millisecond or more are slept (late by less than a millisecond)."""
    while (wait := at - loop.time()) > 0:
        await asyncio.sleep(wait if wait >= SLEEP_GRAIN_S else 0)


@dataclass
class DirectionStats:
    """What one direction of a relay carried: the chunks it released (a read of up to 64 KiB each), their
    bytes, the losses it emulated (each held a chunk back one RTO), and the messages when it parses their
    protocol. `since` gives what it carried after a `snapshot`."""

    chunks: int = 0
    bytes: int = 0
    retransmissions: int = 0
    messages: int = 0  # messages (AMQP basic.publish / deliver, NATS PUB / MSG) when the relay counts them
    # Times its sender waited for ACKs with bytes to send (its window full): each costs up to an RTT
    # that a message within the window does not pay.
    window_waits: int = 0

    def snapshot(self) -> DirectionStats:
        return dataclasses.replace(self)

    def since(self, earlier: DirectionStats) -> DirectionStats:
        return DirectionStats(
            *(getattr(self, f.name) - getattr(earlier, f.name) for f in dataclasses.fields(self))
        )


@dataclass
class _Line:
    """One direction of a relay as a line of fixed rate, shared by every connection through it."""

    free_at: float = 0.0  # when (loop time) the last byte put on it has left

    def carry(self, now: float, nbytes: int, mbps: float | None) -> float:
        """When the last of `nbytes` that enter at `now` has left: behind what entered before them,
        at the rate (`now` without a rate)."""
        if mbps is None:
            return now
        self.free_at = max(now, self.free_at) + nbytes * 8 / (mbps * 1e6)
        return self.free_at


@dataclass
class DelayRelay:
    """Listens on `host`:`port` and relays to `target_host`:`target_port` through the link shape
    (loopback addresses: a site of the bench may have its own, 127.0.x.1). Every connection through
    the relay shares its rate, one line each way; a new `shape` applies to new connections."""

    target_port: int
    shape: LinkShape = field(default_factory=LinkShape)
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    target_host: str = "127.0.0.1"
    forward: DirectionStats = field(default_factory=DirectionStats)  # client -> target
    backward: DirectionStats = field(default_factory=DirectionStats)
    up: bool = True  # False: the link is cut (existing connections stall, new ones are refused or held)
    # Parse the stream to count messages (per-link messages, as the simulator): "amqp" (AMQP 0-9-1
    # frames, `lab.amqp`) or "nats" (the NATS client protocol, `lab.natsproto`); None: bytes only.
    protocol: str | None = None
    # While cut, accept new connections and hold them, carrying nothing, until the link is restored
    # (a black hole: the client's connect succeeds and its request waits for an answer that does not
    # come), instead of refusing them. A server that closes its connection after each request
    # (wsgiref) is otherwise only ever refused across a cut, never left hanging.
    hold_new: bool = False
    # What a cut held goes through at TCP's first retransmission after the restore (RTO from 200 ms,
    # doubling: `topology.tcp`, as the simulator has it), not the instant the link is back; past
    # tcp_retries2 the connection is dropped. A held new connection counts as sent when accepted (as
    # a request on a kept-alive connection would be: keystoneauth pools its connections).
    retransmit: bool = False

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._rng = random.Random(self.shape.seed)
        # The line each way (forward, backward): the rate is the relay's, not each connection's.
        self._lines = (_Line(), _Line())

    # --- life cycle ----------------------------------------------------------------------------
    def start(self) -> DelayRelay:
        self._thread = threading.Thread(target=self._run, name=f"relay:{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("relay did not start")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(asyncio.start_server(self._accept, self.host, self.port))
        self._ready.set()
        loop.run_forever()
        for task in list(self._tasks):
            task.cancel()
        loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
        loop.close()

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.close()
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        self._thread.join(10)
        self._loop = self._thread = None

    def cut(self) -> None:
        """Cut the link: established connections stop carrying bytes (as a dead link does)."""
        self.up = False

    def restore(self) -> None:
        self.up = True

    def __enter__(self) -> DelayRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- relaying ------------------------------------------------------------------------------
    async def _through_cut(self, sent: float) -> bool:
        """Wait out a cut for what was sent at `sent` (loop time); False when TCP would give up."""
        loop = asyncio.get_running_loop()
        while not self.up:
            await asyncio.sleep(0.05)
        if not self.retransmit:
            return True
        at = first_retransmission_after(sent, loop.time())
        if at is None:
            return False
        await asyncio.sleep(max(0.0, at - loop.time()))
        return True

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # cancelled on stop like the relaying tasks
        self._writers.add(client_w)
        try:
            await self._connect(client_r, client_w)
        except asyncio.CancelledError:  # stopped while held or connecting: end quietly
            client_w.close()
        finally:
            self._tasks.discard(task)

    async def _connect(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if not self.up and not self.hold_new:
            client_w.close()
            return
        if not self.up and not await self._through_cut(asyncio.get_running_loop().time()):
            client_w.close()
            return
        try:
            target_r, target_w = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, target_w}
        shape = self.shape
        there, back = shape.there, shape.back
        rtt = there.delay_ms + back.delay_ms
        for reader, writer, way, line, stats in (
            (client_r, target_w, there, self._lines[0], self.forward),
            (target_r, client_w, back, self._lines[1], self.backward),
        ):
            queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
            flight = (
                _InFlight(
                    shape.window.initial_bytes,
                    shape.window.initial_bytes,
                    shape.window.max_bytes,
                    shape.window.mss_bytes,
                    idle_s=(rtt + TCP_RTO_MIN_MS) / 1000.0,
                )
                if shape.window is not None and rtt > 0
                else None
            )
            for coro in (
                self._read(reader, queue, way=way, line=line, rtt_ms=rtt, stats=stats, flight=flight),
                self._write(writer, queue, stats),
            ):
                task = asyncio.get_running_loop().create_task(coro)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _read(
        self,
        reader: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        *,
        way: Way,
        line: _Line,
        rtt_ms: float,
        stats: DirectionStats,
        flight: _InFlight | None,
    ) -> None:
        """Read one direction and schedule each chunk's release: serialised on the relay's line,
        then the way's delay, jitter and losses, never before the chunk ahead of it. With a window
        (`flight`), only what the window has room for goes: the rest waits for ACKs."""
        loop = asyncio.get_running_loop()
        uniform, draw = self._rng.uniform, self._rng.random
        survival = 1.0 - way.loss_pct / 100.0
        ack_s = (rtt_ms - way.delay_ms) / 1000.0  # from the far side back to the sender
        last = 0.0

        def release(data: bytes) -> None:
            nonlocal last
            at = line.carry(loop.time(), len(data), way.bandwidth_mbps) + way.delay_ms / 1000.0
            if way.jitters_ms:
                at += sum(uniform(-j, j) for j in way.jitters_ms) / 1000.0
            lost = False
            if way.loss_pct:
                p_chunk = 1.0 - survival ** math.ceil(len(data) / TCP_MSS_BYTES)
                rto = (rtt_ms + TCP_RTO_MIN_MS) / 1000.0
                while draw() < p_chunk:
                    at += rto
                    rto *= 2
                    stats.retransmissions += 1
                    lost = True
            last = max(last, at)  # never reorder a byte stream
            queue.put_nowait((last, data))
            if flight is not None:
                flight.last_sent = loop.time()
                flight.in_flight += len(data)
                flight.acks.append((last + ack_s, len(data)))
                if lost:
                    flight.lose()

        try:
            while data := await reader.read(CHUNK):
                if flight is None:
                    release(data)
                    continue
                while data:
                    room = int(flight.room(loop.time()))
                    if room >= len(data):  # an RPC, or a window with room: at once
                        release(data)
                        break
                    if room > 0:
                        release(data[:room])
                        data = data[room:]
                    else:  # full: wait for the first ACK (room <= 0 means bytes are in flight)
                        stats.window_waits += 1
                        await _until(loop, flight.acks[0][0])
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait(None)

    async def _write(
        self,
        writer: asyncio.StreamWriter,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        stats: DirectionStats,
    ) -> None:
        loop = asyncio.get_running_loop()
        counter = COUNTERS[self.protocol]() if self.protocol is not None else None
        try:
            while (item := await queue.get()) is not None:
                release, data = item
                await _until(loop, release)
                # A cut link holds everything until it is restored.
                if not self.up and not await self._through_cut(loop.time()):
                    break
                writer.write(data)
                await writer.drain()
                stats.chunks += 1
                stats.bytes += len(data)
                if counter is not None:
                    before = counter.count
                    counter.feed(data)
                    stats.messages += counter.count - before
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._writers.discard(writer)
