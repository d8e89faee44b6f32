"""One bulk transfer through a relay that carries TCP's window, beside the simulator's flow model and
the analytic bound.

    python benchmarks/relay_tcp.py [--quick] [--mbps 1000]

For each size (1, 16, 100 MB) and RTT (0.15, 20, 50, 100, 200 ms): a client on 127.0.0.1 asks a
server for the bytes through a `DelayRelay` whose `LinkShape` has half the RTT each way and the
line's rate (`lab.relay_probe.transfer_seconds`: from the request to the last byte); the simulator's
flow for the same transfer over a two-site link (`sim.flows.FlowNetwork`: one RTT, slow start as a
delay, then window/RTT or the link's rate); the bound (`topology.tcp.window_transfer_ms` plus the
RTT: rounds of a window doubling from the initial window, each waiting its ACKs); and what the
simulator gave before it modelled slow start (one RTT plus the size at min(rate, 6 MiB / RTT)).

The windows the defaults assume (`topology.tcp`, `lab.relay.TcpWindow`):
- initial window: 10 segments of 1448 B, 14,480 B (RFC 6928; Linux's TCP_INIT_CWND);
- growth: slow start, the window grows by what each ACK acknowledges, ×2 per RTT (RFC 5681 §3.1);
- cap: the receiver's largest advertised window, 3 MiB: Linux's default tcp_rmem maximum of 6 MiB
  (Documentation/networking/ip-sysctl.rst; Linux 3.6 to 6.15, what Ubuntu 22.04/24.04 and RHEL 9
  run) of which tcp_adv_win_scale = 1 advertises half (tcp_win_from_space, include/net/tcp.h; since
  Linux 6.6 a per-socket ratio starting at the same 50 %). Linux 6.16 raised tcp_rmem's maximum to
  32 MiB; this machine (6.18) has 4096 131072 33554432 and tcp_adv_win_scale 1 (obsolete there).
The sender's own buffer (tcp_wmem, 4 MiB) is not modelled: it is what the relay's reading empties.
A 1 Gbit/s line by default (`--mbps`): at 0.15 and 20 ms the line is the limit, beyond it the window.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from wanstack.lab.relay import LinkShape
from wanstack.lab.relay_probe import transfer_seconds
from wanstack.sim.transfer import lone_transfer_s
from wanstack.topology.tcp import TCP_WINDOW_BYTES, window_transfer_ms

MB = 1_000_000
SIZES_MB = (1, 16, 100)
RTTS_MS = (0.15, 20.0, 50.0, 100.0, 200.0)
BEFORE_WINDOW_BYTES = 6 * 1024 * 1024  # what topology.tcp.TCP_WINDOW_BYTES was: the whole buffer


simulated_seconds = lone_transfer_s  # the simulator's flow model (wanstack.sim.transfer)


def this_machine() -> str:
    """This machine's receive buffers and window scaling, for the record (the defaults do not use them)."""
    sysctl = Path("/proc/sys/net/ipv4")
    read = [
        f"{name} = {' '.join((sysctl / name).read_text().split())}"
        for name in ("tcp_rmem", "tcp_adv_win_scale")
        if (sysctl / name).exists()
    ]
    return "; ".join(read) or "no /proc/sys/net/ipv4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 16 MB at 0.15, 20 and 100 ms only")
    parser.add_argument("--mbps", type=float, default=1000.0, help="the line's rate (default 1000)")
    args = parser.parse_args()
    sizes, rtts = ((1, 16), (0.15, 20.0, 100.0)) if args.quick else (SIZES_MB, RTTS_MS)
    print(f"window {TCP_WINDOW_BYTES:,} B, line {args.mbps:g} Mbit/s; this machine: {this_machine()}")
    print(
        f"{'size':>6} {'RTT':>8} {'relay':>8} {'sim':>8} {'bound':>8} {'relay/sim':>9} {'relay/bound':>11}"
        f" {'sim before':>10}"
    )
    started = time.perf_counter()
    for size in sizes:
        nbytes = size * MB
        for rtt in rtts:
            relay = transfer_seconds(LinkShape(delay_ms=rtt / 2, bandwidth_mbps=args.mbps), nbytes)
            sim = simulated_seconds(nbytes, rtt, args.mbps)
            bound = (rtt + window_transfer_ms(nbytes, rtt, TCP_WINDOW_BYTES, args.mbps)) / 1000.0
            before_mbps = min(args.mbps, BEFORE_WINDOW_BYTES * 8 / (rtt * 1000.0))
            before = (rtt + nbytes * 8 / (before_mbps * 1000.0)) / 1000.0
            print(
                f"{size:>4}MB {rtt:>6g}ms {relay:>7.3f}s {sim:>7.3f}s {bound:>7.3f}s {relay / sim:>9.3f}"
                f" {relay / bound:>11.3f} {before:>9.3f}s"
            )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
