"""The simulator's quota figures (`QuotaStats`) mean what they say, for every mode: over-commit taken
at every change of usage, refusals with room and stranded headroom defined once, the lease's
allowance net of releases; each run's figures equal a brute-force replay of its claim log.

The storm is issue 36's: claims at 8/s over four regions (a centre and three edges, each its own
control plane), a limit of 30 instances, each server kept an exponential 5 s, and two cuts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wanstack.results.schema import QuotaStats
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import parse
from wanstack.sim.engine import Engine, simulate
from wanstack.sim.quota_tally import ClaimEvent, EventKind, Tally

MODES = ["central", "unified-limits", "kingbird", "escrow", "lease", "escrow-epsilon"]

STORM = """
generate: {kind: star, edges: 3, delay_ms: 20, hosts: {count: 2}, center_hosts: {count: 1}}
model: region-per-site
quotas:
  projects: [{name: demo, limits: {instances: %(limit)d}, mode: %(mode)s%(options)s}]
workload:
  operations:
    - {op: claim, rate_per_s: %(rate)s, hold_s: %(hold)s, project: demo}
%(faults)s
run: {duration_s: %(duration)s, seed: %(seed)d}
"""
TWO_CUTS = """faults:
  - {at_s: 100, action: cut-link, link: [central, edge-1]}
  - {at_s: 200, action: restore-link, link: [central, edge-1]}
  - {at_s: 300, action: cut-link, link: [central, edge-2]}
  - {at_s: 400, action: restore-link, link: [central, edge-2]}"""


def storm(mode: str, *, faults: str = TWO_CUTS, options: str = "", **overrides: object) -> str:
    """Issue 36's claim storm under `mode` (`options`: more of the project's settings, `, key: value`)."""
    values: dict[str, object] = {"limit": 30, "rate": 8, "hold": 5, "duration": 500, "seed": 1}
    values.update(overrides)
    return STORM % {"mode": mode, "options": options, "faults": faults, **values}


def _stats(text: str) -> QuotaStats:
    (stats,) = simulate(parse(text, "storm.yaml")).quotas
    return stats


# --- over-commit: at every change of usage ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_over_commit_is_the_peak_usage_above_the_limit(mode: str) -> None:
    """Taken at every grant, not once a simulated second: Kingbird's over-commit is exactly its own
    peak usage less the limit (sampled per second it missed the peaks between two samples)."""
    stats = _stats(storm(mode))
    assert stats.over_commit_peak == max(0, stats.peak_usage - stats.limit)
    if mode == "kingbird":  # every region may use the whole headroom between syncs
        assert stats.over_commit_peak > 0


# --- the lease's allowance ----------------------------------------------------------------------------------


def test_without_faults_the_lease_refuses_no_more_than_escrow() -> None:
    """The default allowance (an even share, net of releases) never binds while every region is
    renewed at every rebalancing: with nothing cut, the lease grants and refuses exactly what escrow
    does, claim for claim."""
    lease = _stats(storm("lease", faults=""))
    escrow = _stats(storm("escrow", faults=""))
    assert lease.refused < lease.claims / 2
    assert (lease.claims, lease.refused, lease.refused_with_headroom, lease.peak_usage) == (
        escrow.claims,
        escrow.refused,
        escrow.refused_with_headroom,
        escrow.peak_usage,
    )


def test_the_lease_term_matters_when_a_region_is_cut_off() -> None:
    """A cut-off region claims until its lease is over: the shorter the term, the sooner it stops
    (each cut lasts 100 s: a 20 s lease stops it after about 20 s, a 90 s one after about 90 s)."""
    short = _stats(storm("lease", options=", lease: {term_s: 20}"))
    long = _stats(storm("lease", options=", lease: {term_s: 90}"))
    assert short.refused > long.refused


def test_a_lease_shorter_than_its_renewal_is_refused() -> None:
    """A lease renewed every `rebalance_s` but lasting less would lapse between renewals with nothing
    failing."""
    with pytest.raises(ScenarioError, match="term_s"):
        parse(storm("lease", options=", rebalance_s: 10, lease: {term_s: 10}"), "storm.yaml")


# --- stranded headroom: one definition ------------------------------------------------------------------


@pytest.mark.parametrize("faults", [TWO_CUTS, ""], ids=["two-cuts", "no-fault"])
@pytest.mark.parametrize("mode", MODES)
def test_headroom_is_stranded_exactly_when_claims_are_refused_with_room(mode: str, faults: str) -> None:
    """A claim refused while the limit had room for it leaves that headroom stranded for it, whatever
    the mode: unified-limits' static per-region limits as much as a cut-off escrow share."""
    stats = _stats(storm(mode, faults=faults))
    assert (stats.refused_with_headroom > 0) == (stats.stranded_peak > 0) == (stats.stranded_unit_s > 0)
    assert stats.stranded_peak <= stats.limit


# --- the brute-force replay of the claim log ---------------------------------------------------------------


@dataclass
class Replayed:
    claims: int = 0
    refused: int = 0
    refused_with_headroom: int = 0
    peak_usage: int = 0
    over_commit_peak: int = 0
    over_limit_unit_s: float = 0.0
    stranded_peak: int = 0
    stranded_unit_s: float = 0.0


def replay(log: list[ClaimEvent], limit: int, end_ms: float) -> Replayed:
    """The figures straight from their definitions, every state recomputed from the whole log up to
    it: a holder's usage (its grants less its releases, never below 0); a refusal is with room when
    the limit had room for it (before a refusal, after a revoked grant's release); a holder is starved
    while its latest decision is a refusal with room; the headroom is stranded while any is."""
    out = Replayed()
    for k, event in enumerate(log):
        usage: dict[int, int] = {}
        last_decision: dict[int, bool] = {}  # holder → its latest decision was a refusal with room
        for e in log[: k + 1]:
            before = sum(usage.values())
            held = usage.get(e.holder, 0)
            match e.kind:
                case EventKind.GRANT:
                    usage[e.holder] = held + e.amount
                    last_decision[e.holder] = False
                case EventKind.REFUSE:
                    last_decision[e.holder] = before + e.amount <= limit
                case EventKind.RELEASE:
                    usage[e.holder] = max(0, held - e.amount)
                case EventKind.REVOKE:
                    usage[e.holder] = max(0, held - e.amount)
                    last_decision[e.holder] = sum(usage.values()) + e.amount <= limit
        total = sum(usage.values())
        match event.kind:
            case EventKind.GRANT:
                out.claims += 1
                out.peak_usage = max(out.peak_usage, total)
            case EventKind.REFUSE | EventKind.REVOKE:
                out.claims += event.kind is EventKind.REFUSE
                out.refused += 1
                out.refused_with_headroom += last_decision[event.holder]
            case EventKind.RELEASE:
                pass
        stranded = max(0, limit - total) if any(last_decision.values()) else 0
        out.stranded_peak = max(out.stranded_peak, stranded)
        until = log[k + 1].at_ms if k + 1 < len(log) else end_ms
        out.stranded_unit_s += stranded * (until - event.at_ms) / 1000.0
        out.over_limit_unit_s += max(0, total - limit) * (until - event.at_ms) / 1000.0
    out.over_commit_peak = max(0, out.peak_usage - limit)
    return out


FAULTS = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=50.0),
        st.floats(min_value=1.0, max_value=40.0),
        st.sampled_from(["cut edge-1", "cut edge-2", "cut edge-3", "down central", "down edge-1"]),
    ),
    max_size=2,
)


def _faults(faults: list[tuple[float, float, str]]) -> str:
    """For a while, an edge's link to the centre cut, or a site down (the claims in flight there
    lost)."""
    lines = []
    for start, length, what in faults:
        kind, where = what.split()
        if kind == "cut":
            lines.append(f"  - {{at_s: {start:.3f}, action: cut-link, link: [central, {where}]}}")
            lines.append(
                f"  - {{at_s: {start + length:.3f}, action: restore-link, link: [central, {where}]}}"
            )
        else:
            lines.append(f"  - {{at_s: {start:.3f}, action: site-down, site: {where}}}")
            lines.append(f"  - {{at_s: {start + length:.3f}, action: site-up, site: {where}}}")
    return "faults:\n" + "\n".join(lines) if lines else ""


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=8, deadline=None)
@given(
    storm_of=st.fixed_dictionaries(
        {
            "limit": st.integers(min_value=2, max_value=20),
            "rate": st.sampled_from([1, 3, 6]),
            "hold": st.sampled_from([0.5, 2, 8]),
            "seed": st.integers(min_value=1, max_value=10_000),
        }
    ),
    faults=FAULTS,
    allowance=st.integers(min_value=0, max_value=4),
)
def test_the_runs_figures_are_its_claim_logs(
    mode: str, storm_of: dict[str, int | float], faults: list[tuple[float, float, str]], allowance: int
) -> None:
    """A random storm under `mode` (its limit, rate, hold and seed), faults and all: every figure of
    the run equals the replay of the keeper's claim log; the same seed gives the same figures.
    Unified-limits with Keystone at the centre, so that its checks cross the faults."""
    options = f", rebalance_s: 5, lease: {{term_s: 15, allowance: {allowance}}}" if mode == "lease" else ""
    text = storm(mode, faults=_faults(faults), options=options, duration=60, **storm_of)
    limit = int(storm_of["limit"])
    if mode == "unified-limits":
        text = text.replace("model: region-per-site", "model: region-per-site-central-keystone")
    engine = Engine(parse(text, "storm.yaml"))
    result = engine.run()
    (stats,) = result.quotas
    (book,) = engine.quotas.books.values()
    log = book.tallies["instances"].log
    assert len(log) >= stats.claims > 0
    expected = replay(log, limit, result.duration_s * 1000.0)
    assert (
        stats.claims,
        stats.refused,
        stats.refused_with_headroom,
        stats.peak_usage,
        stats.over_commit_peak,
        stats.stranded_peak,
    ) == (
        expected.claims,
        expected.refused,
        expected.refused_with_headroom,
        expected.peak_usage,
        expected.over_commit_peak,
        expected.stranded_peak,
    )
    assert stats.over_limit_unit_s == pytest.approx(expected.over_limit_unit_s, rel=1e-9, abs=1e-9)
    assert stats.stranded_unit_s == pytest.approx(expected.stranded_unit_s, rel=1e-9, abs=1e-9)
    assert simulate(parse(text, "storm.yaml")).quotas == result.quotas


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=12),
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=5_000.0),  # ms since the previous event
            st.sampled_from(list(EventKind)),
            st.integers(min_value=0, max_value=3),  # the holder
            st.integers(min_value=1, max_value=4),  # the amount
        ),
        max_size=60,
    ),
)
def test_a_tally_is_its_logs_replay(limit: int, steps: list[tuple[float, EventKind, int, int]]) -> None:
    """Any sequence of grants, refusals, releases and revokes (which the simulator rarely makes: a
    claim in flight lost between oslo.limit's check and its recheck), over-committing or not."""
    tally = Tally(QuotaStats(project="p", resource="instances", mode="central", limit=limit))
    usage = [0] * 4
    now = 0.0
    for dt, kind, holder, amount in steps:
        now += dt
        match kind:
            case EventKind.GRANT:
                usage[holder] += amount
                tally.granted(now, holder, amount, sum(usage))
            case EventKind.REFUSE:
                tally.refused(now, holder, amount, sum(usage))
            case EventKind.RELEASE:
                usage[holder] = max(0, usage[holder] - amount)
                tally.released(now, holder, amount, sum(usage))
            case EventKind.REVOKE:
                usage[holder] = max(0, usage[holder] - amount)
                tally.revoked(now, holder, amount, sum(usage))
    end = now + 1_000.0
    tally.close(end)
    expected = replay(tally.log, limit, end)
    stats = tally.stats
    assert (stats.claims, stats.refused, stats.refused_with_headroom, stats.peak_usage) == (
        expected.claims,
        expected.refused,
        expected.refused_with_headroom,
        expected.peak_usage,
    )
    assert (stats.over_commit_peak, stats.stranded_peak) == (
        expected.over_commit_peak,
        expected.stranded_peak,
    )
    assert stats.over_limit_unit_s == pytest.approx(expected.over_limit_unit_s, rel=1e-9, abs=1e-9)
    assert stats.stranded_unit_s == pytest.approx(expected.stranded_unit_s, rel=1e-9, abs=1e-9)
