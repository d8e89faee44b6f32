"""The global inventory (`wanstack inventory`): every count with its time and source, totals as an
interval, and nothing dropped without saying so."""

from __future__ import annotations

import json
from pathlib import Path

from wanstack.cli import app
from wanstack.multiregion.inventory import Counts, Source, site_count
from wanstack.scenario.load import parse
from wanstack.sim.engine import simulate

# Three regions, each its own control plane: edge-1 is cut off from the centre at 100 s after its
# four boots; edge-2 never reaches the centre, though its own two boots succeed there.
REGIONS = """
generate:
  {kind: star, edges: 2, delay_ms: 10, hosts: {count: 2, vcpus: 8}, center_hosts: {count: 1, vcpus: 8}}
model: region-per-site
workload:
  operations:
    - {op: boot, times: 4, concurrency: 1, sites: [edge-1], start_s: 10}
    - {op: boot, times: 2, concurrency: 1, sites: [edge-2], start_s: 10}
faults:
  - {at_s: 0, action: cut-link, link: [central, edge-2]}
  - {at_s: 100, action: cut-link, link: [central, edge-1]}
run: {duration_s: 200, seed: 1}
"""


def test_a_site_is_live_last_known_or_unreachable_and_says_which() -> None:
    result = simulate(parse(REGIONS, "r.yaml"))
    rows = {r.site: r for r in result.inventory}
    assert rows["central"].source == "live" and rows["central"].instances == 0
    edge1 = rows["edge-1"]
    assert edge1.source == "last known" and edge1.instances == 4
    assert edge1.as_of_s is not None and 90.0 <= edge1.as_of_s <= 100.0
    assert (edge1.instances_low, edge1.instances_high) == (0, 16)  # none left, or all its hosts hold
    edge2 = rows["edge-2"]
    assert edge2.source == "unreachable" and edge2.instances is None and edge2.instances_high == 16


def test_the_total_is_an_interval_naming_what_did_not_answer(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.yaml"
    path.write_text(REGIONS)
    out = tmp_path / "inventory.json"
    shown = runner.invoke(app, ["inventory", str(path), "--json", str(out)])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "between 0 and 32 instances (4 as last counted)" in text
    assert "not answering now: edge-1 (last known), edge-2 (unreachable)" in text
    assert {r["site"] for r in json.loads(out.read_text())} == {"central", "edge-1", "edge-2"}
    # before the cut at 100 s edge-1 is live; edge-2 never is
    early = runner.invoke(app, ["inventory", str(path), "--at", "60"])
    assert "not answering now: edge-2 (unreachable)" in " ".join(early.output.split())


def test_a_live_count_is_exact() -> None:
    row = site_count("r", "s", now_s=5.0, answered=(5.0, Counts(3, 6)), live=True, capacity=Counts(9, 9))
    assert row.source is Source.LIVE and row.low == row.high == Counts(3, 6)
