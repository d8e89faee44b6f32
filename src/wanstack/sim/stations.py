"""Queueing stations: a service instance (or broker, router, database) with `workers` servers and a
FIFO queue. A job holds one worker for its service time, worked out when it enters (`Station.serve`):
one event per job. Utilisation and queue length cost O(1) per job.

Background load can also be *fluid*: a rate of jobs that is not simulated one by one (aggregated
background traffic). A discrete job then first waits as it would behind that load: with probability
Erlang C(c, a) it finds all c servers busy, and then waits an exponential time of mean s / (2(c − a))
— the M/M/c conditional wait halved for constant service times (the Allen–Cunneen approximation,
c_a² = 1, c_s² = 0; Gross & Harris, "Fundamentals of Queueing Theory"). When the fluid load exceeds
the servers (a ≥ c) the backlog grows at (a − c) server-ms per ms and every job waits it out.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator
from heapq import heappush, heapreplace
from typing import Any

from wanstack.sim.kernel import Simulator
from wanstack.sim.params import StationParams


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load `load` (Erlangs) < c."""
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    term, total = 1.0, 1.0  # a^k / k!, summed for k < c
    for k in range(1, servers):
        term *= load / k
        total += term
    last = term * load / servers * servers / (servers - load)  # a^c / c! · c / (c − a)
    return last / (total + last)


class Station:
    """One queueing station, by (kind, site): `workers` servers in front of a FIFO queue, each job holding one
    for `service_ms` per unit of work, behind the station's fluid background load if it has one; `up` is False
    while a fault has taken it.

    A job's times are worked out when it enters (Lindley's recursion for c servers, Kiefer & Wolfowitz
    1955): it starts when the earliest free server frees up, or at once, and ends its service later. Jobs
    enter in simulated-time order, so this gives the times a queue served event by event gives (the same
    sums, to the last bit), with one event per job (its end) rather than two, and no per-event accounting:
    the busy time is the work taken on less what is still ahead of now, the queue's time the waits taken
    on less what is still ahead. Work once taken on is carried out even if the station goes down (what
    arrives at a station down is lost: `chain.ChainRunner`)."""

    __slots__ = (
        "_bg_area",
        "_bg_last",
        "_busy_area",
        "_free",
        "_queue_area",
        "_rng",
        "_starts",
        "_wait_mean",
        "_wait_p",
        "backlog",
        "bg_load",
        "jobs",
        "key",
        "max_queue",
        "report_work",
        "service_ms",
        "sim",
        "up",
        "workers",
    )

    def __init__(self, sim: Simulator, key: tuple[str, str], workers: int, service_ms: float) -> None:
        self.sim = sim
        self.key = key  # (kind, site)
        self.workers = workers
        self.service_ms = service_ms
        # A periodic report's work in units of `service_ms` (`Message.report`; `StationParams.report_ms`).
        self.report_work = 1.0
        # When each server is free again (a min-heap), and the start times of the jobs still waiting
        # (nondecreasing: FIFO), whose count is the queue's length.
        self._free = [0.0] * workers
        self._starts: deque[float] = deque()
        self.jobs = 0
        self.max_queue = 0
        self.up = True
        # Work and waits taken on so far, including what is still ahead of now.
        self._busy_area = 0.0
        self._queue_area = 0.0
        # Fluid background load (Erlangs), its backlog (server-ms of work) and waiting law.
        self.bg_load = 0.0
        self.backlog = 0.0
        self._bg_area = 0.0
        self._bg_last = 0.0
        self._wait_p = 0.0
        self._wait_mean = 0.0
        self._rng: random.Random | None = None

    # --- fluid background ----------------------------------------------------------------------
    def set_background(self, jobs_per_ms: float) -> None:
        self._account_background()
        load = jobs_per_ms * self.service_ms
        self.bg_load = load
        # Past saturation the backlog, not the Erlang law, sets the wait.
        stable = load < self.workers
        self._wait_p = erlang_c(self.workers, load) if stable else 0.0
        self._wait_mean = self.service_ms / (2 * (self.workers - load)) if stable else 0.0
        if self._rng is None:
            self._rng = self.sim.stream(f"station:{self.key[0]}:{self.key[1]}")

    def _account_background(self) -> None:
        now = self.sim.now
        dt = now - self._bg_last
        if dt:
            self._bg_area += min(self.bg_load, self.workers) * dt
            self.backlog = max(0.0, self.backlog + (self.bg_load - self.workers) * dt)
            self._bg_last = now

    def backlog_wait(self) -> float:
        """How long the overload backlog holds an arrival (0 unless the fluid load exceeds capacity)."""
        if self.bg_load < self.workers and not self.backlog:
            return 0.0
        self._account_background()
        return self.backlog / self.workers

    def background_wait(self) -> float:
        """A discrete job's wait behind the fluid background load."""
        wait = self.backlog_wait()
        rng = self._rng
        if self._wait_p and rng is not None and rng.random() < self._wait_p:
            wait += rng.expovariate(1.0 / self._wait_mean)
        return wait

    # --- discrete jobs -------------------------------------------------------------------------
    def submit(self, work: float, done: Callable[[Any], None], arg: Any) -> None:
        """Serve a job of `work` service units (1 = one message; a batch of k messages = k): `done(arg)`
        when its service ends."""
        self.enter(work, self._ended, (done, arg))

    def enter(self, work: float, served: Callable[[Any, float], None], arg: Any) -> None:
        """A job of `work` service units enters the queue: `served(arg, end)` as it enters, `end` the
        end of its service (`serve`). A job behind fluid background load enters once it has waited
        behind that load."""
        if self.bg_load:
            wait = self.background_wait()
            if wait > 0:
                self.sim.after(wait, self._enter_later, (work, served, arg))
                return
        served(arg, self.serve(work))

    def _enter_later(self, job: tuple[float, Callable[[Any, float], None], Any]) -> None:
        work, served, arg = job
        served(arg, self.serve(work))

    def _ended(self, job: tuple[Callable[[Any], None], Any], end: float) -> None:
        """`submit`'s job: its `done(arg)` at the end of its service."""
        sim = self.sim
        heappush(sim.heap, (end, next(sim.seq), job[0], job[1]))

    def serve(self, work: float) -> float:
        """A job enters the queue now: its start and end worked out at once; returns its end."""
        now = self.sim.now
        self.jobs += int(work) if work >= 1 else 1
        duration = self.service_ms * work
        free = self._free
        first = free[0]
        if first <= now:
            end = now + duration
        else:  # every server is busy: it waits for the first to free up
            end = first + duration
            self._queue_area += first - now
            starts = self._starts
            while starts and starts[0] <= now:
                starts.popleft()
            starts.append(first)
            self.max_queue = max(self.max_queue, len(starts))
        self._busy_area += duration
        heapreplace(free, end)
        return end

    # --- statistics ----------------------------------------------------------------------------
    def _busy_so_far(self) -> float:
        """Server time spent up to now: what servers have taken on, less what is still ahead of now
        (a server's work ahead is back to back up to when it is free: a job taken on before now starts
        at once or when the job before it ends)."""
        now = self.sim.now
        return self._busy_area - sum(f - now for f in self._free if f > now)

    def _queued_so_far(self) -> float:
        now = self.sim.now
        return self._queue_area - sum(s - now for s in self._starts if s > now)

    def utilisation(self, elapsed_ms: float) -> float:
        self._account_background()
        if elapsed_ms <= 0:
            return 0.0
        return min(1.0, (self._busy_so_far() + self._bg_area) / (elapsed_ms * self.workers))

    def mean_queue(self, elapsed_ms: float) -> float:
        return self._queued_so_far() / elapsed_ms if elapsed_ms > 0 else 0.0

    def busy_area(self) -> float:
        self._account_background()
        return self._busy_so_far() + self._bg_area


class Stations:
    """Every station of a run by (kind, site), created on first use with its kind's size (`size`):
    born down if a fault already took its site (`site_up`, the network's) or its brokers."""

    def __init__(
        self, sim: Simulator, size: Callable[[str], StationParams], site_up: dict[str, bool]
    ) -> None:
        self.sim = sim
        self.size = size
        self.site_up = site_up
        self.by_key: dict[tuple[str, str], Station] = {}
        self.brokers_down: set[tuple[str, str]] = set()

    def get(self, kind: str, site: str) -> Station:
        key = (kind, site)
        found = self.by_key.get(key)
        if found is None:
            spec = self.size(kind)
            found = Station(self.sim, key, spec.workers, spec.service_ms)
            if spec.report_ms is not None and spec.service_ms > 0:
                found.report_work = spec.report_ms / spec.service_ms
            found.up = self.site_up[site] and key not in self.brokers_down
            self.by_key[key] = found
        return found

    def at(self, site: str) -> list[Station]:
        return [s for (_, where), s in self.by_key.items() if where == site]

    def __iter__(self) -> Iterator[Station]:
        return iter(self.by_key.values())
