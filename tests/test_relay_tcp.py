"""A relay carries TCP's window (`lab.relay.TcpWindow`): a bulk transfer through it takes the rounds
of slow start and then window/RTT, as the simulator's flows do (`sim.flows`), while a message within
the initial window sees only the delay. Through real sockets on 127.0.0.1.

Assertions not marked `timing` are lower bounds, which a slow machine cannot break: it only ever
makes a byte later. The upper bounds (within 10 or 15 %) are marked `timing`.
"""

from __future__ import annotations

import pytest

from wanstack.lab.relay import LinkShape, TcpWindow
from wanstack.lab.relay_probe import transfer_seconds, transfers, transfers_seconds
from wanstack.sim.transfer import lone_transfer_s
from wanstack.topology.tcp import (
    TCP_INITIAL_WINDOW_BYTES,
    TCP_WINDOW_BYTES,
    slow_start_ms,
    window_transfer_ms,
)

RTT_MS = 100.0
SIZE = 4_000_000  # 8 rounds of slow start to the 3 MiB window, then one more: 0.9 s at 100 ms
WAN = LinkShape(delay_ms=RTT_MS / 2)


def bound_s(nbytes: int, rtt_ms: float, line_mbps: float = float("inf")) -> float:
    """The request's RTT, then the window's rounds (`topology.tcp.window_transfer_ms`)."""
    return (rtt_ms + window_transfer_ms(nbytes, rtt_ms, TCP_WINDOW_BYTES, line_mbps)) / 1000.0


simulated_s = lone_transfer_s  # the simulator's flow model (wanstack.sim.transfer)


def test_the_defaults_are_linuxs() -> None:
    window = TcpWindow()
    assert window.initial_bytes == 10 * 1448  # RFC 6928
    assert window.max_bytes == 3 * 2**20  # half of tcp_rmem's 6 MiB (tcp_adv_win_scale = 1)
    assert LinkShape().window == window


def test_the_bound_counts_the_rounds_of_slow_start() -> None:
    # 4 MB: 14,480 B doubling for 8 rounds (3.69 MB), the rest in a 9th: 8 RTTs after the first byte.
    assert window_transfer_ms(SIZE, RTT_MS) == pytest.approx(8 * RTT_MS)
    # Within the initial window: no round trip beyond the one that carries it.
    assert window_transfer_ms(TCP_INITIAL_WINDOW_BYTES, RTT_MS) == 0.0
    # The line's rate is the limit when the window carries more per RTT than the line can.
    assert window_transfer_ms(SIZE, 1.0, line_mbps=10.0) == pytest.approx(SIZE / 1250.0)


def test_a_transfer_takes_slow_start_and_window_per_rtt_through_the_relay() -> None:
    took = transfer_seconds(WAN, SIZE)
    assert took >= bound_s(SIZE, RTT_MS) - 0.001, took


@pytest.mark.timing
def test_a_transfer_through_the_relay_is_within_15_percent_of_the_bound() -> None:
    bound = bound_s(SIZE, RTT_MS)
    assert transfer_seconds(WAN, SIZE) <= 1.15 * bound
    # Without the window the relay carries it in about one RTT: the window is what holds it.
    assert transfer_seconds(LinkShape(delay_ms=RTT_MS / 2, window=None), SIZE) < 0.5 * bound


@pytest.mark.timing
def test_the_window_is_the_shapes() -> None:
    """An initial window of 4 MB (and a 32 MiB buffer, 16 MiB advertised): 4 MB in one round."""
    big = LinkShape(delay_ms=RTT_MS / 2, window=TcpWindow(initial_bytes=SIZE, max_bytes=16 * 2**20))
    took = transfer_seconds(big, SIZE)
    assert RTT_MS / 1000.0 <= took < bound_s(SIZE, RTT_MS) - 0.5


def test_a_message_within_the_initial_window_sees_only_the_delay() -> None:
    """An RPC of 10 kB: one RTT (request and answer), not one more for the window."""
    rpc = 10_000
    assert rpc < TCP_INITIAL_WINDOW_BYTES
    took = transfer_seconds(WAN, rpc)
    assert took >= RTT_MS / 1000.0
    # 100 kB is over the initial window: three rounds (14.5, 29 and 58 kB), two more RTTs.
    assert bound_s(100_000, RTT_MS) == pytest.approx(3 * RTT_MS / 1000.0)
    assert transfer_seconds(WAN, 100_000) >= bound_s(100_000, RTT_MS) - 0.001


def test_the_relay_counts_the_times_its_window_held_a_transfer() -> None:
    """A 10 kB answer fits the initial window: never held. 100 kB takes three rounds: held at least
    once (the counter `benchmarks/testbed_wan.py` reads to tell window rounds from crossings)."""
    _, small = transfers(WAN, 10_000)
    _, large = transfers(WAN, 100_000)
    assert (small.bytes, small.window_waits) == (10_000, 0)
    assert large.bytes == 100_000 and large.window_waits >= 1, large


@pytest.mark.timing
def test_a_message_within_the_initial_window_takes_no_extra_round_trip() -> None:
    assert transfer_seconds(WAN, 10_000) < (RTT_MS + 0.3 * RTT_MS) / 1000.0


def test_a_connection_idle_for_an_rto_starts_slow_again() -> None:
    """Two transfers on one connection, 0.5 s apart (an RTO is 0.3 s at 100 ms RTT): the second
    starts from the initial window again (RFC 5681 §4.1) and takes the bound again."""
    first, after_idle = transfers_seconds(WAN, SIZE, [0.5])
    assert min(first, after_idle) >= bound_s(SIZE, RTT_MS) - 0.001, (first, after_idle)


@pytest.mark.timing
def test_a_kept_alive_connection_keeps_its_window() -> None:
    """Back to back, the second transfer starts at the 3 MiB window: 4 MB in two rounds."""
    first, again = transfers_seconds(WAN, SIZE, [0.0])
    assert again < bound_s(SIZE, RTT_MS) / 2 < first, (first, again)


def test_a_rate_cap_holds_a_windowed_transfer_to_the_line() -> None:
    """2 MB at 10 Mbit/s and 2 ms RTT: the line, not the window, is the limit (1.6 s)."""
    shape = LinkShape(delay_ms=1.0, bandwidth_mbps=10.0)
    bound = bound_s(2_000_000, 2.0, 10.0)
    assert bound == pytest.approx(1.602)
    assert transfer_seconds(shape, 2_000_000) >= bound - 0.001


@pytest.mark.timing
def test_a_rate_cap_holds_a_windowed_transfer_within_10_percent() -> None:
    shape = LinkShape(delay_ms=1.0, bandwidth_mbps=10.0)
    assert transfer_seconds(shape, 2_000_000) <= 1.1 * bound_s(2_000_000, 2.0, 10.0)


def test_the_simulators_flow_counts_slow_start() -> None:
    """The simulator's flow: one RTT, slow start as a delay, then window/RTT (a 10 Gbit/s link)."""
    rate_mbps = TCP_WINDOW_BYTES * 8 / (RTT_MS * 1000)
    expected = RTT_MS + slow_start_ms(SIZE, RTT_MS, rate_mbps) + SIZE * 8 / (rate_mbps * 1000)
    assert simulated_s(SIZE, RTT_MS, 10_000.0) == pytest.approx(expected / 1000.0)
    # Slow start is most of it: 0.8 s of rounds against 0.13 s at window/RTT.
    assert simulated_s(SIZE, RTT_MS, 10_000.0) > 0.85


@pytest.mark.timing
def test_the_simulator_and_the_relay_agree_within_15_percent() -> None:
    relay = transfer_seconds(WAN, SIZE)
    sim = simulated_s(SIZE, RTT_MS, 10_000.0)
    assert sim / 1.15 <= relay <= sim * 1.15, (relay, sim)
