"""The quota ledgers' rules (`multiregion.quota`), held over random workloads and random cuts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wanstack.multiregion.quota import (
    Central,
    Escrow,
    EscrowEpsilon,
    Kingbird,
    Lease,
    QuotaMode,
    UnifiedLimits,
    even_split,
    ledger,
)

# (seconds since the previous event, region index modulo N, claim or release, amount)
EVENTS = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=30.0),
        st.integers(min_value=0, max_value=9),
        st.sampled_from([True, True, True, False]),  # mostly claims: a storm towards the limit
        st.integers(min_value=1, max_value=3),
    ),
    min_size=1,
    max_size=300,
)
# (start s, duration s, region index modulo N): the region cut off from the top site
CUTS = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=3000.0),
        st.floats(min_value=1.0, max_value=1500.0),
        st.integers(min_value=0, max_value=9),
    ),
    max_size=6,
)


def _reachable(now: float, cuts: list, regions: int) -> list[bool]:  # type: ignore[type-arg]
    """Which regions the coordinator reaches at `now`, under `cuts` of (start, length, region)."""
    return [
        not any(start <= now < start + length and r % regions == i for start, length, r in cuts)
        for i in range(regions)
    ]


def _run(mode: QuotaMode, limit: int, regions: int, events: list, cuts: list, **options: float) -> int:  # type: ignore[type-arg]
    """Drive a ledger through `events` under `cuts`; the highest total usage it reached."""
    book = ledger(mode, limit, regions, **options)
    now, peak = 0.0, 0
    for dt, who, is_claim, amount in events:
        now += dt
        region = who % regions
        reachable = _reachable(now, cuts, regions)
        book.tick(now, reachable)
        if is_claim:
            book.claim(region, amount, now, reachable[region])
        else:
            book.release(region, amount, now)
        assert all(u >= 0 for u in book.usage)
        peak = max(peak, book.total)
    return peak


@pytest.mark.parametrize(
    "mode", [QuotaMode.CENTRAL, QuotaMode.UNIFIED_LIMITS, QuotaMode.ESCROW, QuotaMode.LEASE]
)
@settings(max_examples=150, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=30),
    regions=st.integers(min_value=2, max_value=6),
    events=EVENTS,
    cuts=CUTS,
)
def test_the_exact_modes_never_exceed_the_global_limit(mode, limit, regions, events, cuts) -> None:  # type: ignore[no-untyped-def]
    assert _run(mode, limit, regions, events, cuts) <= limit


@settings(max_examples=150, deadline=None)
@given(
    epsilon=st.sampled_from([0.05, 0.1, 0.25]),
    limit=st.integers(min_value=1, max_value=40),
    regions=st.integers(min_value=2, max_value=6),
    events=EVENTS,
    cuts=CUTS,
)
def test_escrow_epsilon_never_exceeds_the_limit_by_more_than_epsilon(
    epsilon, limit, regions, events, cuts
) -> None:  # type: ignore[no-untyped-def]
    peak = _run(QuotaMode.ESCROW_EPSILON, limit, regions, events, cuts, epsilon=epsilon)
    assert peak <= limit + math.floor(epsilon * limit)


def test_kingbird_over_commits_by_n_minus_one_times_the_headroom() -> None:
    """Kingbird's sync gives every region the whole remaining headroom H: between two syncs each
    region may take all of it, so N regions reach L + (N − 1)·H."""
    book = Kingbird(limit=30, regions=3)
    book.tick(0.0, [True] * 3)
    for region in range(3):
        assert book.claim(region, 5, 1.0, True).granted
    book.tick(900.0, [True] * 3)  # headroom 15: every region's limit 15 + 5
    for region in range(3):
        assert book.claim(region, 15, 901.0, True).granted
    assert book.total == 30 + (3 - 1) * 15


def test_kingbird_skips_its_sync_when_a_region_cannot_be_read() -> None:
    book = Kingbird(limit=30, regions=3)
    book.tick(0.0, [True, True, True])
    assert book.region_limits == [30, 30, 30]
    book.claim(0, 10, 1.0, True)
    book.tick(900.0, [True, True, False])  # one region cut off: the project's sync is skipped
    assert book.region_limits == [30, 30, 30]


def test_central_refuses_a_cut_off_region_and_crosses_for_every_claim() -> None:
    book = Central(limit=10, regions=2)
    assert book.claim(1, 1, 0.0, True).round_trips == 1
    refused = book.claim(1, 1, 0.0, False)
    assert not refused.granted and "unreachable" in refused.reason


def test_unified_limits_refuse_past_a_regions_limit_while_global_headroom_exists() -> None:
    """Per-region limits are the only kind oslo.limit sees: a region that used its part is refused
    although the others have room; each claim checks twice (nova's recheck), at Keystone."""
    book = UnifiedLimits(limit=10, regions=2)
    assert [book.claim(0, 1, 0.0, True).granted for _ in range(6)] == [True] * 5 + [False]
    assert book.total == 5 and book.claim(1, 1, 0.0, True).round_trips == 6


def test_an_escrow_region_keeps_booting_within_its_share_when_cut_off() -> None:
    book = Escrow(limit=12, regions=3)
    cut = [True, True, False]
    book.tick(0.0, cut)
    decisions = [book.claim(2, 1, 1.0, False) for _ in range(5)]
    assert [d.granted for d in decisions] == [True] * 4 + [False]  # its share: 4
    assert all(d.round_trips == 0 for d in decisions)
    # the other regions get the free headroom of each other, not the cut-off region's
    book.tick(10.0, cut)
    book.tick(10.1, cut)
    assert book.shares[0] + book.shares[1] == 8 and book.stranded(cut) == 0


def test_escrow_hands_a_busy_regions_headroom_over_from_idle_ones() -> None:
    book = Escrow(limit=9, regions=3, transfer_s=0.05)
    for _ in range(3):
        assert book.claim(0, 1, 0.0, True).granted
    assert not book.claim(0, 1, 0.0, True).granted
    book.tick(10.0, [True] * 3)
    book.tick(10.05, [True] * 3)  # what was sent has arrived
    assert book.shares == [5, 2, 2] and book.claim(0, 2, 10.1, True).granted


def test_a_lease_bounds_the_headroom_a_cut_off_region_strands() -> None:
    """Escrow leaves a cut-off region's whole free share stranded for the outage; a lease takes it
    back once the region's lease is over by its term and the clock-skew bound, all but what the
    region may have claimed in a term."""
    escrow = Escrow(limit=40, regions=2)
    lease = Lease(limit=40, regions=2, term_s=60.0, skew_s=1.0, allowance_per_term=3)
    for book in (escrow, lease):
        book.tick(0.0, [True, True])
    cut = [True, False]
    for t in (10.0, 30.0, 70.0, 80.0):
        escrow.tick(t, cut)
        lease.tick(t, cut)
    assert escrow.stranded(cut) == 20
    assert lease.stranded(cut) == 3
    # the cut-off region stops claiming when its lease is over, by its own clock
    assert not lease.claim(1, 1, 65.0, False).granted


def test_even_split_adds_up() -> None:
    assert even_split(10, 3) == [4, 3, 3] and sum(even_split(7, 7)) == 7


def test_escrow_epsilon_uses_its_slack_when_a_share_is_used_up() -> None:
    book = EscrowEpsilon(limit=20, regions=2, epsilon=0.1)
    assert [book.claim(0, 1, 0.0, False).granted for _ in range(12)] == [True] * 11 + [False]
    assert book.total == 11 and book.bound() == 22


def test_a_scenarios_project_gets_a_ledger_per_limited_resource() -> None:
    from wanstack.multiregion.quota import project_ledgers
    from wanstack.scenario.quotas import ProjectQuota

    project = ProjectQuota.model_validate(
        {"name": "p", "limits": {"instances": 8, "cores": 16}, "mode": "lease", "lease": {"term_s": 30}}
    )
    books = project_ledgers(project, holders=4)
    assert set(books) == {"instances", "cores"}
    lease = books["cores"]
    assert isinstance(lease, Lease) and lease.term_s == 30.0 and lease.shares == [4, 4, 4, 4]


# --- the lease's allowance: net of releases, its bounds, its default ------------------------------------


def test_a_lease_allowance_is_given_back_by_releases() -> None:
    """The allowance bounds the region's usage above its usage at the renewal, as escrow bounds a
    value: a release gives its amount back (counted on gross claims, 2 claims and 2 releases would use
    up an allowance of 2 for the term)."""
    book = Lease(limit=40, regions=2, term_s=60.0, allowance_per_term=2)
    book.tick(0.0, [True, True])
    for t in (1.0, 2.0, 3.0):
        assert book.claim(0, 2, t, True).granted
        book.release(0, 2, t)
    assert book.claim(0, 2, 4.0, True).granted
    refused = book.claim(0, 1, 5.0, True)
    assert not refused.granted and refused.reason == "the region's lease allowance is used up"


def test_the_default_allowance_is_an_even_share() -> None:
    assert Lease(limit=30, regions=4).allowance_per_term == 8  # ⌈30 / 4⌉


@settings(max_examples=150, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=30),
    regions=st.integers(min_value=2, max_value=6),
    events=EVENTS,
)
def test_with_nothing_cut_the_default_lease_decides_as_escrow(limit, regions, events) -> None:  # type: ignore[no-untyped-def]
    """Every region renewed at every rebalancing: the default allowance never refuses a claim within
    the share, so lease and escrow grant and refuse the same claims."""
    escrow = Escrow(limit=limit, regions=regions)
    lease = Lease(limit=limit, regions=regions, term_s=60.0)
    now, everyone = 0.0, [True] * regions
    for dt, who, is_claim, amount in events:
        now += dt
        region = who % regions
        for book in (escrow, lease):
            book.tick(now, everyone)
        if is_claim:
            assert (
                escrow.claim(region, amount, now, True).granted
                == lease.claim(region, amount, now, True).granted
            )
        else:
            escrow.release(region, amount, now)
            lease.release(region, amount, now)
        assert escrow.usage == lease.usage and escrow.shares == lease.shares


@settings(max_examples=150, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=30),
    regions=st.integers(min_value=2, max_value=6),
    allowance=st.integers(min_value=0, max_value=8),
    events=EVENTS,
    cuts=CUTS,
)
def test_a_lease_holds_its_bounds(limit, regions, allowance, events, cuts) -> None:  # type: ignore[no-untyped-def]
    """Whatever the cuts: a region's usage never exceeds its usage at its last renewal plus the
    allowance, nor the limit in all; and once a cut-off region's lease is over by its term and the
    skew, its share is at most that, so it strands at most the allowance plus what it released since."""
    book = Lease(limit=limit, regions=regions, term_s=30.0, skew_s=1.0, allowance_per_term=allowance)
    now = 0.0
    for dt, who, is_claim, amount in events:
        now += dt
        region = who % regions
        reachable = _reachable(now, cuts, regions)
        book.tick(now, reachable)
        for i in range(regions):
            assert book.usage[i] <= book.ceiling(i)
            if not reachable[i] and now >= book.renewed_at[i] + book.term_s + book.skew_s:
                assert book.shares[i] <= book.ceiling(i)
                assert book.free(i) <= book.allowance_per_term + book.usage_at_renewal[i] - book.usage[i]
        if is_claim:
            book.claim(region, amount, now, reachable[region])
        else:
            book.release(region, amount, now)
        assert book.total <= limit
