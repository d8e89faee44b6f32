"""Queueing stations: a service instance (or broker, router, database) with `workers` servers and a
FIFO queue. A job holds one worker for its service time. Utilisation and queue length are kept as
time integrals, so they cost O(1) per job."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from wanstack.sim.kernel import Simulator


class Station:
    __slots__ = (
        "_busy_area",
        "_last",
        "_queue_area",
        "busy",
        "jobs",
        "key",
        "max_queue",
        "queue",
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
        self.busy = 0
        self.queue: deque[tuple[float, Callable[[Any], None], Any]] = deque()
        self.jobs = 0
        self.max_queue = 0
        self.up = True
        self._busy_area = 0.0
        self._queue_area = 0.0
        self._last = 0.0

    def _account(self) -> None:
        now = self.sim.now
        dt = now - self._last
        if dt:
            self._busy_area += self.busy * dt
            self._queue_area += len(self.queue) * dt
            self._last = now

    def submit(self, work: float, done: Callable[[Any], None], arg: Any) -> None:
        """Serve a job of `work` service units (1 = one message; a batch of k messages = k)."""
        self._account()
        self.jobs += int(work) if work >= 1 else 1
        duration = self.service_ms * work
        if self.busy < self.workers:
            self.busy += 1
            self.sim.after(duration, self._finish, (done, arg))
        else:
            self.queue.append((duration, done, arg))
            self.max_queue = max(self.max_queue, len(self.queue))

    def _finish(self, job: tuple[Callable[[Any], None], Any]) -> None:
        self._account()
        if self.queue:
            duration, done, arg = self.queue.popleft()
            self.sim.after(duration, self._finish, (done, arg))
        else:
            self.busy -= 1
        job[0](job[1])

    def utilisation(self, elapsed_ms: float) -> float:
        self._account()
        return self._busy_area / (elapsed_ms * self.workers) if elapsed_ms > 0 else 0.0

    def mean_queue(self, elapsed_ms: float) -> float:
        self._account()
        return self._queue_area / elapsed_ms if elapsed_ms > 0 else 0.0

    def busy_area(self) -> float:
        self._account()
        return self._busy_area
