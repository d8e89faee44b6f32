"""Messages on the bench's host: every process on one machine with few cores, the `chain.HostModel`
that the chain runner calls as each hop leaves and arrives.

Client library legs, broker passes and server work all queue for the same CPU (`cpu`, a station
whose service unit is 1 ms, so a job's work is its CPU time), which is what makes a bench's latency
grow with the number of processes on its 2 cores. The network part is the core's (`chain`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from wanstack.sim.chain import ChainRunner
from wanstack.sim.host.params import BenchHost
from wanstack.sim.host.polling import PollBackoff, do_nothing
from wanstack.sim.message import Message
from wanstack.sim.network import Network
from wanstack.sim.stations import Station

Then = Callable[[Any], None]

# How a message's wake-up beyond its receiver is shared between the broker's pass (by the time since
# the broker's last) and the link's relay thread (by the time since that relay last forwarded): an
# even split, an assumption that keeps the model at one curve. benchmarks/wakeups.py kept each part
# busy in turn: the broker with the relays' process saved a cast 0.2-0.5 ms, the sender with its own
# relay thread 0-0.2 ms (results/wakeups-2026-12-02.txt). Without it, tc1's ten senders, each
# behind a relay thread idle 200 ms, cost as little as one sender 20 ms apart behind a busy one; the
# bench has them 8 % dearer (2026-12-02: tc1-cast 2.42 ms, a lone pair's casts 20 ms apart 2.24 ms).
RELAY_SHARE = 0.5


class SharedHost:
    """The bench's host (`BenchHost`) as a `chain.HostModel`: every process runs on its cores.

    CPU charged per chain: the sender's library cost on the first leg, the receiver's on the last
    (once for a one-hop chain: a publish to a broker, or a broker's delivery to a consumer), and each
    station's own service time. A library end burns `end_cpu_ms` in all, of which only its path cost
    holds the message; the rest is a CPU job nobody waits for, which delays everyone else's. A
    receiving end's path cost depends on how long its process has waited for a message (`warmth`) and,
    for a server, on how many message ends the host handled meanwhile (`crowding`); a sending end's is
    always the warm one (its thread is running), and a broker's pass and the link's relay thread share
    a wake-up by the same curve (`RELAY_SHARE`). A process is a server's station, or the client at a
    site (`process_of`). Each process is a Python interpreter: its ends run one at a time
    (`Interpreter`), so a server that ten clients call handles two arriving together one after the
    other, even with a core free.

    Every site-to-site leg passes the bench's delay relay (`lab.relay`): all relays of a run are
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
        "net",
        "polls",
        "relay",
        "relay_cpu_ms",
        "rng",
        "seen",
        "shape",
        "warm",
        "warmth",
    )

    def __init__(self, net: Network, cpu: Station, host: BenchHost, end_cpu_ms: float) -> None:
        self.net = net
        # A library end's path cost varies (allocation, caches, the GIL): a gamma law of that CV.
        self.shape = 1.0 / host.end_cv**2 if host.end_cv > 0 else 0.0
        self.rng = net.sim.stream("host-cpu")
        self.cpu = cpu
        self.end_cpu_ms = end_cpu_ms
        self.relay_cpu_ms = relay_cpu_ms = host.relay_cpu_ms
        self.relay = Station(net.sim, ("bench-relay", "bench"), 1, relay_cpu_ms) if relay_cpu_ms else None
        # Listeners (a server's station, or a client's reply waiter at its site) poll on after each
        # message they receive (`polling.PollBackoff`).
        wake = host.poll_wake_cpu_ms
        self.polls = PollBackoff(net.sim, cpu, wake, self._wake) if wake else None
        self.warmth = Curve(host.end_warmth, logarithmic=True) if host.end_warmth else None
        self.warm = self.warmth.factor(0.0) if self.warmth is not None else 1.0  # a busy process's
        self.active: dict[Hashable, float] = {}  # process -> when it last received or passed one on
        self.crowding = Curve(host.end_crowding) if host.end_crowding else None
        self.crowding_spread = Curve(host.end_crowding_spread) if host.end_crowding_spread else None
        self.ends = 0  # message ends handled by all processes so far
        self.seen: dict[Hashable, int] = {}  # process -> `ends` just after its last receive
        self.interpreters: dict[Hashable, Interpreter] = {}

    @staticmethod
    def process_of(station: Station | None, site: str) -> Hashable:
        """The process at a chain's end: the server's station, or else the bench's client at `site`
        (one client process per site in a case, which sends and receives its replies)."""
        return station if station is not None else ("client", site)

    def _end_cost(self, ms: float, process: Hashable, receiving: bool) -> tuple[float, float]:
        """A library end of `process` now: its mean path cost and the factor of its spread. A sending
        end is its running thread's: always warm (the warmth curve at 0), and the others' work does not
        touch it. A receiving end wakes a thread that waited: `ms` for a process idle long, scaled by
        how long since it last received a message (`warmth`) and, for a server, by how many ends the
        others handled meanwhile (`crowding`); the others' work widens its spread too. Every end counts
        as others' work for the rest."""
        self.ends += 1
        if not receiving:
            return ms * self.warm, 1.0
        spread = 1.0
        if self.warmth is not None:
            # The wake-up's saving leaves the variation where it was: its spread stays the cold end's.
            factor = self._idle_factor(process)
            ms *= factor
            spread /= max(factor, 1e-3)
        if self.crowding is not None or self.crowding_spread is not None:
            seen = self.seen.get(process)
            self.seen[process] = self.ends
            others = math.inf if seen is None else self.ends - 1 - seen
            if self.crowding is not None and isinstance(process, Station):
                ms *= self.crowding.factor(others)
            if self.crowding_spread is not None:
                spread *= self.crowding_spread.factor(others)
        return ms, spread

    def _idle_factor(self, process: Hashable) -> float:
        """The warmth factor of a message arriving at `process` now (its library end or a broker's
        pass), recorded as its latest: by how long the process has waited for one."""
        assert self.warmth is not None
        now = self.net.sim.now
        last = self.active.get(process)
        self.active[process] = now
        return self.warmth.factor(math.inf if last is None else now - last)

    def _broker_wake(self, m: Message, broker: Station) -> float:
        """What a broker's pass costs beyond its service time for having waited: its share of a
        receiving end's wake-up (`RELAY_SHARE`; all of it when no relay is modelled)."""
        share = 1.0 - RELAY_SHARE if self.relay is not None else 1.0
        return self._wake_cost(m, broker, share)

    def _wake_cost(self, m: Message, process: Hashable, share: float) -> float:
        """`share` of a receiving end's wake-up, `(factor - warm factor) × end cost`, by the time since
        `process` last passed a message on (recorded as now)."""
        if self.warmth is None or not m.end_ms or not share:
            return 0.0
        return share * m.end_ms * max(0.0, self._idle_factor(process) - self.warm)

    def _path(self, mean: float, spread: float = 1.0) -> float:
        """One message's path cost at a library end, around its mean, its CV `spread` times the
        calibrated one."""
        if not self.shape or mean <= 0.0 or spread <= 0.0:
            # A fit may put a warm end's cost at 0 (on a slow machine's back-to-back calls the rest
            # of the path already costs what was measured), or try a crowd without spread: no cost,
            # or no spread around it.
            return max(mean, 0.0)
        shape = self.shape / spread**2
        return self.rng.gammavariate(shape, mean / shape)

    def _in_process(self, process: Hashable, work: float, then: Then, arg: Any) -> None:
        """Run `work` ms of `process`'s CPU once its interpreter is free, then `then(arg)`."""
        interpreter = self.interpreters.get(process)
        if interpreter is None:
            interpreter = self.interpreters[process] = Interpreter()
        if interpreter.busy:
            interpreter.waiting.append((work, then, arg))
            return
        interpreter.busy = True
        self.cpu.submit(work, self._released, (interpreter, then, arg))

    def _wake(self, listener: Hashable, cpu_ms: float) -> None:
        """An empty poll of `listener`'s (kombu's drain timing out, oslo's loop going round): in its
        process, so a message arriving meanwhile waits for it."""
        self._in_process(listener, cpu_ms, do_nothing, [])

    def _released(self, job: tuple[Interpreter, Then, Any]) -> None:
        interpreter, then, arg = job
        if interpreter.waiting:
            work, after, waiting = interpreter.waiting.popleft()
            self.cpu.submit(work, self._released, (interpreter, after, waiting))
        else:
            interpreter.busy = False
        then(arg)

    def _burn(self, path_ms: float) -> None:
        """CPU a library end uses beyond its path cost `path_ms`: it loads the cores, holds nobody."""
        rest = self.end_cpu_ms - path_ms
        if rest > 0:
            self.cpu.submit(rest, do_nothing, None)

    # --- the hooks (`chain.HostModel`) --------------------------------------------------------------
    def depart(self, m: Message, chains: ChainRunner) -> None:
        """The sender's library end on a chain's first leg (not a station's publish), in its process;
        then the relay for a leg between two sites; then the network (`chains.cross`)."""
        hops = m.hops
        leg = (m, chains)
        send_cost = m.end_ms if m.at == 1 and (len(hops) > 1 or hops[0].station is None) else 0.0
        if send_cost:
            sender = m.sender if m.sender is not None else self.process_of(None, hops[0].src)
            mean, spread = self._end_cost(send_cost, sender, receiving=False)
            self._in_process(sender, self._path(mean, spread), self._send, leg)
            self._burn(mean)
        else:
            self._send(leg)

    def arrive(self, m: Message, station: Station | None, chains: ChainRunner) -> None:
        """The receiver's library end on a chain's last leg, in its process, with the station's work
        (a server's); else a station's pass on the cores (a broker's: Erlang, a scheduler per core);
        then on (`chains.run`)."""
        hops = m.hops
        last = m.at == len(hops)
        end = m.end_ms if last and (len(hops) > 1 or station is not None) else 0.0
        receiver = self.process_of(station, hops[-1].dst)
        mean, spread = self._end_cost(end, receiver, receiving=True) if end else (0.0, 1.0)
        work = self._path(mean, spread) if end else 0.0
        if station is not None:
            station.jobs += int(m.messages)
            work += station.service_ms * m.messages
            if not end:
                work += self._broker_wake(m, station)
        if end:
            self._in_process(receiver, work, chains.run, m)
        elif work:
            self.cpu.submit(work, chains.run, m)
        else:
            chains.run(m)
        if end:
            self._burn(mean)
            if self.polls is not None:
                self.polls.message(receiver)

    def _send(self, leg: tuple[Message, ChainRunner]) -> None:
        m = leg[0]
        hop = m.hops[m.at - 1]
        if hop.src != hop.dst and self.relay is not None:
            self.cpu.submit(self.relay_cpu_ms, do_nothing, None)
            self.relay.submit(1, self._relayed, leg)
        else:
            self._relayed(leg)

    def _relayed(self, leg: tuple[Message, ChainRunner]) -> None:
        m, chains = leg
        hop = m.hops[m.at - 1]
        wake = 0.0
        if hop.src != hop.dst and self.relay is not None:
            # The link's relay thread waking (its share of the wake-up): a delay, not the relays'
            # interpreter lock's work, since a thread waiting for its turn to run holds nothing.
            wake = self._wake_cost(m, ("relay", frozenset((hop.src, hop.dst))), RELAY_SHARE)
        chains.cross(m, wake)


class Interpreter:
    """One process's interpreter lock: the library ends it runs wait for each other (in arrival
    order), each then waits for a core."""

    __slots__ = ("busy", "waiting")

    def __init__(self) -> None:
        self.busy = False
        self.waiting: deque[tuple[float, Then, Any]] = deque()


class Curve:
    """A piecewise-linear factor of a library end's cost, flat beyond its first and last point: against
    its process's idle time (`BenchHost.end_warmth`) or the ends of others since (`end_crowding`,
    `end_crowding_spread`). `logarithmic`: linear in log(1 + x) — the warmth curve's, whose points
    are 0, 20 and 200 ms: a process idle 40 ms is nearer cold than a straight line from 20 to 200 ms
    says (on 2026-12-02's run, tc1's servers, which hear every 20 ms on average but at random, got
    their p95 at 0 ms within 5 to 11 % this way, 10 to 16 % with straight lines)."""

    __slots__ = ("factors", "log", "xs")

    def __init__(self, points: Sequence[tuple[float, float]], logarithmic: bool = False) -> None:
        ordered = sorted(points)
        self.log = logarithmic
        self.xs = [self._x(float(x)) for x, _ in ordered]
        self.factors = [float(f) for _, f in ordered]

    def _x(self, x: float) -> float:
        return math.log1p(x) if self.log else x

    def factor(self, x: float) -> float:
        # numpy.interp's arithmetic on one value (flat outside, a point's own factor on it, else
        # slope × (x − x_j) + f_j), without its per-call array overhead: a fit calls this a million
        # times, where numpy.interp took a tenth of the fit's time (cProfile, 2026-12-03).
        v, xs, fs = self._x(x), self.xs, self.factors
        if v <= xs[0]:
            return fs[0]
        if v >= xs[-1]:
            return fs[-1]
        j = bisect_right(xs, v) - 1
        if xs[j] == v:
            return fs[j]
        return (fs[j + 1] - fs[j]) / (xs[j + 1] - xs[j]) * (v - xs[j]) + fs[j]
