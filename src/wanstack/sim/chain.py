"""A message's journey as a chain of hops: network from site to site, then (optionally) a queueing
station at the arrival site. Every messaging pattern and HTTP/DB exchange is such a chain, so one
small executor carries them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wanstack.sim.network import Network
from wanstack.sim.polling import PollBackoff, do_nothing
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
    station's own service time. A library end burns `end_cpu_ms` in all, of which only its path cost
    holds the message; the rest is a CPU job nobody waits for, which delays everyone else's.

    Every site-to-site leg passes the bench's delay relay (`bench.relay`): all relays of a run are
    threads of one Python process, so their work is serialised by its interpreter lock — a one-worker
    station (`relay`) that holds each leg for `relay_cpu_ms` before the link's delay, and loads the
    cores as much. A fanout's copies leave the broker together and queue there one after another."""

    __slots__ = ("cpu", "end_cpu_ms", "polls", "relay", "relay_cpu_ms", "rng", "shape")

    def __init__(
        self,
        net: Network,
        cpu: Station,
        end_cpu_ms: float = 0.0,
        relay_cpu_ms: float = 0.0,
        poll_wake_cpu_ms: float = 0.0,
        end_cv: float = 0.0,
    ) -> None:
        super().__init__(net)
        # A library end's path cost varies (allocation, caches, the GIL): a gamma law of that CV.
        self.shape = 1.0 / end_cv**2 if end_cv > 0 else 0.0
        self.rng = net.sim.stream("host-cpu")
        self.cpu = cpu
        self.end_cpu_ms = end_cpu_ms
        self.relay_cpu_ms = relay_cpu_ms
        self.relay = Station(net.sim, ("bench-relay", "bench"), 1, relay_cpu_ms) if relay_cpu_ms else None
        # Listeners (a server's station, or a client's reply waiter at its site) poll on after each
        # message they receive (`polling.PollBackoff`).
        self.polls = PollBackoff(net.sim, cpu, poll_wake_cpu_ms) if poll_wake_cpu_ms else None

    def _path(self, ms: float) -> float:
        """One message's path cost at a library end, around its mean `ms`."""
        return self.rng.gammavariate(self.shape, ms / self.shape) if self.shape else ms

    def _burn(self, path_ms: float) -> None:
        """CPU a library end uses beyond its path cost `path_ms`: it loads the cores, holds nobody."""
        rest = self.end_cpu_ms - path_ms
        if rest > 0:
            self.cpu.submit(rest, do_nothing, None)

    def _next(self, state: list[Any]) -> None:
        hops = state[0]
        i = state[1]
        if i == len(hops):
            state[4](state[6])
            return
        state[1] = i + 1
        send_cost = state[7] if i == 0 and (len(hops) > 1 or hops[0][2] is None) else 0.0
        if send_cost:
            self.cpu.submit(self._path(send_cost), self._send, state)
            self._burn(send_cost)
        else:
            self._send(state)

    def _send(self, state: list[Any]) -> None:
        a, b, _ = state[0][state[1] - 1]
        if a != b and self.relay is not None:
            self.cpu.submit(self.relay_cpu_ms, do_nothing, None)
            self.relay.submit(1, self._relayed, state)
        else:
            self._relayed(state)

    def _relayed(self, state: list[Any]) -> None:
        a, b, _ = state[0][state[1] - 1]
        self.net.send(a, b, state[2], state[3], self._arrived, state, self._lost, 0.0, state[8])

    def _arrived(self, state: list[Any]) -> None:
        hops = state[0]
        station = hops[state[1] - 1][2]
        if station is not None and not station.up:
            self._lost(state)
            return
        last = state[1] == len(hops)
        end = state[7] if last and (len(hops) > 1 or station is not None) else 0.0
        work = self._path(end) if end else 0.0
        if station is not None:
            station.jobs += int(state[3])
            work += station.service_ms * state[3]
        if work:
            self.cpu.submit(work, self._next, state)
        else:
            self._next(state)
        if end:
            self._burn(end)
            if self.polls is not None:
                self.polls.message(station if station is not None else ("reply", hops[-1][1]))
