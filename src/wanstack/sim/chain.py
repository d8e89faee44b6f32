"""A message's journey as a chain of hops: network from site to site, then (optionally) a queueing
station at the arrival site. Every messaging pattern and HTTP/DB exchange is such a chain, so one
small executor carries them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wanstack.sim.network import Network
from wanstack.sim.stations import Station

Hop = tuple[str, str, Station | None]  # from site, to site, station at the arrival (None: the end host)
Done = Callable[[Any], None]


def round_trip(client: str, server: str, station: Station | None) -> tuple[Hop, Hop]:
    """A request served at `station` on the server's site and its response back: HTTP, DB, tokens."""
    return ((client, server, station), (server, client, None))


class ChainRunner:
    """Runs chains. A running chain is a small list: [hops, next index, bytes, messages, done, lost, arg,
    end-host ms, traffic tag, fluid?]; no per-message objects beyond it."""

    __slots__ = ("net",)

    def __init__(self, net: Network) -> None:
        self.net = net

    def run(
        self,
        hops: tuple[Hop, ...],
        nbytes: float,
        messages: float,
        done: Done,
        lost: Done | None,
        arg: Any,
        endpoint_ms: float = 0.0,
        tag: str = "background",
        fluid: bool = False,
    ) -> None:
        """`fluid`: the chain stands for load already counted as a station's fluid background: it passes
        stations without queueing (held only by an overload backlog) and counts its messages as jobs."""
        self._next([hops, 0, nbytes, messages, done, lost, arg, endpoint_ms, tag, fluid])

    def _next(self, state: list[Any]) -> None:
        hops = state[0]
        i = state[1]
        if i == len(hops):
            state[4](state[6])
            return
        a, b, _ = hops[i]
        state[1] = i + 1
        # End-host cost (client library) on the first and the last leg.
        extra = state[7] if i == 0 or i == len(hops) - 1 else 0.0
        self.net.send(a, b, state[2], state[3], self._arrived, state, self._lost, extra, state[8])

    def _arrived(self, state: list[Any]) -> None:
        station = state[0][state[1] - 1][2]
        if station is None:
            self._next(state)
        elif not station.up:
            self._lost(state)
        elif state[9]:
            station.jobs += int(state[3])
            wait = station.backlog_wait()
            if wait:
                self.net.sim.after(wait, self._next, state)
            else:
                self._next(state)
        else:
            station.submit(state[3], self._next, state)

    @staticmethod
    def _lost(state: list[Any]) -> None:
        if state[5] is not None:
            state[5](state[6])


class SharedHostChains(ChainRunner):
    """Chains whose every process runs on one machine with few cores — the real bench's host. Client
    library legs, broker passes and server work all queue for the same CPU (`cpu`, a station whose
    service unit is 1 ms, so a job's work is its CPU time), which is what makes a bench's latency grow
    with the number of processes on its 2 cores. The network part is unchanged.

    CPU charged per chain: the sender's library cost on the first leg, the receiver's on the last
    (once for a one-hop chain: a publish to a broker, or a broker's delivery to a consumer), and each
    station's own service time."""

    __slots__ = ("cpu",)

    def __init__(self, net: Network, cpu: Station) -> None:
        super().__init__(net)
        self.cpu = cpu

    def _next(self, state: list[Any]) -> None:
        hops = state[0]
        i = state[1]
        if i == len(hops):
            state[4](state[6])
            return
        state[1] = i + 1
        send_cost = state[7] if i == 0 and (len(hops) > 1 or hops[0][2] is None) else 0.0
        if send_cost:
            self.cpu.submit(send_cost, self._send, state)
        else:
            self._send(state)

    def _send(self, state: list[Any]) -> None:
        a, b, _ = state[0][state[1] - 1]
        self.net.send(a, b, state[2], state[3], self._arrived, state, self._lost, 0.0, state[8])

    def _arrived(self, state: list[Any]) -> None:
        hops = state[0]
        station = hops[state[1] - 1][2]
        if station is not None and not station.up:
            self._lost(state)
            return
        last = state[1] == len(hops)
        work = state[7] if last and (len(hops) > 1 or station is not None) else 0.0
        if station is not None:
            station.jobs += int(state[3])
            work += station.service_ms * state[3]
        if work:
            self.cpu.submit(work, self._next, state)
        else:
            self._next(state)
