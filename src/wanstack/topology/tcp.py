"""What one TCP connection over a backbone path can do: the constants of Linux's TCP that the
simulator's messages and flows, the migration cost model and the lab's relays all use, and the time
a transfer takes when it starts in slow start."""

import math
from collections.abc import Iterator

# Linux TCP: RTO = SRTT + max(4·RTTVAR, TCP_RTO_MIN) with TCP_RTO_MIN = HZ/5 = 200 ms
# (include/net/tcp.h, tcp_set_rto in net/ipv4/tcp_input.c): with a steady RTT, RTO ≈ RTT + 200 ms.
TCP_RTO_MIN_MS = 200.0
# A stalled segment is sent again after its RTO, doubling up to TCP_RTO_MAX = 120 s; the connection is
# given up after tcp_retries2 = 15 retransmissions, about 924.6 s (Documentation/networking/
# ip-sysctl.rst).
TCP_RTO_MAX_MS, TCP_RETRIES2 = 120_000.0, 15
# Ethernet MTU 1500 minus 40 B of IPv4+TCP headers and 12 B of timestamp option.
TCP_MSS_BYTES = 1448
# A new connection may send 10 segments before its first ACK (RFC 6928; Linux's TCP_INIT_CWND in
# include/net/tcp.h), then slow start adds what each ACK acknowledges, about doubling the window per
# RTT (RFC 5681 §3.1), until the receiver's window caps it.
TCP_INITIAL_WINDOW_SEGMENTS = 10
TCP_INITIAL_WINDOW_BYTES = TCP_INITIAL_WINDOW_SEGMENTS * TCP_MSS_BYTES
# Linux's default maximum receive buffer, net.ipv4.tcp_rmem = 4096 131072 6291456, i.e. 6 MiB
# (Documentation/networking/ip-sysctl.rst, tcp_init in net/ipv4/tcp.c), from Linux 3.6 (commit
# b49960a05e32, 2012) to 6.15; Linux 6.16 raised it to 32 MiB (commit 572be9bf9d0d, 2025), which is
# what this machine's 6.18 kernel has. The distributions OpenStack runs on (Ubuntu 22.04/24.04: 5.15,
# 6.8; RHEL 9: 5.14) still have 6 MiB.
TCP_RMEM_MAX_BYTES = 6 * 1024 * 1024
# Of the buffer, the part advertised as window: space − space >> tcp_adv_win_scale, with
# tcp_adv_win_scale = 1 by default, i.e. half (tcp_win_from_space in include/net/tcp.h; ip-sysctl.rst).
# Since Linux 6.6 the sysctl is obsolete: the ratio is measured per socket as skb->len/skb->truesize,
# starting at 50 % (TCP_DEFAULT_SCALING_RATIO, commit dfa2f0483360) — the same half by default.
TCP_ADV_WIN_SCALE = 1
# The most one connection has in flight: the receiver's largest advertised window, 3 MiB. It carries
# at most this much per RTT.
TCP_WINDOW_BYTES = TCP_RMEM_MAX_BYTES - (TCP_RMEM_MAX_BYTES >> TCP_ADV_WIN_SCALE)
# Assumed capacity between two hosts of one site (10 GbE).
LAN_MBPS = 10_000.0


def retransmissions_ms() -> Iterator[float]:
    """The waits between TCP's retransmissions of a stalled request, until it gives up (the route's
    RTT is small beside TCP_RTO_MIN here)."""
    for k in range(TCP_RETRIES2 + 1):
        yield min(TCP_RTO_MIN_MS * 2**k, TCP_RTO_MAX_MS)


def first_retransmission_after(sent_s: float, up_s: float) -> float | None:
    """When a segment sent at `sent_s` across a link cut until `up_s` gets through (seconds, on any
    clock): at TCP's first retransmission after the restore; None if TCP gave up before."""
    at = sent_s
    for wait in retransmissions_ms():
        at += wait / 1000.0
        if at >= up_s:
            return at
    return None


def slow_start_rounds(nbytes: float, per_rtt_bytes: float, initial_bytes: float) -> tuple[int, float]:
    """The round trips a transfer of `nbytes` spends in slow start before its window carries
    `per_rtt_bytes` per RTT (its cap: the window, or the line's rate × RTT), or before its last round
    when it ends sooner, and the bytes those rounds carried. The window starts at `initial_bytes` and
    doubles each round (RFC 5681 §3.1: cwnd grows by what each ACK acknowledges).

    >>> slow_start_rounds(1_000_000, 3 * 2**20, 14480)  # rounds of 14480, 28960 ... 463360 bytes
    (6, 912240.0)
    """
    rounds, sent, window = 0, 0.0, float(initial_bytes)
    while window < per_rtt_bytes and sent + window < nbytes:
        sent += window
        window *= 2
        rounds += 1
    return rounds, sent


def slow_start_ms(
    nbytes: float, rtt_ms: float, rate_mbps: float, initial_bytes: float = TCP_INITIAL_WINDOW_BYTES
) -> float:
    """How much longer than `nbytes` at `rate_mbps` (its steady rate: window/RTT or the line's) a
    transfer takes because it starts from the initial window: each round of slow start takes one RTT
    for what the window carried in it, which at the steady rate would have taken less. O(log n).

    >>> round(slow_start_ms(1_000_000, 200.0, 3 * 2**20 * 8 / 200_000), 1)  # 1 MB at 200 ms: 6 rounds
    1142.0
    """
    if rtt_ms <= 0 or nbytes <= 0:
        return 0.0
    per_ms = rate_mbps * 125.0  # Mbit/s -> bytes per ms
    rounds, sent = slow_start_rounds(nbytes, per_ms * rtt_ms, initial_bytes)
    return rounds * rtt_ms - sent / per_ms


def window_transfer_ms(
    nbytes: float,
    rtt_ms: float,
    window_bytes: float = TCP_WINDOW_BYTES,
    line_mbps: float = math.inf,
    initial_bytes: float = TCP_INITIAL_WINDOW_BYTES,
) -> float:
    """The least time from a transfer's first byte sent to its last byte sent (add the one-way delay
    for the last to arrive), for a sender held to a window that starts at `initial_bytes`, doubles each
    RTT up to `window_bytes`, and whose bytes leave at `line_mbps`: each round sends the window and
    waits the RTT for its ACKs, unless the line takes longer to send it (then the line is the limit).
    The bound a relay that carries TCP's window meets (`lab.relay`). O(n / window).

    >>> window_transfer_ms(3 * 14480, 100.0)  # 10, then 20 segments: the second round at 100 ms
    100.0
    """
    per_ms = line_mbps * 125.0
    t, left, window = 0.0, float(nbytes), float(initial_bytes)
    while True:
        if window / per_ms >= rtt_ms or left <= window:
            return t + left / per_ms  # the line is the limit, or the last round
        left -= window
        t += rtt_ms
        window = min(2 * window, window_bytes)
