"""The global inventory (`wanstack inventory`): every count with its time and source, totals as an
interval, and nothing dropped without saying so."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from wanstack.cli import app
from wanstack.multiregion.inventory import Counts, Source, site_count
from wanstack.report.tables import inventory_table
from wanstack.results.schema import InventoryRow
from wanstack.scenario.infrastructure import Hosts, Site, Tier
from wanstack.scenario.load import parse
from wanstack.scenario.workload import Flavor, OperationKind
from wanstack.scenario.workload import Operation as OpSpec
from wanstack.sim.engine import simulate
from wanstack.sim.inventory import Inventory as Servers
from wanstack.sim.operation import Operation

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
    out = tmp_path / "inventory"
    shown = runner.invoke(app, ["inventory", str(path), "--out", str(out)])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "between 0 and 32 instances (4 as last counted)" in text
    assert "not answering now: edge-1 (last known), edge-2 (unreachable)" in text
    assert {r["site"] for r in json.loads((out / "inventory.json").read_text())} == {
        "central",
        "edge-1",
        "edge-2",
    }
    # before the cut at 100 s edge-1 is live; edge-2 never is
    early = runner.invoke(app, ["inventory", str(path), "--at", "60"])
    assert "not answering now: edge-2 (unreachable)" in " ".join(early.output.split())


def test_a_live_count_is_exact() -> None:
    row = site_count("r", "s", now_s=5.0, answered=(5.0, Counts(3, 6)), live=True, capacity=Counts(9, 9))
    assert row.source is Source.LIVE and row.low == row.high == Counts(3, 6)


# edge-1's servers are bigger (2 vCPUs, 3,000 MB) and one of them is deleted before the cut; the hosts
# have 8 vCPUs and 256 GB (the default) each.
BIG = REGIONS.replace(
    "- {op: boot, times: 4, concurrency: 1, sites: [edge-1], start_s: 10}",
    "- {op: boot, times: 4, concurrency: 1, sites: [edge-1], start_s: 10, flavor: {vcpus: 2, ram_mb: 3000}}\n"
    "    - {op: delete, times: 1, concurrency: 1, sites: [edge-1], start_s: 60}",
)


def test_the_inventory_counts_ram_next_to_instances_and_vcpus() -> None:
    assert "ram_mb: 3000" in BIG and "op: delete" in BIG
    rows = {r.site: r for r in simulate(parse(BIG, "r.yaml")).inventory}
    edge1 = rows["edge-1"]
    assert edge1.source == "last known"
    assert (edge1.instances, edge1.vcpus, edge1.ram_mb) == (3, 6, 9_000)
    assert (edge1.ram_mb_low, edge1.ram_mb_high) == (0, 2 * 256 * 1024)  # none left, or all its hosts hold
    edge2 = rows["edge-2"]
    assert edge2.ram_mb is None and edge2.ram_mb_high == 2 * 256 * 1024
    central = rows["central"]
    assert central.source == "live" and central.ram_mb == central.ram_mb_low == central.ram_mb_high == 0


def test_the_inventory_table_and_json_show_ram(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.yaml"
    path.write_text(BIG)
    out = tmp_path / "inventory"
    shown = runner.invoke(app, ["inventory", str(path), "--out", str(out)])
    assert shown.exit_code == 0, shown.output
    rows = {r["site"]: r for r in json.loads((out / "inventory.json").read_text())}
    assert (rows["edge-1"]["ram_mb"], rows["edge-1"]["ram_mb_high"]) == (9_000, 524_288)
    result = simulate(parse(BIG, "r.yaml"))
    console = Console(width=200, record=True)
    console.print(inventory_table(result.inventory, result.duration_s))
    text = console.export_text()
    assert "RAM MB" in text and "RAM MB now" in text
    edge1 = next(line for line in text.splitlines() if "edge-1" in line)
    assert "9000" in edge1 and "0–524288" in edge1


def test_results_written_before_ram_was_counted_still_load() -> None:
    old = {"region": "r", "site": "s", "source": "live", "instances": 1, "vcpus": 1}
    row = InventoryRow.model_validate(old)
    assert (row.ram_mb, row.ram_mb_low, row.ram_mb_high) == (None, 0, 0)


def test_counts_add_ram_too() -> None:
    assert Counts(1, 2, 512) + Counts(3, 4, 1024) == Counts(4, 6, 1536)
    assert Counts(5, 6) == Counts(5, 6, 0)  # a count made without RAM (two fields) still works


FLAVORS = st.tuples(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=65_536))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(FLAVORS, st.just(None)), max_size=40))
def test_a_sites_servers_vcpus_and_ram_follow_its_boots_and_deletes(
    steps: list[tuple[int, int] | None],
) -> None:
    """Boots of random flavors and deletes (None: the oldest active server goes): the site's count,
    vCPUs and RAM are always those of the servers still on it."""
    servers = Servers({"s": Site(name="s", tier=Tier.EDGE, hosts=Hosts(count=4, vcpus=64))})
    alive: list[tuple[int, int]] = []  # (vCPUs, RAM) of the servers on the site, oldest first
    for step in steps:
        if step is None:  # a delete takes the oldest active server
            op = Operation(OperationKind.DELETE, "s", OpSpec(op=OperationKind.DELETE, times=1), 0.0, print)
            op.instance = servers.take("s", "active") or -1
            op.outcome = "ok"
            servers.settle(op)
            alive = alive[1:]
        else:
            spec = OpSpec(op=OperationKind.BOOT, times=1, flavor=Flavor(vcpus=step[0], ram_mb=step[1]))
            op = Operation(OperationKind.BOOT, "s", spec, 0.0, print)
            op.host = servers.claim("s", step[0])
            op.outcome = "ok" if op.host >= 0 else "failed"  # no room: nothing added
            servers.settle(op)
            alive += [step] if op.host >= 0 else []
        assert servers.at_site("s") == (len(alive), sum(v for v, _ in alive), sum(r for _, r in alive))


def test_out_is_a_folder_as_for_the_other_commands(runner: CliRunner, tmp_path: Path) -> None:
    """`--out DIR` writes inventory.json there (as run, compare and sweep write into theirs); the old
    `--json FILE` beside `--format json` is gone, and a file given as --out is refused."""
    written = runner.invoke(app, ["inventory", "default", "--out", str(tmp_path / "here")])
    assert written.exit_code == 0, written.output
    assert json.loads((tmp_path / "here" / "inventory.json").read_text())
    assert runner.invoke(app, ["inventory", "default", "--json", str(tmp_path / "x.json")]).exit_code == 2
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert runner.invoke(app, ["inventory", "default", "--out", str(a_file)]).exit_code == 2
