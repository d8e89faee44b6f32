"""Carrying messages hop by hop: network from site to site, then (optionally) a queueing station at
the arrival site. Every messaging pattern and HTTP/DB exchange is such a chain of hops
(`message.Message`), so one small executor carries them all.

This is the simulator's hot path (every message of every run passes `_next` and `_arrived`). The
bench-host plug-in (`sim.host`) carries the same messages through its shared CPU instead.
"""

from __future__ import annotations

from wanstack.sim.message import Message
from wanstack.sim.network import Network


class ChainRunner:
    """Runs messages along their hops: a station down on the way or a hop without a route loses the
    message (`Message.lost`); the last hop through, `Message.done` runs."""

    __slots__ = ("net",)

    def __init__(self, net: Network) -> None:
        self.net = net

    def run(self, message: Message) -> None:
        self._next(message)

    def _next(self, m: Message) -> None:
        hops = m.hops
        i = m.at
        if i == len(hops):
            m.done(m.arg)
            return
        hop = hops[i]
        m.at = i + 1
        # The library's cost at an end host: the sender's on the first leg, the receiver's on the last.
        extra = m.end_ms if i == 0 or i == len(hops) - 1 else 0.0
        if not self.net.send(hop.src, hop.dst, m, self._arrived, extra):
            self._lost(m)

    def _arrived(self, m: Message) -> None:
        station = m.hops[m.at - 1].station
        if station is None:
            self._next(m)
        elif not station.up:
            self._lost(m)
        elif m.fluid:
            station.jobs += int(m.messages)
            wait = station.backlog_wait()
            if wait:
                self.net.sim.after(wait, self._next, m)
            else:
                self._next(m)
        else:
            station.submit(m.messages, self._next, m)

    @staticmethod
    def _lost(m: Message) -> None:
        if m.lost is not None:
            m.lost(m.arg)
