"""A link's whole shape reaches the relay, and the relay does what each field says (`lab.relay`).

`LinkShape.of_path` composes a scenario's route as the simulator does (`sim.network.Network.route`);
each field is then measured through a real relay to a server on 127.0.0.1 (no other service needed).
Every assertion not marked `timing` is a bound that a slow machine cannot break in the wrong
direction: it only ever makes a byte later, never earlier.
"""

from __future__ import annotations

import doctest
import itertools
import socket
import socketserver
import statistics
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from wanstack.lab import relay as relay_module
from wanstack.lab.relay import DelayRelay, LinkShape, Way, derived_seed
from wanstack.scenario.load import load
from wanstack.sim.kernel import Simulator
from wanstack.sim.network import Network
from wanstack.topology import Topology, WanLink
from wanstack.topology.tcp import TCP_RTO_MIN_MS

SIZE = struct.Struct("!I")


# --- composing a route ----------------------------------------------------------------------------
def test_the_docstrings_example_holds() -> None:
    assert doctest.testmod(relay_module).failed == 0


def test_of_path_composes_a_multi_hop_route_each_way() -> None:
    """a→m→b: delays added per direction (asymmetric: 10 ms there, 12 ms back on a–m), jitters kept
    per hop, loss 1 − Π(1 − pᵢ), the bottleneck's rate."""
    topology = Topology(
        "amb", [WanLink("a", "m", 10.0, 12.0, 2.0, 100.0, 1.0), WanLink("m", "b", 5.0, 7.0, 3.0, 1000.0, 2.0)]
    )
    shape = LinkShape.of_path(topology, "a", "b", seed=7)
    loss = 100.0 * (1.0 - 0.99 * 0.98)
    assert shape.there == Way(15.0, (2.0, 3.0), shape.there.loss_pct, 100.0)
    assert shape.back == Way(19.0, (3.0, 2.0), shape.back.loss_pct, 100.0)
    assert shape.there.loss_pct == shape.back.loss_pct == pytest.approx(loss)
    assert shape.rtt_ms == 34.0
    assert shape.there.jitter_bound_ms == 5.0
    # The other way round: the same links, the directions swapped.
    other = LinkShape.of_path(topology, "b", "a", seed=7)
    assert (other.there.delay_ms, other.back.delay_ms) == (19.0, 15.0)
    # No link, no shape: a relay within a site would carry bytes untouched.
    assert LinkShape.of_path(topology, "m", "m").there == Way(0.0, (), 0.0, None)


def test_the_way_back_is_the_route_back_when_asymmetric_delays_make_it_another() -> None:
    """a→b is direct (10 ms; 50 ms back), b→a goes round by c (1 + 1 ms): the answers take the
    route the simulator gives a message from b to a, with its links' jitter, loss and rate."""
    topology = Topology(
        "abc",
        [
            WanLink("a", "b", 10.0, 50.0, 4.0, 200.0, 0.5),
            WanLink("a", "c", 30.0, 1.0, 0.0, 50.0, 0.0),
            WanLink("c", "b", 30.0, 1.0, 1.0, 80.0, 0.0),
        ],
    )
    shape = LinkShape.of_path(topology, "a", "b")
    assert shape.there == Way(10.0, (4.0,), shape.there.loss_pct, 200.0)
    assert shape.there.loss_pct == pytest.approx(0.5)
    assert shape.back == Way(2.0, (1.0,), 0.0, 50.0)


def test_of_path_agrees_with_the_simulators_routes_on_every_pair_of_a_scenario() -> None:
    infra = load(Path(__file__).parent.parent / "examples" / "tour.yaml")
    topology = infra.topology
    network = Network(Simulator(0), topology, lan_delay_ms=0.1)
    for a, b in itertools.permutations(topology.sites, 2):
        shape = LinkShape.of_path(topology, a, b)
        for way, (u, v) in ((shape.there, (a, b)), (shape.back, (b, a))):
            route = network.route(u, v)
            assert route is not None
            assert way.delay_ms == pytest.approx(route.delay_ms)
            assert way.jitters_ms == route.jitters_ms
            assert 1.0 - way.loss_pct / 100.0 == pytest.approx(route.survival)
            assert way.bandwidth_mbps == route.bottleneck_mbps


def test_every_relay_draws_numbers_of_its_own_and_the_same_ones_every_run() -> None:
    topology = Topology("ab", [WanLink("a", "b", 10.0, 10.0, 5.0, 10.0, 1.0)])
    seeds = {
        LinkShape.of_path(topology, "a", "b", seed=1).seed,
        LinkShape.of_path(topology, "b", "a", seed=1).seed,
        LinkShape.of_path(topology, "a", "b", seed=2).seed,
        LinkShape.of_path(topology, "a", "b", seed=1).reseeded("epmd").seed,
    }
    assert len(seeds) == 4
    assert LinkShape.of_path(topology, "a", "b", seed=1) == LinkShape.of_path(topology, "a", "b", seed=1)
    assert derived_seed(1, "a", "b") == derived_seed(1, "a", "b") != derived_seed(1, "ab")


def test_a_hand_written_shape_is_the_same_both_ways_unless_told() -> None:
    shape = LinkShape(delay_ms=10.0, jitter_ms=5.0, loss_pct=1.0, bandwidth_mbps=10.0)
    assert shape.there == shape.back == Way(10.0, (5.0,), 1.0, 10.0)
    assert LinkShape(delay_ms=10.0, reverse_delay_ms=3.0).back.delay_ms == 3.0
    assert LinkShape(bandwidth_mbps=float("inf")).there.bandwidth_mbps is None


# --- a real relay -----------------------------------------------------------------------------------
class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _Sink(socketserver.BaseRequestHandler):
    """Reads a size, then that many bytes, then answers one byte; again until the client leaves."""

    def handle(self) -> None:
        while (head := _recv(self.request, SIZE.size)) is not None:
            (size,) = SIZE.unpack(head)
            if _recv(self.request, size) is None:
                return
            self.request.sendall(b"k")


class _Swap(socketserver.BaseRequestHandler):
    """Reads a size, then sends that many bytes while it reads as many."""

    def handle(self) -> None:
        head = _recv(self.request, SIZE.size)
        if head is None:
            return
        (size,) = SIZE.unpack(head)
        sender = threading.Thread(target=self.request.sendall, args=(b"s" * size,))
        sender.start()
        _recv(self.request, size)
        sender.join()


def _recv(sock: socket.socket, n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        data = sock.recv(min(n - got, 1 << 20))
        if not data:
            return None
        parts.append(data)
        got += len(data)
    return b"".join(parts)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def _server(handler: type[socketserver.BaseRequestHandler], host: str = "127.0.0.1") -> Iterator[int]:
    with _Server((host, 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()


def _connect(relay: DelayRelay) -> socket.socket:
    sock = socket.create_connection((relay.host, relay.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _round_trips(shape: LinkShape, n: int = 30) -> list[float]:
    """`n` round trips of 8 bytes, one after the other, in ms."""
    with _server(_Echo) as port, DelayRelay(port, shape) as relay, _connect(relay) as sock:
        out = []
        for _ in range(n):
            start = time.perf_counter()
            sock.sendall(b"12345678")
            assert _recv(sock, 8) == b"12345678"
            out.append((time.perf_counter() - start) * 1000)
    return out


def _send(relay: DelayRelay, nbytes: int) -> float:
    """Seconds to carry `nbytes` through the relay to a sink, until its answer is back."""
    with _connect(relay) as sock:
        start = time.perf_counter()
        sock.sendall(SIZE.pack(nbytes) + b"x" * nbytes)
        assert _recv(sock, 1) == b"k"
        return time.perf_counter() - start


# A seed whose draws spread the round trips (any would, almost surely: this one makes it certain).
SEED = 1


def test_jitter_spreads_round_trips_within_its_bounds_each_way() -> None:
    """10 ms each way, ±5 ms each way: a round trip is 20 ms ± 10 ms. Some take less than the
    nominal 20 ms, which no slowness could do; none less than 2 × (10 − 5) ms."""
    jittered = _round_trips(LinkShape(delay_ms=10.0, jitter_ms=5.0, seed=SEED))
    steady = _round_trips(LinkShape(delay_ms=10.0, seed=SEED))
    assert min(steady) >= 20.0 - 0.1, steady
    assert min(jittered) >= 10.0 - 0.1, jittered
    assert min(jittered) < 18.0, jittered
    assert max(jittered) - min(jittered) > 5.0, jittered


@pytest.mark.timing
def test_jitter_is_bounded_by_plus_minus_jitter_each_way_and_spreads_more_than_none() -> None:
    jittered = _round_trips(LinkShape(delay_ms=10.0, jitter_ms=5.0, seed=SEED))
    steady = _round_trips(LinkShape(delay_ms=10.0, seed=SEED))
    assert max(jittered) <= 30.0 + 3.0, jittered
    assert statistics.stdev(jittered) > 2 * statistics.stdev(steady), (jittered, steady)


def test_jitter_keeps_a_stream_in_order() -> None:
    """Chunks sent 0.2 ms apart with ±5 ms of jitter would overtake each other on their own: a TCP
    stream through the relay still arrives in order."""
    sent = b"".join(SIZE.pack(i) for i in range(300))
    with (
        _server(_Echo) as port,
        DelayRelay(port, LinkShape(delay_ms=2.0, jitter_ms=5.0, seed=SEED)) as relay,
        _connect(relay) as sock,
    ):
        for i in range(0, len(sent), SIZE.size):
            sock.sendall(sent[i : i + SIZE.size])
            time.sleep(0.0002)
        assert _recv(sock, len(sent)) == sent


def _exchanges(shape: LinkShape, n: int, nbytes: int) -> list[tuple[float, int]]:
    """`n` requests of `nbytes` with a 1-byte answer, one after the other: (seconds, retransmissions
    the relay drew for it)."""
    out = []
    with _server(_Sink) as port, DelayRelay(port, shape) as relay, _connect(relay) as sock:
        for _ in range(n):
            before = relay.forward.retransmissions + relay.backward.retransmissions
            start = time.perf_counter()
            sock.sendall(SIZE.pack(nbytes) + b"x" * nbytes)
            assert _recv(sock, 1) == b"k"
            # Counted when the chunk is read, before it is released: all in by the time the answer is.
            lost = relay.forward.retransmissions + relay.backward.retransmissions - before
            out.append((time.perf_counter() - start, lost))
    return out


@pytest.mark.slow
def test_loss_retransmits_and_an_exchange_that_lost_a_segment_waits_an_rto() -> None:
    """1 % of segments lost, 64 KiB requests (46 segments: a request loses one with probability
    37 %): retransmissions happen, and every exchange that had one took at least TCP's RTO
    (RTT + 200 ms). Without loss, none."""
    lossy = _exchanges(LinkShape(delay_ms=1.0, loss_pct=1.0, seed=SEED), 30, 65536)
    assert sum(lost for _, lost in lossy) > 0
    for seconds, lost in lossy:
        if lost:
            assert seconds >= (2.0 + TCP_RTO_MIN_MS) / 1000, lossy
    assert sum(lost for _, lost in _exchanges(LinkShape(delay_ms=1.0, seed=SEED), 30, 65536)) == 0


@pytest.mark.timing
def test_without_loss_no_exchange_waits_an_rto() -> None:
    clean = _exchanges(LinkShape(delay_ms=1.0, seed=SEED), 30, 65536)
    assert max(seconds for seconds, _ in clean) < TCP_RTO_MIN_MS / 1000, clean


TEN_MBIT = LinkShape(delay_ms=1.0, bandwidth_mbps=10.0)


def _together(relay: DelayRelay, sizes: list[int]) -> float:
    """Seconds until every one of several connections has carried its bytes, all sent at once."""
    took: list[float] = []
    threads = [threading.Thread(target=lambda n=n: took.append(_send(relay, n))) for n in sizes]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(took) == len(sizes)
    return time.perf_counter() - start


def test_a_rate_cap_holds_a_transfer_to_the_links_bandwidth() -> None:
    """2 MB at 10 Mbit/s: at least 1.6 s."""
    with _server(_Sink) as port, DelayRelay(port, TEN_MBIT) as relay:
        assert _send(relay, 2_000_000) >= 1.6


def test_connections_through_one_relay_share_its_rate() -> None:
    """Two connections of 1 MB at once through a 10 Mbit/s relay: 1.6 s for both, as one
    connection carrying both would take (each with a bucket of its own, 0.8 s)."""
    with _server(_Sink) as port, DelayRelay(port, TEN_MBIT) as relay:
        assert _together(relay, [1_000_000, 1_000_000]) >= 1.6


@pytest.mark.timing
def test_a_rate_cap_is_what_slows_a_transfer_and_each_direction_has_its_own() -> None:
    with _server(_Sink) as port:
        with DelayRelay(port, LinkShape(delay_ms=1.0)) as free:
            assert _send(free, 2_000_000) < 0.5
        with DelayRelay(port, TEN_MBIT) as relay:
            assert _together(relay, [1_000_000, 1_000_000]) < 1.6 * 1.25 + 0.2
    # 1 MB each way at once on one connection: 0.8 s, not 1.6 s (each way is a line of its own).
    with _server(_Swap) as port, DelayRelay(port, TEN_MBIT) as relay, _connect(relay) as sock:
        start = time.perf_counter()
        sock.sendall(SIZE.pack(1_000_000))
        sender = threading.Thread(target=sock.sendall, args=(b"x" * 1_000_000,))
        sender.start()
        assert _recv(sock, 1_000_000) is not None
        sender.join()
        assert time.perf_counter() - start < 1.3
