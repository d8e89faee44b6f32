"""The machine's CPU counters that the benchmarks report beside their figures."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wanstack.lab.procstat import host_cpu_ticks, stolen_share


def test_host_ticks_grow_and_steal_is_part_of_them() -> None:
    first = host_cpu_ticks()
    sum(i * i for i in range(200_000))  # some CPU time, so that the counters can move
    second = host_cpu_ticks()
    assert 0 <= first[0] <= first[1]
    assert second[0] >= first[0] and second[1] >= first[1]
    assert 0.0 <= stolen_share(first, second) <= 1.0


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 10**6))
def test_stolen_share_is_the_stolen_part_of_the_elapsed_ticks(start: int, stolen: int, idle: int) -> None:
    before = (start, 2 * start + 5)
    after = (start + stolen, 2 * start + 5 + stolen + idle)
    assert stolen_share(before, after) == stolen / (stolen + idle)
    assert stolen_share(after, after) == 0.0
