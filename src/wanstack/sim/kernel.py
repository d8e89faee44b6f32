"""The event kernel: a simulated clock and a heap of `(time, seq, callback, argument)` tuples.

Written for speed, after SimPy's `Environment.step` but without per-event objects or generator
processes: models schedule plain callables with one argument. `seq` breaks ties in scheduling
order, which makes runs deterministic (same seed, same event order, same numbers).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from heapq import heappop, heappush
from itertools import count
from typing import Any

Callback = Callable[[Any], None]


class Simulator:
    """Simulated time is in milliseconds, as a float."""

    __slots__ = ("events", "heap", "now", "seed", "seq")

    def __init__(self, seed: int = 0) -> None:
        self.now = 0.0
        self.seed = seed
        self.events = 0
        # Public for the one hot path that schedules without a method call (`Network.send`, which
        # pushes `(time, next(seq), callback, arg)` itself); everything else uses `at` and `after`.
        self.heap: list[tuple[float, int, Callback, Any]] = []
        self.seq = count()

    def at(self, time_ms: float, callback: Callback, arg: Any = None) -> None:
        """Run `callback(arg)` at absolute time `time_ms` (never before now)."""
        heappush(self.heap, (max(time_ms, self.now), next(self.seq), callback, arg))

    def after(self, delay_ms: float, callback: Callback, arg: Any = None) -> None:
        heappush(self.heap, (self.now + delay_ms, next(self.seq), callback, arg))

    def run(
        self, until_ms: float, progress: Callable[[float], None] | None = None, progress_every: int = 200_000
    ) -> None:
        """Process events up to `until_ms`; `progress(now)` is called every `progress_every` events."""
        heap = self.heap
        n = 0
        try:
            while heap:
                if heap[0][0] > until_ms:
                    break
                time, _, callback, arg = heappop(heap)
                self.now = time
                callback(arg)
                n += 1
                if progress is not None and n % progress_every == 0:
                    progress(time)
        finally:
            self.events += n
        self.now = max(self.now, until_ms)

    def stream(self, name: str) -> random.Random:
        """An independent random stream per component, derived from the run seed and the name, so
        adding a component never shifts the numbers another component draws."""
        digest = hashlib.blake2b(f"{self.seed}:{name}".encode(), digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))
