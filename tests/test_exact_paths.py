"""The fast ways of the exact (every host on its own) hot path, each held to the slow way it replaces:
a station's jobs worked out when they enter (Lindley) against a queue served event by event, hops sent
ahead of their departure, calls carried as one message and reports taken as their answers are sent
back (`Message.early`) against an event per hop, and the cyclic collector put back after a run."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wanstack.scenario.load import load
from wanstack.sim.chain import ChainRunner
from wanstack.sim.engine import simulate
from wanstack.sim.kernel import RUN_GC_THRESHOLD, Simulator, collector_out_of_the_way
from wanstack.sim.stations import Station

ROOT = Path(__file__).resolve().parent.parent


class EventByEventQueue:
    """A FIFO queue with `workers` servers served event by event (an event when a job starts or ends),
    its busy servers and queue length integrated over time: the station as it was before `Station.serve`."""

    def __init__(self, sim: Simulator, workers: int, service_ms: float) -> None:
        self.sim, self.workers, self.service_ms = sim, workers, service_ms
        self.busy = 0
        self.queue: deque[tuple[float, Callable[[Any], None], Any]] = deque()
        self.max_queue = 0
        self.busy_area = self.queue_area = self.last = 0.0

    def account(self) -> None:
        dt = self.sim.now - self.last
        self.busy_area += self.busy * dt
        self.queue_area += len(self.queue) * dt
        self.last = self.sim.now

    def submit(self, work: float, done: Callable[[Any], None], arg: Any) -> None:
        self.account()
        duration = self.service_ms * work
        if self.busy < self.workers:
            self.busy += 1
            self.sim.after(duration, self.finish, (done, arg))
        else:
            self.queue.append((duration, done, arg))
            self.max_queue = max(self.max_queue, len(self.queue))

    def finish(self, job: tuple[Callable[[Any], None], Any]) -> None:
        self.account()
        if self.queue:
            duration, done, arg = self.queue.popleft()
            self.sim.after(duration, self.finish, (done, arg))
        else:
            self.busy -= 1
        job[0](job[1])


@settings(max_examples=150, deadline=None)
@given(
    workers=st.integers(1, 4),
    service_ms=st.floats(0.1, 20.0),
    jobs=st.lists(st.tuples(st.floats(0.0, 15.0), st.sampled_from([1.0, 0.3, 2.0])), min_size=1, max_size=60),
    reads=st.lists(st.floats(0.0, 400.0), max_size=5),
)
def test_a_station_works_its_jobs_out_as_a_queue_served_event_by_event(
    workers: int, service_ms: float, jobs: list[tuple[float, float]], reads: list[float]
) -> None:
    """Every job ends when the queue served event by event ends it, to the last bit; the busy time and
    the queue's time read at any moment are the same up to rounding; the longest queue is the same but
    where a job arrives at the very moment a server frees up (served event by event, it queued for no
    time)."""
    ends: dict[str, list[float]] = {"new": [], "old": []}
    areas: dict[str, list[tuple[float, float]]] = {"new": [], "old": []}
    sims: dict[str, Simulator] = {}
    queues: dict[str, Any] = {}
    for way in ("new", "old"):
        sim = sims[way] = Simulator()
        queue = queues[way] = (
            Station(sim, ("x", "s"), workers, service_ms)
            if way == "new"
            else EventByEventQueue(sim, workers, service_ms)
        )
        t = 0.0
        for gap, work in jobs:
            t += gap
            sim.at(
                t, lambda w, q=queue, e=ends[way], s=sim: q.submit(w, lambda _: e.append(s.now), None), work
            )
        for at in sorted(reads):
            sim.at(at, lambda _, q=queue, a=areas[way], w=way: a.append(_areas(q, w)), None)
        sim.run(10_000.0)
    assert ends["new"] == ends["old"]
    for (busy, queued), (old_busy, old_queued) in zip(areas["new"], areas["old"], strict=True):
        assert busy == pytest.approx(old_busy, rel=1e-9, abs=1e-9)
        assert queued == pytest.approx(old_queued, rel=1e-9, abs=1e-9)
    new, old = queues["new"], queues["old"]
    assert _areas(new, "new") == pytest.approx(_areas(old, "old"), rel=1e-9, abs=1e-9)
    arrivals = set()
    t = 0.0
    for gap, _ in jobs:
        t += gap
        arrivals.add(t)
    if arrivals.isdisjoint(ends["old"]):
        assert new.max_queue == old.max_queue
    else:
        assert new.max_queue <= old.max_queue


def _areas(queue: Any, way: str) -> tuple[float, float]:
    if way == "new":
        return queue.busy_area(), queue.mean_queue(1.0)
    queue.account()
    return queue.busy_area, queue.queue_area


@pytest.mark.parametrize("scenario", ["default", "examples/tour.yaml"])
def test_sending_ahead_changes_no_figure(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With and without hops sent ahead, calls carried as one message (`ChainRunner.served`) and
    reports' answers taken as they are sent (`ChainRunner._last`), on the default scenario and the tour
    (cuts, services seen down and back, jitter and loss, image downloads, live migrations): the same
    operations and latencies, outages, time series, station jobs and longest queues, and bytes per link;
    utilisation and mean queues up to rounding (summed per job, not per event); fewer events."""
    infra = load(ROOT / scenario if scenario.endswith(".yaml") else scenario)
    ahead = simulate(infra)
    monkeypatch.setattr(ChainRunner, "ahead", False)
    hopped = simulate(infra)
    assert ahead.events is not None and hopped.events is not None and ahead.events < 0.9 * hopped.events
    assert ahead.operations == hopped.operations
    assert ahead.samples == hopped.samples
    assert ahead.outages == hopped.outages
    assert ahead.timeseries is not None and hopped.timeseries is not None
    for name, values in ahead.timeseries.series.items():
        assert values == pytest.approx(hopped.timeseries.series[name], rel=1e-6, abs=1e-9), name
    for a, h in zip(ahead.stations, hopped.stations, strict=True):
        assert (a.kind, a.site, a.jobs, a.max_queue) == (h.kind, h.site, h.jobs, h.max_queue)
        assert a.utilisation == pytest.approx(h.utilisation, rel=1e-9, abs=1e-12)
        assert a.mean_queue == pytest.approx(h.mean_queue, rel=1e-9, abs=1e-12)
    for a_link, h_link in zip(ahead.links, hopped.links, strict=True):
        assert a_link.bytes_ab == pytest.approx(h_link.bytes_ab, rel=1e-12)
        assert a_link.bytes_ba == pytest.approx(h_link.bytes_ba, rel=1e-12)


def test_the_collector_is_put_back_after_a_run_even_one_that_fails() -> None:
    """A run sets the cyclic collector aside (frozen objects, a higher threshold) and puts it back as it
    was, whether the run ends or raises."""
    before = gc.get_threshold()
    with collector_out_of_the_way():
        assert gc.get_threshold()[0] == RUN_GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), collector_out_of_the_way():
        raise RuntimeError
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
