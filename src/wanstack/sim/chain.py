"""A message's journey as a chain of hops: network from site to site, then (optionally) a queueing
station at the arrival site. Every messaging pattern and HTTP/DB exchange is such a chain, so one
small executor carries them all."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

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
    end-host ms, traffic tag, fluid?, sending process]; no per-message objects beyond it."""

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
        sender: Hashable | None = None,
    ) -> None:
        """`fluid`: the chain stands for load already counted as a station's fluid background: it passes
        stations without queueing (held only by an overload backlog) and counts its messages as jobs.
        `sender`: the process that sends it (`process_of`), where it is not the client at the first
        hop's site: a server's reply."""
        self._next([hops, 0, nbytes, messages, done, lost, arg, endpoint_ms, tag, fluid, sender])

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
    holds the message; the rest is a CPU job nobody waits for, which delays everyone else's. The path
    cost depends on how long the end's process has been idle (`warmth`, `Params.end_warmth`) and, for
    a server, on how many messages other processes handled meanwhile (`crowding`,
    `Params.end_crowding`): a process is a server's station, or the client at a site (`process_of`).
    Each process is a Python interpreter: its ends run one at a time (`Interpreter`), so a server
    that ten clients call handles two arriving together one after the other, even with a core free.

    Every site-to-site leg passes the bench's delay relay (`bench.relay`): all relays of a run are
    threads of one Python process, so their work is serialised by its interpreter lock — a one-worker
    station (`relay`) that holds each leg for `relay_cpu_ms` before the link's delay, and loads the
    cores as much. A fanout's copies leave the broker together and queue there one after another."""

    __slots__ = (
        "active",
        "cpu",
        "crowding",
        "crowding_spread",
        "end_cpu_ms",
        "ends",
        "interpreters",
        "polls",
        "relay",
        "relay_cpu_ms",
        "rng",
        "seen",
        "shape",
        "warmth",
    )

    def __init__(
        self,
        net: Network,
        cpu: Station,
        end_cpu_ms: float = 0.0,
        relay_cpu_ms: float = 0.0,
        poll_wake_cpu_ms: float = 0.0,
        end_cv: float = 0.0,
        warmth: Sequence[tuple[float, float]] = (),
        crowding: Sequence[tuple[float, float]] = (),
        crowding_spread: Sequence[tuple[float, float]] = (),
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
        self.polls = PollBackoff(net.sim, cpu, poll_wake_cpu_ms, self._wake) if poll_wake_cpu_ms else None
        self.warmth = Curve(warmth) if warmth else None
        self.active: dict[Hashable, float] = {}  # process -> when its library last handled a message
        self.crowding = Curve(crowding) if crowding else None
        self.crowding_spread = Curve(crowding_spread) if crowding_spread else None
        self.ends = 0  # message ends handled by all processes so far
        self.seen: dict[Hashable, int] = {}  # process -> `ends` just after its own last one
        self.interpreters: dict[Hashable, Interpreter] = {}

    @staticmethod
    def process_of(station: Station | None, site: str) -> Hashable:
        """The process at a chain's end: the server's station, or else the bench's client at `site`
        (one client process per site in a case, which sends and receives its replies)."""
        return station if station is not None else ("client", site)

    def _end_cost(self, ms: float, process: Hashable) -> tuple[float, float]:
        """A library end of `process` now, recorded as its latest: the mean path cost — `ms` for a
        process idle long, scaled by how recently it last handled a message and, for a server, by how
        many others did meanwhile — and the factor of its spread (others' work widens any end's)."""
        spread = 1.0
        if self.warmth is not None:
            now = self.net.sim.now
            last = self.active.get(process)
            self.active[process] = now
            ms *= self.warmth.factor(math.inf if last is None else now - last)
        if self.crowding is not None or self.crowding_spread is not None:
            self.ends += 1
            seen = self.seen.get(process)
            self.seen[process] = self.ends
            others = math.inf if seen is None else self.ends - 1 - seen
            if self.crowding is not None and isinstance(process, Station):
                ms *= self.crowding.factor(others)
            if self.crowding_spread is not None:
                spread = self.crowding_spread.factor(others)
        return ms, spread

    def _path(self, mean: float, spread: float = 1.0) -> float:
        """One message's path cost at a library end, around its mean, its CV `spread` times the
        calibrated one."""
        if not self.shape:
            return mean
        shape = self.shape / spread**2
        return self.rng.gammavariate(shape, mean / shape)

    def _in_process(self, process: Hashable, work: float, then: Done, state: list[Any]) -> None:
        """Run `work` ms of `process`'s CPU once its interpreter is free, then `then(state)`."""
        interpreter = self.interpreters.get(process)
        if interpreter is None:
            interpreter = self.interpreters[process] = Interpreter()
        if interpreter.busy:
            interpreter.waiting.append((work, then, state))
            return
        interpreter.busy = True
        self.cpu.submit(work, self._released, (interpreter, then, state))

    def _wake(self, listener: Hashable, cpu_ms: float) -> None:
        """An empty poll of `listener`'s (kombu's drain timing out, oslo's loop going round): in its
        process, so a message arriving meanwhile waits for it."""
        self._in_process(listener, cpu_ms, do_nothing, [])

    def _released(self, job: tuple[Interpreter, Done, list[Any]]) -> None:
        interpreter, then, state = job
        if interpreter.waiting:
            work, after, waiting = interpreter.waiting.popleft()
            self.cpu.submit(work, self._released, (interpreter, after, waiting))
        else:
            interpreter.busy = False
        then(state)

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
            sender = state[10] if state[10] is not None else self.process_of(None, hops[0][0])
            mean, spread = self._end_cost(send_cost, sender)
            self._in_process(sender, self._path(mean, spread), self._send, state)
            self._burn(mean)
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
        receiver = self.process_of(station, hops[-1][1])
        mean, spread = self._end_cost(end, receiver) if end else (0.0, 1.0)
        work = self._path(mean, spread) if end else 0.0
        if station is not None:
            station.jobs += int(state[3])
            work += station.service_ms * state[3]
        if end:
            self._in_process(receiver, work, self._next, state)
        elif work:
            self.cpu.submit(work, self._next, state)  # a broker's pass: Erlang, a scheduler per core
        else:
            self._next(state)
        if end:
            self._burn(mean)
            if self.polls is not None:
                self.polls.message(receiver)


class Interpreter:
    """One process's interpreter lock: the library ends it runs wait for each other (in arrival
    order), each then waits for a core."""

    __slots__ = ("busy", "waiting")

    def __init__(self) -> None:
        self.busy = False
        self.waiting: deque[tuple[float, Done, Any]] = deque()


class Curve:
    """A piecewise-linear factor of a library end's cost, flat beyond its first and last point: against
    its process's idle time (`Params.end_warmth`) or the ends of others since (`end_crowding`,
    `end_crowding_spread`)."""

    __slots__ = ("factors", "xs")

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        ordered = sorted(points)
        self.xs = [float(x) for x, _ in ordered]
        self.factors = [float(f) for _, f in ordered]

    def factor(self, x: float) -> float:
        return float(np.interp(x, self.xs, self.factors))
