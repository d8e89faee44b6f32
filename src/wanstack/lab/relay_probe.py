"""Measure the relay itself: how much latency it adds beyond the configured delay, and how many
small messages per second it carries. The calibration subtracts this from what the bench measures."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wanstack.lab.relay import DelayRelay, DirectionStats, LinkShape, TcpWindow


@dataclass
class RelayOverhead:
    """What a relay adds at one configured delay (ms each way): over `samples` round trips of 100 bytes, the
    median and 99th percentile of the time beyond twice the delay (two traversals, ms), and the 100-byte
    messages per second it carries one way, pipelined."""

    delay_ms: float
    samples: int
    added_p50_ms: float  # per round trip (two traversals), beyond 2 × delay
    added_p99_ms: float
    messages_per_s: float  # one-way small messages carried, pipelined


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def measure(
    delay_ms: float = 10.0,
    round_trips: int = 200,
    burst: int = 20000,
    window: TcpWindow | None = TcpWindow(),  # noqa: B008 -- frozen, shared
) -> RelayOverhead:
    """Measure a relay of `delay_ms` each way in front of an echo server on this machine: `round_trips` round
    trips of 100 bytes one after the other, then `burst` messages of 100 bytes pipelined through both
    directions. With TCP's `window` (the default) a burst over a delayed link is held to its slow start
    (2 MB: about 8 RTTs); None measures the relay's own capacity."""
    server, _ = _echo_server()
    port = server.getsockname()[1]
    try:
        with DelayRelay(port, LinkShape(delay_ms=delay_ms, window=window)) as relay:
            client = socket.create_connection(("127.0.0.1", relay.port))
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            added = []
            for _ in range(round_trips):
                start = time.perf_counter()
                client.sendall(b"x" * 100)
                got = 0
                while got < 100:
                    got += len(client.recv(65536))
                added.append((time.perf_counter() - start) * 1000 - 2 * delay_ms)
            # Throughput: a burst of 100-byte messages, pipelined through both directions.
            payload = b"y" * 100
            start = time.perf_counter()

            def send_burst() -> None:
                for _ in range(burst):
                    client.sendall(payload)

            sender = threading.Thread(target=send_burst)
            sender.start()
            got = 0
            while got < 100 * burst:
                got += len(client.recv(1 << 20))
            elapsed = time.perf_counter() - start - 2 * delay_ms / 1000
            sender.join()
            client.close()
    finally:
        server.close()
    arr = np.asarray(added)
    return RelayOverhead(
        delay_ms,
        len(added),
        float(np.percentile(arr, 50)),
        float(np.percentile(arr, 99)),
        burst / max(elapsed, 1e-9),
    )


def _bulk_server(nbytes: int) -> socket.socket:
    """A server on 127.0.0.1 that answers each connection's first byte with `nbytes` bytes."""
    server = socket.create_server(("127.0.0.1", 0))
    block = memoryview(bytes(1 << 20))

    def serve(conn: socket.socket) -> None:
        with conn:
            while conn.recv(1):  # each request, until the client closes
                left = nbytes
                while left > 0:
                    conn.sendall(block[: min(left, len(block))])
                    left -= len(block)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server


def transfer_seconds(shape: LinkShape, nbytes: int) -> float:
    """Seconds for a client to ask for `nbytes` through a relay of `shape` and receive them all, from
    a server on this machine (a download: the request goes client to server, the bytes come back),
    measured from the request's sending to the last byte's arrival. The connection is set up first,
    outside the time (a relay sets it up at once; a real path would add one RTT)."""
    return transfers_seconds(shape, nbytes)[0]


def transfers_seconds(shape: LinkShape, nbytes: int, pauses_s: Sequence[float] = ()) -> list[float]:
    """`transfer_seconds` on one connection: a first transfer, then after each pause another (a
    kept-alive connection: its window is what the transfers before left, unless it idled an RTO)."""
    return transfers(shape, nbytes, pauses_s)[0]


def transfers(
    shape: LinkShape, nbytes: int, pauses_s: Sequence[float] = ()
) -> tuple[list[float], DirectionStats]:
    """`transfers_seconds`, and what the relay carried back (server to client: the bytes, the times its
    window held them)."""
    server = _bulk_server(nbytes)
    try:
        with (
            DelayRelay(server.getsockname()[1], shape) as relay,
            socket.create_connection(("127.0.0.1", relay.port)) as client,
        ):
            buffer = bytearray(1 << 20)
            took: list[float] = []
            for pause in (None, *pauses_s):
                if pause is not None:
                    time.sleep(pause)
                start = time.perf_counter()
                client.sendall(b"?")
                got = 0
                while got < nbytes:
                    n = client.recv_into(buffer)
                    if not n:
                        raise ConnectionError(f"the transfer stopped at {got} of {nbytes} bytes")
                    got += n
                took.append(time.perf_counter() - start)
            # The relay counts a chunk once its write is drained, which can come after the client has
            # read it: wait (briefly) until it has counted every byte.
            deadline = time.monotonic() + 1.0
            while relay.backward.bytes < nbytes * len(took) and time.monotonic() < deadline:
                time.sleep(0.001)
            return took, relay.backward.snapshot()
    finally:
        server.close()
