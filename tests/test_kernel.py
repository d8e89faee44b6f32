"""The event kernel: `Simulator.run` against the plain loop it replaced (peek at the heap's top, stop
past the end time, count each event), on random schedules of events that schedule more events."""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanstack.sim.kernel import Simulator


def plain_run(sim: Simulator, until_ms: float) -> None:
    """The kernel's loop as it was (one peek, one count and one check per event)."""
    heap = sim.heap
    start = sim.now
    while heap:
        if heap[0][0] > until_ms:
            break
        time, _, callback, arg = heappop(heap)
        sim.now = time
        callback(arg)
        sim.events += 1
    sim.now = max(start, until_ms)


# An event: when it runs (delay from now), and the delays of the events it schedules when it runs.
Event = tuple[float, list[float]]
delays = st.sampled_from([0.0, 0.5, 1.0, 2.5, 3.0, 10.0])  # few values: many ties, many at an end
events = st.lists(st.tuples(delays, st.lists(delays, max_size=3)), max_size=30)
ends = st.lists(st.sampled_from([0.0, 1.0, 2.5, 3.0, 5.0, 100.0]), min_size=1, max_size=4)


def trace(schedule: list[Event], ends_ms: list[float], run: Any) -> list[tuple[Any, ...]]:
    """What ran, when, in which order, and the clock and the count after each `run` call."""
    sim = Simulator(seed=1)
    seen: list[tuple[Any, ...]] = []
    names = iter(range(10_000))

    def fire(arg: tuple[int, list[float]]) -> None:
        name, children = arg
        seen.append(("ran", name, sim.now))
        for delay in children:
            # Children schedule one more event each (at an end time now and then: `at` ties).
            sim.after(delay, fire, (next(names), [delay + 1.0] if delay < 2.0 else []))

    for delay, children in schedule:
        sim.after(delay, fire, (next(names), children))
    for end in ends_ms:
        run(sim, sim.now + end)
        seen.append(("end", sim.now, sim.events, len(sim.heap)))
    return seen


@given(events, ends)
def test_run_does_what_the_plain_loop_did(schedule: list[Event], ends_ms: list[float]) -> None:
    assert trace(schedule, ends_ms, Simulator.run) == trace(schedule, ends_ms, plain_run)


def test_an_event_scheduled_at_the_end_time_during_the_run_runs_in_it() -> None:
    sim = Simulator()
    ran: list[str] = []
    sim.at(5.0, lambda _: sim.at(10.0, ran.append, "at the end"))
    sim.at(10.0, ran.append, "before")
    sim.at(10.5, ran.append, "after")
    sim.run(10.0)
    assert ran == ["before", "at the end"]
    assert (sim.now, sim.events, len(sim.heap)) == (10.0, 3, 1)


def test_a_run_that_ends_before_now_leaves_the_clock() -> None:
    sim = Simulator()
    sim.run(20.0)
    sim.at(25.0, print)
    sim.run(10.0)
    assert (sim.now, sim.events, len(sim.heap)) == (20.0, 0, 1)


def test_progress_is_called_every_so_many_events_with_the_clock() -> None:
    sim = Simulator()
    for t in range(1, 8):
        sim.at(float(t), lambda _: None)
    calls: list[float] = []
    sim.run(100.0, calls.append, progress_every=3)
    assert calls == [3.0, 6.0]
    assert (sim.now, sim.events) == (100.0, 7)


def test_a_callback_that_raises_leaves_the_heap_as_it_was_and_counts_what_ran() -> None:
    sim = Simulator()

    def fail(_: object) -> None:
        raise RuntimeError("model error")

    sim.at(1.0, lambda _: None)
    sim.at(2.0, fail)
    sim.at(3.0, lambda _: None)
    with pytest.raises(RuntimeError):
        sim.run(10.0)
    assert [e[0] for e in sim.heap] == [3.0]  # no end mark left behind
    assert sim.events == 2  # the one that raised was run
    sim.run(10.0)
    assert (sim.now, sim.events, sim.heap) == (10.0, 3, [])


def test_the_count_does_not_depend_on_how_sequence_numbers_are_drawn() -> None:
    """A shared periodic event takes its tasks' numbers ahead of their pushes and pushes again with
    numbers drawn before: the count is of the events run."""
    sim = Simulator()
    ahead = [next(sim.seq) for _ in range(5)]

    def periodic(k: int) -> None:
        for _ in range(3):
            next(sim.seq)
        if k < 4:
            heappush(sim.heap, (sim.now + 1.0, ahead[k + 1], periodic, k + 1))

    heappush(sim.heap, (1.0, ahead[0], periodic, 0))
    sim.run(3.0)
    assert (sim.events, sim.now) == (3, 3.0)
    sim.run(10.0)
    assert (sim.events, sim.heap) == (5, [])


def test_progress_that_raises_leaves_the_count_and_the_heap_right() -> None:
    sim = Simulator()
    for t in range(1, 6):
        sim.at(float(t), lambda _: None)

    def stop(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sim.run(100.0, stop, progress_every=2)
    assert (sim.events, [e[0] for e in sim.heap]) == (2, [3.0, 4.0, 5.0])
