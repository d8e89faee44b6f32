"""What one TCP connection over a backbone path can do: the constants of Linux's TCP that the
simulator's messages and flows and the migration cost model all use."""

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
# Linux's default maximum receive buffer, net.ipv4.tcp_rmem = 4096 131072 6291456, i.e. 6 MiB
# (Documentation/networking/ip-sysctl.rst): one connection carries at most this much per RTT.
TCP_WINDOW_BYTES = 6 * 1024 * 1024
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
