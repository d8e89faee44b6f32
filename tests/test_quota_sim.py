"""Quotas across regions in the simulator: the claim in the boot's workflow as each mode makes it,
at an edge region cut off from the top site."""

from __future__ import annotations

import pytest

from wanstack.cli import app
from wanstack.scenario.load import parse
from wanstack.sim.engine import simulate

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
    from wanstack.scenario.quotas import QuotaMode
    from wanstack.sim.variants import run_variants

    path = tmp_path / "q.yaml"
    path.write_text(CUT % {"mode": "central"})
    modes = [QuotaMode.CENTRAL, QuotaMode.ESCROW, QuotaMode.KINGBIRD]
    results = run_variants(str(path), [("region-per-site", None, m) for m in modes], processes=1)
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
