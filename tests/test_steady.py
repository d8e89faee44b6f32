"""Measurements taken again while the hypervisor takes the CPU (`lab.steady`), on made-up /proc/stat
readings: which attempt is kept, how many are made, what is set aside."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanstack.lab import steady
from wanstack.lab.steady import ONCE, Steadiness, least_disturbed


def _readings(shares: list[float]) -> Iterator[tuple[int, int]]:
    """(stolen, all) tick readings, two per attempt, such that attempt i sees shares[i] stolen."""
    stolen = total = 0
    for share in shares:
        yield stolen, total
        total += 10_000
        stolen += round(share * 10_000)
        yield stolen, total


def _attempts(shares: list[float], steadiness: Steadiness) -> tuple[steady.Steadied[int], int, list[str]]:
    readings = _readings(shares)
    calls: list[int] = []
    said: list[str] = []

    def measure() -> int:
        calls.append(len(calls))
        return len(calls) - 1  # the attempt's number

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(steady, "host_cpu_ticks", lambda: next(readings))
        done = least_disturbed(measure, steadiness, "casts 20 ms apart", said.append)
    return done, len(calls), said


def test_a_steady_first_attempt_is_the_only_one() -> None:
    done, calls, said = _attempts([0.01, 0.5], Steadiness(max_stolen=0.05, attempts=3))
    assert (done.result, done.stolen, done.set_aside, calls, said) == (0, 0.01, (), 1, [])


def test_disturbed_attempts_are_measured_again_and_set_aside() -> None:
    done, calls, said = _attempts([0.2, 0.3, 0.04], Steadiness(max_stolen=0.05, attempts=3))
    assert (done.result, done.stolen, done.set_aside, calls) == (2, 0.04, (0.2, 0.3), 3)
    assert said == [
        "casts 20 ms apart: 20% of the CPU stolen while it ran (over 5%): again",
        "casts 20 ms apart: 30% of the CPU stolen while it ran (over 5%): again",
    ]


def test_when_every_attempt_is_disturbed_the_least_disturbed_is_kept() -> None:
    done, calls, _ = _attempts([0.2, 0.08, 0.3], Steadiness(max_stolen=0.05, attempts=3))
    assert (done.result, done.stolen, done.set_aside, calls) == (1, 0.08, (0.2, 0.3), 3)


def test_once_measures_once_whatever_was_stolen() -> None:
    done, calls, _ = _attempts([0.9, 0.0], ONCE)
    assert (done.result, done.stolen, done.set_aside, calls) == (0, 0.9, (), 1)


@pytest.mark.parametrize("bad", [{"max_stolen": -0.1}, {"max_stolen": 1.5}, {"attempts": 0}])
def test_a_steadiness_that_cannot_be_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="max_stolen"):
        Steadiness(**bad)  # type: ignore[arg-type]


@given(
    shares=st.lists(st.integers(0, 100).map(lambda x: x / 100), min_size=4, max_size=4),
    limit=st.integers(0, 100).map(lambda x: x / 100),
    attempts=st.integers(1, 4),
)
def test_it_stops_at_the_first_steady_attempt_and_keeps_the_least_disturbed(
    shares: list[float], limit: float, attempts: int
) -> None:
    done, calls, said = _attempts(shares, Steadiness(max_stolen=limit, attempts=attempts))
    steady_at = next((i for i, s in enumerate(shares[:attempts]) if s <= limit), None)
    assert calls == (attempts if steady_at is None else steady_at + 1)
    tried = shares[:calls]
    assert done.stolen == min(tried) and done.result == tried.index(min(tried))
    assert sorted((*done.set_aside, done.stolen)) == sorted(tried)
    assert len(said) == min(calls, attempts - 1) if steady_at is None else len(said) == steady_at


def _run(stolen: float, result: int) -> steady.Steadied[int]:
    return steady.Steadied(result, stolen)


def test_runs_still_disturbed_are_left_out_of_the_pool() -> None:
    gate = Steadiness(max_stolen=0.01, attempts=3)
    pooled = steady.within_gate([_run(0.12, 0), _run(0.004, 1), _run(0.0, 2)], gate)
    assert (pooled.kept, pooled.left_out) == ([1, 2], (0.12,))


def test_when_no_run_is_within_the_gate_the_least_disturbed_is_pooled_alone() -> None:
    gate = Steadiness(max_stolen=0.01, attempts=3)
    pooled = steady.within_gate([_run(0.12, 0), _run(0.05, 1), _run(0.3, 2)], gate)
    assert (pooled.kept, pooled.left_out) == ([1], (0.12, 0.3))


@given(shares=st.lists(st.integers(0, 100).map(lambda x: x / 100), min_size=1, max_size=6))
def test_every_run_is_either_pooled_or_left_out(shares: list[float]) -> None:
    gate = Steadiness(max_stolen=0.05, attempts=3)
    pooled = steady.within_gate([_run(s, i) for i, s in enumerate(shares)], gate)
    assert len(pooled.kept) + len(pooled.left_out) == len(shares) and pooled.kept
    assert all(shares[i] <= 0.05 for i in pooled.kept) or len(pooled.kept) == 1
    assert all(s > 0.05 for s in pooled.left_out)
