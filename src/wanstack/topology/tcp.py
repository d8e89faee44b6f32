"""What one TCP connection over a backbone path can do: the constants of Linux's TCP that the
simulator's messages and flows and the migration cost model all use."""

# Linux TCP: RTO = SRTT + max(4·RTTVAR, TCP_RTO_MIN) with TCP_RTO_MIN = HZ/5 = 200 ms
# (include/net/tcp.h, tcp_set_rto in net/ipv4/tcp_input.c): with a steady RTT, RTO ≈ RTT + 200 ms.
TCP_RTO_MIN_MS = 200.0
# Ethernet MTU 1500 minus 40 B of IPv4+TCP headers and 12 B of timestamp option.
TCP_MSS_BYTES = 1448
# Linux's default maximum receive buffer, net.ipv4.tcp_rmem = 4096 131072 6291456, i.e. 6 MiB
# (Documentation/networking/ip-sysctl.rst): one connection carries at most this much per RTT.
TCP_WINDOW_BYTES = 6 * 1024 * 1024
# Assumed capacity between two hosts of one site (10 GbE).
LAN_MBPS = 10_000.0
