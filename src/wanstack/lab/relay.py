"""A WAN link in user space: a TCP relay that delays each direction, with jitter, loss and a rate cap.

The kernel here has no netem, so each emulated link is an asyncio relay placed between a client and
the server it reaches across the WAN. Bytes read from one side are released to the other `delay`
later (per chunk, pipelined, never reordered: a TCP stream stays in order), with:
- jitter: a uniform ±jitter on each release (netem's default distribution), clamped to keep order;
- loss: a chunk of k segments is "lost" with probability 1 − (1 − p)^k and then released one RTO
  later (RTT + 200 ms, Linux's TCP_RTO_MIN), which is what TCP shows the application;
- bandwidth: a token bucket — a chunk may not leave before the previous one has been serialised.
Delay is one-way per direction, as in EnOS: the RTT through the relay is twice the delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import threading
from dataclasses import dataclass, field

from wanstack.lab.amqp import AmqpMessages
from wanstack.lab.natsproto import NatsMessages
from wanstack.lab.ports import free_port
from wanstack.topology.tcp import first_retransmission_after

MSS = 1448
RTO_MIN_MS = 200.0
CHUNK = 65536
COUNTERS: dict[str, type[AmqpMessages] | type[NatsMessages]] = {"amqp": AmqpMessages, "nats": NatsMessages}


@dataclass
class LinkShape:
    delay_ms: float = 0.0
    reverse_delay_ms: float | None = None
    jitter_ms: float = 0.0
    loss_pct: float = 0.0
    bandwidth_mbps: float | None = None
    seed: int = 0


@dataclass
class DirectionStats:
    chunks: int = 0
    bytes: int = 0
    retransmissions: int = 0
    messages: int = 0  # messages (AMQP basic.publish / deliver, NATS PUB / MSG) when the relay counts them

    def snapshot(self) -> DirectionStats:
        return DirectionStats(self.chunks, self.bytes, self.retransmissions, self.messages)

    def since(self, earlier: DirectionStats) -> DirectionStats:
        return DirectionStats(
            self.chunks - earlier.chunks,
            self.bytes - earlier.bytes,
            self.retransmissions - earlier.retransmissions,
            self.messages - earlier.messages,
        )


@dataclass
class DelayRelay:
    """Listens on `host`:`port` and relays to `target_host`:`target_port` through the link shape
    (loopback addresses: a site of the bench may have its own, 127.0.x.1)."""

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
        back = shape.delay_ms if shape.reverse_delay_ms is None else shape.reverse_delay_ms
        rtt = shape.delay_ms + back
        for reader, writer, delay, stats in (
            (client_r, target_w, shape.delay_ms, self.forward),
            (target_r, client_w, back, self.backward),
        ):
            queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
            for coro in (self._read(reader, queue, delay, rtt, stats), self._write(writer, queue, stats)):
                task = asyncio.get_running_loop().create_task(coro)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _read(
        self,
        reader: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        delay_ms: float,
        rtt_ms: float,
        stats: DirectionStats,
    ) -> None:
        loop = asyncio.get_running_loop()
        shape = self.shape
        last = 0.0
        try:
            while data := await reader.read(CHUNK):
                release = loop.time() + delay_ms / 1000.0
                if shape.jitter_ms:
                    release += self._rng.uniform(-shape.jitter_ms, shape.jitter_ms) / 1000.0
                if shape.loss_pct:
                    p_chunk = 1.0 - (1.0 - shape.loss_pct / 100.0) ** math.ceil(len(data) / MSS)
                    rto = (rtt_ms + RTO_MIN_MS) / 1000.0
                    while self._rng.random() < p_chunk:
                        release += rto
                        rto *= 2
                        stats.retransmissions += 1
                last = max(last, release)  # never reorder a byte stream
                queue.put_nowait((last, data))
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
        rate = self.shape.bandwidth_mbps
        free_at = 0.0  # when the (emulated) line is free again
        counter = COUNTERS[self.protocol]() if self.protocol is not None else None
        try:
            while (item := await queue.get()) is not None:
                release, data = item
                if rate:
                    release = max(release, free_at)
                    free_at = release + len(data) * 8 / (rate * 1e6)
                wait = release - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
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
