"""Quotas across regions in the simulator: the claim in the boot's workflow as each mode makes it,
at an edge region cut off from the top site."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wanstack.cli import app
from wanstack.results.schema import LinkTraffic, QuotaStats
from wanstack.scenario.load import parse
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sim.params import Params

# Four regions (the centre and three edges, each its own control plane), 12 instances for the
# project across all of them; edge-1 is cut off from the centre before its six boots.
CUT = """
generate: {kind: star, edges: 3, delay_ms: 20, hosts: {count: 2}, center_hosts: {count: 1}}
model: region-per-site
quotas:
  projects: [{name: demo, limits: {instances: 12}, mode: %(mode)s}]
workload:
  operations:
    - {op: boot, times: 6, concurrency: 1, sites: [edge-1], start_s: 100}
faults:
  - {at_s: 50, action: cut-link, link: [central, edge-1]}
run: {duration_s: 400, seed: 1}
"""


def _run(mode: str) -> tuple[int, int, dict[str, int]]:
    result = simulate(parse(CUT % {"mode": mode}, "q.yaml"))
    boot = result.operation("boot")
    assert boot is not None
    (stats,) = result.quotas
    return boot.succeeded, stats.refused_with_headroom, boot.failure_reasons


def test_a_cut_off_region_under_the_central_ledger_cannot_boot() -> None:
    ok, refused, reasons = _run("central")
    assert ok == 0 and refused == 6
    assert list(reasons) == ["QuotaExceeded (instances): the central ledger is unreachable"]


@pytest.mark.parametrize("mode", ["escrow", "escrow-epsilon", "unified-limits"])
def test_a_cut_off_region_boots_within_its_part_of_the_limit(mode: str) -> None:
    """Escrow: the region's share (12 over four regions: 3) is decided at the region; the rest is
    refused although the limit has room (the other regions' shares are out of reach). Keystone's
    per-region limits give the same here (the region's own Keystone, a static 3)."""
    ok, refused, _ = _run(mode)
    assert (ok, refused) == (3, 3)


def test_kingbird_lets_a_cut_off_region_use_the_whole_headroom() -> None:
    ok, _, _ = _run("kingbird")
    assert ok == 6  # its last sync (at 0 s) gave every region all 12


def test_a_lease_stops_a_cut_off_region_once_its_term_is_over() -> None:
    """Leases of 60 s renewed every 10 s while the region reaches the centre: cut at 50 s, the
    region's boots from 100 s find its lease over and are refused."""
    ok, _, reasons = _run("lease")
    assert ok == 0 and list(reasons) == ["QuotaExceeded (instances): the region's lease has expired"]


def test_explain_shows_the_claims_round_trips(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.yaml"
    path.write_text(CUT % {"mode": "central"})
    central = runner.invoke(app, ["explain", "boot", str(path), "--site", "edge-2"])
    path.write_text(CUT % {"mode": "escrow"})
    escrow = runner.invoke(app, ["explain", "boot", str(path), "--site", "edge-2"])
    assert central.exit_code == 0 and escrow.exit_code == 0, central.output + escrow.output
    assert "QUOTA claim: 1 round trip(s) from nova-api to the top site" in central.output

    def total(out: str) -> int:
        return int(out.split(" one-way WAN crossings", maxsplit=1)[0].rsplit(maxsplit=1)[-1])

    assert total(central.output) == total(escrow.output) + 2


def test_compare_takes_the_quota_mode_as_an_axis(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from wanstack.report.tables import quota_verdict
    from wanstack.scenario.load import Source
    from wanstack.scenario.quotas import QuotaMode
    from wanstack.sim.variants import run_variants

    path = tmp_path / "q.yaml"
    path.write_text(CUT % {"mode": "central"})
    modes = [QuotaMode.CENTRAL, QuotaMode.ESCROW, QuotaMode.KINGBIRD]
    results = run_variants(Source.of(path), [("region-per-site", None, m) for m in modes], processes=1)
    assert [quota_verdict(r) for r in results] == [
        "central: 6/6 refused (6 with room), over by 0",
        "escrow: 3/6 refused (3 with room), over by 0",
        "kingbird: 0/6 refused (0 with room), over by 0",
    ]
    shown = runner.invoke(
        app, ["compare", str(path), "--models", "region-per-site", "--quota-modes", "escrow"]
    )
    assert shown.exit_code == 0 and "quotas" in shown.output, shown.output
    bad = runner.invoke(app, ["compare", str(path), "--quota-modes", "escrowed"])
    assert bad.exit_code == 2 and "unknown quota mode" in bad.output


# --- the claim's latency --------------------------------------------------------------------------------

# The same four regions, nothing cut: edge-2 boots five servers one after the other.
CALM = """
generate: {kind: star, edges: 3, delay_ms: 20, hosts: {count: 2}, center_hosts: {count: 1}}
model: region-per-site
quotas:
  projects: [{name: demo, limits: {instances: 12, cores: 12}, mode: %(mode)s}]
workload:
  operations:
    - {op: boot, times: 5, concurrency: 1, sites: [edge-2], start_s: 10}
run: {duration_s: 200, seed: 1}
"""


def _claims(mode: str, claim_ms: float) -> list[QuotaStats]:
    options = SimOptions(params=Params(quota_claim_ms=claim_ms, quota_refusal_ms=None))
    return simulate(parse(CALM % {"mode": mode}, "q.yaml"), options).quotas


@pytest.mark.parametrize("mode", ["escrow", "lease", "escrow-epsilon", "kingbird"])
@pytest.mark.parametrize("claim_ms", [0.0, 7.5])
def test_a_claim_decided_at_the_region_takes_the_claim_time(mode: str, claim_ms: float) -> None:
    rows = _claims(mode, claim_ms)
    assert [r.resource for r in rows] == ["instances", "cores"]
    for r in rows:  # one claim covers both resources: both rows give its time
        assert (r.claim_ms_count, r.claim_ms_p50, r.claim_ms_p95) == (5, claim_ms, claim_ms)


def test_a_refusal_at_the_region_costs_the_check_only() -> None:
    """The quota service refuses from its counters and writes nothing: 2.5 ms against 7.5 ms for a
    grant. Edge-1 cut off with 6 boots and a share of 3 (`CUT`)."""
    options = SimOptions(params=Params(quota_claim_ms=7.5, quota_refusal_ms=2.5))
    (stats,) = simulate(parse(CUT % {"mode": "escrow"}, "q.yaml"), options).quotas
    assert (stats.claims, stats.refused) == (6, 3)
    assert (stats.granted_claim_ms_p50, stats.refused_claim_ms_p50) == (7.5, 2.5)


def test_a_claim_at_the_central_ledger_costs_a_round_trip_and_the_claim_time() -> None:
    (instances, _) = _claims("central", 7.5)
    assert instances.claim_ms_count == 5
    assert instances.claim_ms_p50 is not None and instances.claim_ms_p95 is not None
    # edge-2 to the centre and back: 2 × 20 ms, plus the LAN legs and the central ledger's 7.5 ms
    assert 47.5 < instances.claim_ms_p50 <= instances.claim_ms_p95 < 49.0


def test_unified_limits_claims_pay_keystone_not_the_claim_time() -> None:
    """oslo.limit's checks at the region's own Keystone: 2 × 3 requests over the LAN, each served by
    Keystone's station; the quota service's claim time does not apply."""
    keystone_ms = Params().station("keystone").service_ms
    for claim_ms in (0.0, 50.0):
        (instances, _) = _claims("unified-limits", claim_ms)
        assert instances.claim_ms_p50 is not None
        assert 6 * keystone_ms < instances.claim_ms_p50 < 6 * keystone_ms + 1.0


def test_oslo_limit_refuses_after_its_first_check_and_grants_after_the_recheck() -> None:
    """nova-api's check (3 requests to Keystone), then for a granted server the conductor's recheck
    (3 more): a refusal costs half a grant. Six boots at edge-2, whose Keystone is at the top site
    (`region-per-site-central-keystone`); 6 instances over the four regions leave edge-2 one."""
    text = CUT.replace("model: region-per-site", "model: region-per-site-central-keystone").replace(
        "instances: 12", "instances: 6"
    )
    text = text.replace("sites: [edge-1], start_s: 100", "sites: [edge-2], start_s: 100")
    (stats,) = simulate(parse(text % {"mode": "unified-limits"}, "q.yaml")).quotas
    assert (stats.claims, stats.refused) == (6, 5)
    assert stats.granted_claim_ms_p50 is not None and stats.refused_claim_ms_p50 is not None
    # edge-2 to the top and back, 20 ms each way, plus Keystone's service time: a request
    request_ms = 40 + Params().station("keystone").service_ms
    assert 6 * request_ms <= stats.granted_claim_ms_p50 < 6 * request_ms + 3
    assert 3 * request_ms <= stats.refused_claim_ms_p50 < 3 * request_ms + 2


def test_claims_refused_at_once_are_timed_too() -> None:
    """The central ledger out of reach: refused as soon as the request finds no route."""
    (stats,) = simulate(parse(CUT % {"mode": "central"}, "q.yaml")).quotas
    assert (stats.claim_ms_count, stats.claim_ms_p50, stats.claim_ms_p95) == (6, 0.0, 0.0)


def test_results_written_before_the_claim_latency_still_load() -> None:
    old = {"project": "demo", "resource": "instances", "mode": "escrow", "limit": 3, "claims": 2}
    stats = QuotaStats.model_validate(old)
    assert (stats.claim_ms_count, stats.claim_ms_p50, stats.claim_ms_p95) == (0, None, None)


def test_the_same_seed_gives_the_same_quota_figures() -> None:
    for mode in ("central", "escrow", "lease"):
        runs = [simulate(parse(CUT % {"mode": mode}, "q.yaml")) for _ in range(2)]
        assert runs[0].quotas == runs[1].quotas
        assert runs[0].links == runs[1].links


# --- the modes' periodic exchanges on the links -------------------------------------------------------

NO_QUOTAS = CUT.replace("quotas:\n  projects: [{name: demo, limits: {instances: 12}, mode: %(mode)s}]\n", "")


def _links(text: str) -> dict[str, LinkTraffic]:
    return {link.b: link for link in simulate(parse(text, "q.yaml")).links}  # the star: a = central


@pytest.mark.parametrize("mode", ["escrow", "lease", "escrow-epsilon"])
def test_rebalancing_puts_each_holders_exchange_on_its_link(mode: str) -> None:
    """Every 10 s (0, 10, …, 400 s: 41 times) each region that reaches the centre sends its usage and
    share (a request, 1,500 bytes) and gets its share back (3,000 bytes); edge-1, cut off at 50 s,
    takes part 5 times. Only the quota's exchanges differ from the same run without quotas."""
    assert "quotas" not in NO_QUOTAS
    base, run = _links(NO_QUOTAS), _links(CUT % {"mode": mode})
    for edge, rounds in (("edge-1", 5), ("edge-2", 41), ("edge-3", 41)):
        with_quota, without = run[edge], base[edge]
        # edge → central is b → a on these links
        assert with_quota.messages_ba - without.messages_ba == rounds
        assert with_quota.messages_ab - without.messages_ab == rounds
        assert with_quota.bytes_ba - without.bytes_ba == rounds * 1_500
        assert with_quota.bytes_ab - without.bytes_ab == rounds * 3_000


# Kingbird over the four regions for two syncs (0 s and 900 s); edge-1 is cut off at 800 s.
KINGBIRD_SYNCS = """
generate: {kind: star, edges: 3, delay_ms: 20, hosts: {count: 2}, center_hosts: {count: 1}}
model: region-per-site
%(quotas)s
workload:
  operations:
    - {op: boot, times: 2, concurrency: 1, sites: [edge-2], start_s: 100}
faults:
  - {at_s: 800, action: cut-link, link: [central, edge-1]}
run: {duration_s: 1000, seed: 1}
"""


def test_kingbird_reads_every_region_and_writes_only_when_it_read_them_all() -> None:
    """Kingbird's coordinator at the centre reads each region's usage and writes its new limit: two
    requests from the centre per region and sync. At 900 s edge-1 is cut off: the others are read,
    and nobody is written (the sync skips the project)."""
    quotas = "quotas: {projects: [{name: demo, limits: {instances: 12}, mode: kingbird}]}"
    base = _links(KINGBIRD_SYNCS % {"quotas": ""})
    run = _links(KINGBIRD_SYNCS % {"quotas": quotas})
    for edge, requests in (("edge-1", 2), ("edge-2", 3), ("edge-3", 3)):
        assert run[edge].messages_ab - base[edge].messages_ab == requests  # central → edge
        assert run[edge].messages_ba - base[edge].messages_ba == requests
        assert run[edge].bytes_ab - base[edge].bytes_ab == requests * 1_500
        assert run[edge].bytes_ba - base[edge].bytes_ba == requests * 3_000


# --- Kingbird's crafted trace ---------------------------------------------------------------------------

# N regions (the centre and N − 1 edges), a limit L. Before Kingbird's sync at 900 s edge-1 boots
# `before` servers; after it every region tries to boot the whole headroom H = L − before, and one more.
TRACE = """
generate: {kind: star, edges: %(edges)d, delay_ms: 20, hosts: {count: 2}, center_hosts: {count: 1}}
model: region-per-site
quotas:
  projects: [{name: demo, limits: {instances: %(limit)d}, mode: %(mode)s}]
workload:
  operations:
%(boots)s
run: {duration_s: 1300, seed: 1}
"""


def _trace(mode: str, regions: int, limit: int, before: int) -> tuple[QuotaStats, int, int]:
    headroom = limit - before
    sites = ["central", *(f"edge-{i}" for i in range(1, regions))]
    boots = [f"    - {{op: boot, times: {before}, concurrency: 1, sites: [edge-1], start_s: 10}}"] * bool(
        before
    )
    boots += [
        f"    - {{op: boot, times: {headroom + 1}, concurrency: 1, sites: [{site}], start_s: 1000}}"
        for site in sites
    ]
    text = TRACE % {"edges": regions - 1, "limit": limit, "mode": mode, "boots": "\n".join(boots)}
    result = simulate(parse(text, "trace.yaml"))
    boot = result.operation("boot")
    assert boot is not None and boot.submitted == boot.succeeded + boot.failed  # every boot ended
    (stats,) = result.quotas
    return stats, boot.succeeded, boot.failed


@settings(max_examples=6, deadline=None)
@given(
    regions=st.integers(min_value=3, max_value=5),
    limit=st.integers(min_value=3, max_value=20),
    used=st.floats(min_value=0.0, max_value=0.9),
)
def test_kingbird_goes_over_by_every_other_regions_headroom(regions: int, limit: int, used: float) -> None:
    """After the sync each region's limit is the whole headroom H plus its own usage: every region
    boots H servers, the next one refused, and the total ends (N − 1) × H over the limit. Escrow on
    the same workload never goes over."""
    before = int(used * limit)
    headroom = limit - before
    kingbird, ok, refused = _trace("kingbird", regions, limit, before)
    assert (ok, refused) == (before + regions * headroom, regions)
    assert kingbird.over_commit_peak == (regions - 1) * headroom
    assert kingbird.peak_usage == limit + (regions - 1) * headroom
    escrow, ok, _ = _trace("escrow", regions, limit, before)
    assert escrow.over_commit_peak == 0 and escrow.peak_usage <= limit and ok <= limit


def test_compare_results_sets_two_runs_quotas_side_by_side(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = []
    for mode in ("central", "escrow"):
        path = tmp_path / f"{mode}.json"
        path.write_text(simulate(parse(CUT % {"mode": mode}, "q.yaml")).model_dump_json(), encoding="utf-8")
        paths.append(str(path))
    out = runner.invoke(app, ["compare-results", *paths])
    assert out.exit_code == 0, out.output
    quotas = out.output.split("quotas: central vs escrow", 1)[1]  # columns named after the files
    assert "granted" in quotas and "demo" in quotas and "instances" in quotas
    # central refuses all six claims of the cut-off region, escrow half: its share of 3
    assert "1.00" in quotas and "0.50" in quotas


def test_bare_claims_keep_their_servers_hold_s_then_release_them() -> None:
    """`op: claim` at edge-2, one every ~0.5 s, with 12 instances over four regions and edge-1 (its
    share of 3) cut off: kept forever, at most the other 9 are ever granted (the rebalancing brings
    edge-2 the idle regions' shares); kept ~0.2 s each, nearly all fit (a few arrive while three are
    still held)."""
    base = CUT.replace("sites: [edge-1], start_s: 100", "sites: [edge-2], start_s: 100").replace(
        "op: boot, times: 6, concurrency: 1", "op: claim, rate_per_s: 2"
    )
    kept = simulate(parse(base % {"mode": "escrow"}, "q.yaml")).quotas[0]
    held = base.replace("rate_per_s: 2,", "rate_per_s: 2, hold_s: 0.2,")
    released = simulate(parse(held % {"mode": "escrow"}, "q.yaml")).quotas[0]
    assert kept.claims == released.claims > 100
    assert 3 <= kept.claims - kept.refused <= 12 - 3
    assert released.refused < 0.02 * released.claims and released.peak_usage <= 12 - 3
