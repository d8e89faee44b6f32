"""The event kernel: a simulated clock and a heap of `(time, seq, callback, argument)` tuples.

Written for speed, after SimPy's `Environment.step` but without per-event objects or generator
processes: models schedule plain callables with one argument. `seq` breaks ties in scheduling
order, which makes runs deterministic (same seed, same event order, same numbers).
"""

from __future__ import annotations

import gc
import hashlib
import random
import sys
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heapify, heappop, heappush
from itertools import count, repeat
from operator import length_hint
from typing import Any

Callback = Callable[[Any], None]

# The sequence number of `Simulator.run`'s end mark: after any event's at the same time.
STOP_SEQ = sys.maxsize


# The cyclic garbage collector's first threshold while a run's events are processed (CPython's default
# is 700 allocations): see `collector_out_of_the_way`.
RUN_GC_THRESHOLD = 10_000


@contextmanager
def collector_out_of_the_way() -> Iterator[None]:
    """While a run's events are processed: the objects made before it (a large run's hosts, stations,
    routes) frozen out of the cyclic collector's passes (`gc.freeze`), and a pass every 10,000
    allocations rather than 700. A run makes and drops millions of short-lived objects (messages, their
    callbacks); each pass walked every host's state again, which took a third of an exact hour at
    100,000 hosts (47.2 s against 29.9 s without the collector for a simulated minute; 30.6 s like
    this). Both are put back after the run."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(RUN_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


class _StopError(Exception):
    """Raised by the end mark's callback: the run has reached its end time."""


def _stop(_: Any) -> None:
    raise _StopError


class Simulator:
    """Simulated time is in milliseconds, as a float."""

    __slots__ = ("events", "heap", "now", "seed", "seq", "until")

    def __init__(self, seed: int = 0) -> None:
        self.now = 0.0
        self.seed = seed
        self.events = 0
        # Public for the one hot path that schedules without a method call (`Network.send`, which
        # pushes `(time, next(seq), callback, arg)` itself); everything else uses `at` and `after`.
        self.heap: list[tuple[float, int, Callback, Any]] = []
        self.seq = count()
        # The end of the run in progress (`run`): what happens after it is not counted.
        self.until = 0.0

    def at(self, time_ms: float, callback: Callback, arg: Any = None) -> None:
        """Run `callback(arg)` at absolute time `time_ms` (never before now)."""
        heappush(self.heap, (max(time_ms, self.now), next(self.seq), callback, arg))

    def after(self, delay_ms: float, callback: Callback, arg: Any = None) -> None:
        heappush(self.heap, (self.now + delay_ms, next(self.seq), callback, arg))

    def run(
        self, until_ms: float, progress: Callable[[float], None] | None = None, progress_every: int = 200_000
    ) -> None:
        """Process events up to `until_ms` (those at `until_ms` included); `progress(now)` is called every
        `progress_every` events. Not reentrant: a callback must not call `run`.

        The loop does nothing per event but pop, set the clock and call. The end is a mark pushed at
        `(until_ms, STOP_SEQ)`, after every event at `until_ms` whenever it is scheduled, whose callback
        raises `_StopError`: no peek at the heap's top per event. Events are counted by chunks of
        `itertools.repeat`, whose iterations left (`length_hint`) tell where a chunk stopped: no count
        per event."""
        heap = self.heap
        start = self.now
        self.until = until_ms
        mark = (until_ms, STOP_SEQ, _stop, None)
        heappush(heap, mark)
        every = progress_every if progress is not None else sys.maxsize
        chunk = repeat(None, every)
        n = 0
        stopped = False
        try:
            while True:
                for _ in chunk:
                    time, _, callback, arg = heappop(heap)
                    self.now = time
                    callback(arg)
                n += every
                chunk = repeat(None, every)
                if progress is not None:
                    progress(time)
        except _StopError:
            stopped = True
            n -= 1  # the mark's iteration
        finally:
            n += every - length_hint(chunk)  # the iterations the stopped chunk started
            if not stopped:  # a callback raised: the mark is still in the heap
                heap.remove(mark)
                heapify(heap)
            self.events += n
        self.now = max(start, until_ms)

    def stream(self, name: str) -> random.Random:
        """An independent random stream per component, derived from the run seed and the name, so
        adding a component never shifts the numbers another component draws."""
        digest = hashlib.blake2b(f"{self.seed}:{name}".encode(), digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))


class Periodic:
    """One task, `callback`, run for each of many arguments every `period_ms` from a first time of each
    in [now, now + period): a periodic task of every host of a run (a report every 10 s, ...). They
    keep one event on the heap between them, not one each: the next due task's. Each round runs them
    in the same order, that of their first times, so the next due is the next in that order; a task's
    times are its first time plus the period again and again, summed as a task rescheduling itself
    would sum them.

    Each task has the place in the event order a task rescheduling itself would have: its next run
    takes its sequence number when the run before it starts (before anything that run schedules), and
    the shared event carries the next task's. Ties matter: an RPC timeout (60 s) falls due at the
    same moment as the resource tracker's next run (60 s after the call that timed out).

    A million hosts' three periodic tasks would otherwise be 30,000 entries (one per site group) or
    300,000 (every host on its own) in the heap, and every event's push and pop would walk that
    much deeper a heap, out of the processor's caches."""

    __slots__ = ("_args", "_at", "_i", "_seq", "callback", "period_ms", "sim")

    def __init__(
        self, sim: Simulator, period_ms: float, callback: Callback, tasks: list[tuple[float, int, Any]]
    ) -> None:
        """`tasks`: (first time from now, sequence number taken from `sim.seq`, argument)."""
        self.sim = sim
        self.period_ms = period_ms
        self.callback = callback
        order = sorted(range(len(tasks)), key=lambda i: tasks[i][:2])
        # Arrays of machine numbers rather than lists of number objects, and the arguments alone
        # (one callback for all): a million hosts' next times and places stay in a few contiguous
        # blocks the processor's caches hold.
        self._at = array("d", [sim.now + tasks[i][0] for i in order])
        self._seq = array("q", [tasks[i][1] for i in order])
        self._args = [tasks[i][2] for i in order]
        self._i = 0
        if tasks:
            heappush(sim.heap, (self._at[0], self._seq[0], self._run, None))

    def _run(self, _: Any = None) -> None:
        sim = self.sim
        i = self._i
        at = self._at
        at[i] += self.period_ms
        self._seq[i] = next(sim.seq)
        n = self._i = i + 1 if i + 1 < len(at) else 0
        heappush(sim.heap, (at[n], self._seq[n], self._run, None))
        self.callback(self._args[i])
