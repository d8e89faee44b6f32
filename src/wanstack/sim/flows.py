"""Bulk transfers (images, migrations) as fluid flows sharing link capacity max-min fairly.

Each flow is also capped by what one TCP connection can carry: its window over the RTT
(`topology.tcp.TCP_WINDOW_BYTES`: the receiver's largest advertised window, half of Linux's default
6 MiB tcp_rmem maximum) and, on lossy paths, the Mathis et al. bound MSS/RTT · 1.22/√p ("The
macroscopic behavior of the TCP congestion avoidance algorithm", CCR 1997). Rates are recomputed by
progressive filling whenever a flow starts or ends, and the next completion is scheduled; a flow
whose route is cut fails.

Slow start is an extra delay before the flow is admitted, not a rate that grows: a connection starts
at 10 segments (RFC 6928) and doubles its window per RTT (RFC 5681) until it carries its cap per RTT,
so each of those rounds takes one RTT for what the cap would carry in less; the flow then starts
late by the difference (`topology.tcp.slow_start_ms`, O(log n) once per flow) and runs at its share.
For a flow alone on its route this is exact for the rounds (1 MB at 200 ms RTT: 6 rounds, +1.14 s);
under contention it counts the slow start up to the flow's own cap, not its smaller fair share, so
it errs late by at most those rounds. A relay that carries TCP's window (`lab.relay`) takes the same
time within a few percent (benchmarks/relay_tcp.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

from wanstack.sim.kernel import Simulator
from wanstack.sim.network import Network
from wanstack.topology.tcp import LAN_MBPS, TCP_MSS_BYTES, TCP_WINDOW_BYTES, slow_start_ms


@dataclass(slots=True)
class Flow:
    """One bulk transfer in progress from `src` to `dst`: the bytes still to send, its own cap and current
    max-min share (Mbit/s), the route's links, and what to call (with `arg`) when it is done or its route is
    cut."""

    fid: int
    src: str
    dst: str
    links: tuple[int, ...]  # signed link ids (direction)
    remaining: float  # bytes
    cap_mbps: float
    done: Callable[[Any], None]
    failed: Callable[[Any], None]
    arg: Any
    tail_ms: float  # propagation of the last byte to the receiver
    tag: str
    rate: float = 0.0  # Mbit/s


class FlowNetwork:
    """The bulk transfers on the backbone: each gets a max-min fair share of its route's links, bounded by its
    TCP cap; shares are recomputed whenever a flow starts or ends, and the directions the flows fill are given
    to the network (`Network.bulk_full`) so that messages wait behind them."""

    def __init__(self, sim: Simulator, net: Network) -> None:
        self.sim = sim
        self.net = net
        self.flows: dict[int, Flow] = {}
        self._ids = count()
        self._last = 0.0
        self._version = 0

    def start(  # noqa: PLR0913 - past `failed`, keyword-only options of one transfer
        self,
        src: str,
        dst: str,
        nbytes: float,
        done: Callable[[Any], None],
        failed: Callable[[Any], None],
        *,
        arg: Any = None,
        tag: str = "bulk",
        cap_mbps: float = math.inf,
        warm: bool = False,
        push: bool = False,
    ) -> None:
        """Send `nbytes` from `src` to `dst`; `cap_mbps`: a rate limit of the sender's own (e.g. Nova's
        live_migration_bandwidth); `warm`: on a connection whose window slow start has opened already
        (a migration's rounds after the first), so none is paid again. `push`: the sender streams
        without being asked (QEMU's migration stream: no request crosses first) and `done` is its own
        view, the last byte sent; the default is a download, asked for and done on arrival."""
        if src == dst:
            self.net.add_bulk(src, dst, (), nbytes, tag)
            self.sim.after(2 * self.net.lan_delay_ms + nbytes * 8 / (LAN_MBPS * 1000.0), done, arg)
            return
        route = self.net.route(src, dst)
        if route is None:
            failed(arg)
            return
        bottleneck, survival, rtt = route.bottleneck_mbps, route.survival, route.rtt_ms
        cap = min(bottleneck, TCP_WINDOW_BYTES * 8 / (rtt * 1000.0)) if rtt > 0 else bottleneck
        cap = min(cap, cap_mbps)
        loss = 1.0 - survival
        if loss > 0:
            cap = min(cap, TCP_MSS_BYTES * 8 / (rtt * 1000.0) * 1.22 / math.sqrt(loss))
        self._advance()
        tail = 0.0 if push else route.delay_ms
        flow = Flow(next(self._ids), src, dst, route.links, float(nbytes), cap, done, failed, arg, tail, tag)
        # The receiver's request takes one one-way delay (reverse path) before bytes flow, and the last
        # byte one more to arrive: a transfer costs one RTT, its slow start, and its size over its rate.
        # A push has neither: it starts at once and is done for its sender when the last byte is sent.
        ramp = 0.0 if warm else slow_start_ms(nbytes, rtt, cap)
        self.sim.after((0.0 if push else rtt - route.delay_ms) + ramp, self._admit, flow)

    def _admit(self, flow: Flow) -> None:
        self._advance()
        self.flows[flow.fid] = flow
        self._reschedule()

    def _advance(self) -> None:
        """Move every flow forward to now at its current rate."""
        now = self.sim.now
        dt = now - self._last
        if dt > 0:
            for f in self.flows.values():
                sent = min(f.remaining, f.rate * 1000.0 / 8.0 * dt)  # Mbit/s * ms -> bytes
                f.remaining -= sent
                self.net.add_bulk(f.src, f.dst, f.links, sent, f.tag)
        self._last = now

    def _fair_rates(self) -> None:
        """Max-min fair share by progressive filling, each flow also bounded by its own cap."""
        capacity: dict[int, float] = {}
        users: dict[int, list[Flow]] = {}
        for f in self.flows.values():
            f.rate = -1.0
            for i in f.links:
                if i not in capacity:
                    capacity[i] = self.net.links[i if i >= 0 else ~i].bandwidth_mbps
                    users[i] = []
                users[i].append(f)
        active = sorted(self.flows.values(), key=lambda f: f.fid)
        while active:
            # The tightest constraint: a link's equal share, or a flow's own cap.
            share, link = math.inf, None
            for i, fs in users.items():
                n = sum(1 for f in fs if f.rate < 0)
                if n and capacity[i] / n < share:
                    share, link = capacity[i] / n, i
            capped = min(active, key=lambda f: (f.cap_mbps, f.fid))
            if capped.cap_mbps <= share:
                fixed = [capped]
                share = capped.cap_mbps
            else:
                fixed = [f for f in users[link] if f.rate < 0] if link is not None else active
            for f in fixed:
                f.rate = share
                for i in f.links:
                    capacity[i] -= share
            fixed_ids = {f.fid for f in fixed}
            active = [f for f in active if f.fid not in fixed_ids]
        # Directions the flows fill: messages crossing them wait behind the bulk queue.
        self.net.bulk_full = {
            i
            for i, left in capacity.items()
            if left <= 1e-6 * self.net.links[i if i >= 0 else ~i].bandwidth_mbps
        }

    def _reschedule(self) -> None:
        self._fair_rates()
        self._version += 1
        soonest = math.inf
        for f in self.flows.values():
            if f.rate > 0:
                soonest = min(soonest, f.remaining * 8.0 / (f.rate * 1000.0))
        if soonest < math.inf:
            self.sim.after(soonest, self._complete, self._version)

    def _complete(self, version: int) -> None:
        if version != self._version:
            return  # superseded by a later start or end
        self._advance()
        # Done when under a nanosecond of sending is left (float time loses bytes late in long runs).
        finished = [
            f for f in self.flows.values() if f.rate <= 0 or f.remaining * 8.0 / (f.rate * 1000.0) < 1e-6
        ]
        finished = [f for f in finished if f.rate > 0 or f.remaining <= 0]
        for f in finished:
            del self.flows[f.fid]
        self._reschedule()
        for f in finished:
            self.sim.after(f.tail_ms, f.done, f.arg)

    def reroute_or_fail(self) -> None:
        """After a link or site change: flows whose route is gone fail."""
        self._advance()
        broken = [f for f in self.flows.values() if self.net.route(f.src, f.dst) is None]
        for f in broken:
            del self.flows[f.fid]
        self._reschedule()
        for f in broken:
            f.failed(f.arg)
