"""Whole runs: faults and liveness, determinism, the CLI's run and compare."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wanstack.cli import app
from wanstack.report.files import write_result
from wanstack.scenario.load import load, parse
from wanstack.sim.engine import Engine, simulate

CUT = """
name: cut
generate: {{kind: star, edges: 3, delay_ms: 20, hosts: {{count: 3}}, center_hosts: {{count: 2}}}}
model: {model}
workload:
  operations:
    - {{op: boot, times: 4, concurrency: 1, sites: [edge-1], start_s: 10}}
    - {{op: boot, times: 6, concurrency: 1, sites: [edge-1], start_s: 250}}
    - {{op: boot, times: 2, concurrency: 1, sites: [edge-1], start_s: 400}}
background: {{nova_service_down_time_s: 60, nova_report_interval_s: 10}}
faults:
  - {{at_s: 200, action: cut-link, link: [central, edge-1]}}
  - {{at_s: 500, action: restore-link, link: [central, edge-1]}}
run: {{duration_s: 700, seed: 3}}
"""


def test_centralized_cut_downs_compute_after_service_down_time_and_restores() -> None:
    result = simulate(parse(CUT.format(model="centralized"), "cut.yaml"))
    nova = [o for o in result.outages if o.service == "nova-compute"]
    assert [o.site for o in nova] == ["edge-1"]
    outage = nova[0]
    # Last report before the cut is at most one report interval before it; down 60 s after that.
    assert 200 + 60 - 10 <= outage.down_at_s <= 200 + 60
    # Seen up when a report gets through: the one held since the cut, at oslo.messaging's first
    # reconnection after the restore (its attempts are 30 s apart by then).
    assert outage.up_at_s is not None and 500 <= outage.up_at_s <= 500 + 30 + 1
    impact = result.faults[0]
    assert impact.isolated_sites == ["edge-1"]
    assert sum(impact.boots_ok.values()) == 0 and impact.boots_failed.get("edge-1", 0) >= 1
    assert impact.sites_still_booting == []


def test_region_per_site_keeps_booting_while_cut_off() -> None:
    result = simulate(parse(CUT.format(model="region-per-site"), "cut.yaml"))
    impact = result.faults[0]
    assert impact.isolated_sites == ["edge-1"]
    assert impact.boots_ok.get("edge-1", 0) >= 1 and not impact.boots_failed
    assert impact.sites_still_booting == ["edge-1"]
    assert not result.outages  # its services report to their own site


def test_central_keystone_holds_a_cut_off_regions_boots_once_its_cache_expires() -> None:
    """Tokens validated at 10 s stay in keystonemiddleware's cache 300 s: the boots at 250 s pass
    during the cut; the boot at 400 s must validate its token with the central Keystone, and that
    request hangs on its connection (no timeout by default) until the link is back at 500 s."""
    e = Engine(parse(CUT.format(model="region-per-site-central-keystone"), "cut.yaml"))
    result = e.run()
    impact = result.faults[0]
    assert impact.boots_ok.get("edge-1") == 7 and not impact.boots_failed
    late = next(op for op in e.users.finished if op.start >= 400_000.0)
    assert late.outcome == "ok" and 500_000.0 < late.end < 500_000.0 + 30_000.0


def test_same_seed_gives_identical_result_files(tmp_path: Path) -> None:
    infra = load("default")
    first, second = simulate(infra), simulate(load("default"))
    write_result(first, tmp_path / "1")
    write_result(second, tmp_path / "2")
    for name in ("result.json", "operations.csv", "links.csv", "stations.csv", "timeseries.csv"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
    assert first.operation("boot") is not None and first.operation("boot").latency_ms.count > 0  # type: ignore[union-attr]


def test_another_seed_gives_other_numbers() -> None:
    text = CUT.format(model="centralized")
    a = simulate(parse(text, "a.yaml"))
    b = simulate(parse(text.replace("seed: 3", "seed: 4"), "b.yaml"))
    assert [o.down_at_s for o in a.outages] != [o.down_at_s for o in b.outages]


def test_cli_run_writes_files(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["run", "default", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Operations" in result.output and "boot" in result.output
    assert (tmp_path / "result.json").is_file() and (tmp_path / "timeseries.csv").is_file()


@pytest.mark.slow
def test_compare_on_the_default_prints_its_table() -> None:
    # How long it takes (10 s was the bar on 2026-11-25's machine) is a figure of the machine:
    # benchmarks/cli_times.py prints it.
    out = subprocess.run(
        [sys.executable, "-m", "wanstack.cli", "compare", "default"],
        capture_output=True,
        text=True,
        check=True,
    )
    for model in ("centralized", "cells-shared", "region-per-site"):
        assert model in out.stdout


def test_broker_loss_fails_calls_until_it_is_back() -> None:
    text = (
        CUT.format(model="centralized")
        .replace(
            "- {at_s: 200, action: cut-link, link: [central, edge-1]}",
            "- {at_s: 200, action: broker-down, site: central}",
        )
        .replace(
            "- {at_s: 500, action: restore-link, link: [central, edge-1]}",
            "- {at_s: 500, action: broker-up, site: central}",
        )
    )
    result = simulate(parse(text, "broker.yaml"))
    nova = sorted(o.site for o in result.outages if o.service == "nova-compute")
    assert nova == ["central", "edge-1", "edge-2", "edge-3"]  # every compute reports through that broker
    assert all(o.up_at_s is not None and o.up_at_s >= 500 for o in result.outages)
    impact = result.faults[0]
    assert impact.fault == "broker-down central" and impact.boots_failed and not impact.boots_ok


@pytest.mark.parametrize("rpc", ["broker", "broker-cluster", "router-mesh", "brokerless"])
@pytest.mark.parametrize("notifications", ["broker", "log"])
def test_every_backend_runs_the_tour(rpc: str, notifications: str) -> None:
    from .conftest import EXAMPLES

    text = (
        (EXAMPLES / "tour.yaml")
        .read_text()
        .replace(
            "  rpc: broker\n  notifications: broker\n",
            f"  rpc: {rpc}\n  notifications: {notifications}\n"
            + ("  broker_nodes: [paris, lyon, lille]\n" if rpc == "broker-cluster" else ""),
        )
    )
    result = simulate(parse(text, "tour.yaml"))
    assert result.rpc_backend == rpc and result.notification_backend == notifications
    boot = result.operation("boot")
    assert boot is not None and boot.succeeded > 0
    kinds = {s.kind for s in result.stations if s.jobs}
    expected = {"broker": "rpc-broker", "broker-cluster": "rpc-broker", "router-mesh": "router"}.get(rpc)
    if expected:
        assert expected in kinds
    else:
        assert not kinds & {"rpc-broker", "router"}
    assert ("log-leader" in kinds) == (notifications == "log")
    if rpc == "broker-cluster":
        assert {s.site for s in result.stations if s.kind == "rpc-broker" and s.jobs} == {
            "paris",
            "lyon",
            "lille",
        }


def test_cli_explain_counts_the_boot_crossings(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["explain", "boot", "default", "--site", "edge-03"])
    assert result.exit_code == 0, result.output
    # the current release's boot, its server alone on the host (tests/test_workflows_vs_testbed.py)
    assert "50 one-way WAN crossings" in result.output
    more = runner.invoke(app, ["explain", "boot", "default", "--site", "edge-03", "--servers-on-host", "4"])
    assert "56 one-way WAN crossings" in more.output and "HTTP ×4" in more.output
    assert runner.invoke(app, ["explain", "reboot"]).exit_code == 2


def test_station_kinds_match_the_simulator_parameters() -> None:
    from wanstack.scenario.services import STATION_KINDS
    from wanstack.sim.params import DEFAULT_STATIONS

    assert set(STATION_KINDS) == set(DEFAULT_STATIONS)


def test_scenario_station_sizes_override_the_defaults() -> None:
    text = CUT.format(model="centralized") + "stations:\n  rpc-broker: {workers: 7, service_ms: 0.5}\n"
    result = simulate(parse(text, "sizes.yaml"))
    broker = next(s for s in result.stations if s.kind == "rpc-broker")
    assert (broker.workers, broker.service_ms) == (7, 0.5)
    from wanstack.scenario.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"unknown station kind 'rpc-brokr'.*did you mean 'rpc-broker'"):
        parse(CUT.format(model="centralized") + "stations:\n  rpc-brokr: {workers: 7}\n", "sizes.yaml")


def test_fluid_background_matches_every_host_simulated() -> None:
    """The aggregation used at scale keeps the answers: same liveness, same load, same boot latency."""
    from wanstack.sim.engine import SimOptions

    text = CUT.format(model="centralized").replace("count: 3", "count: 40")
    exact = simulate(parse(text, "x.yaml"), SimOptions(fluid_background=False))
    fluid = simulate(parse(text, "x.yaml"), SimOptions(fluid_background=True))
    assert exact.events is not None and fluid.events is not None and fluid.events * 5 < exact.events
    for e_op, f_op in zip(exact.operations, fluid.operations, strict=True):
        assert (e_op.succeeded, e_op.failed) == (f_op.succeeded, f_op.failed)
        assert f_op.latency_ms.p50 == pytest.approx(e_op.latency_ms.p50, rel=0.01)
    broker = next(s for s in exact.stations if s.kind == "rpc-broker")
    fluid_broker = next(s for s in fluid.stations if s.kind == "rpc-broker")
    assert fluid_broker.jobs == pytest.approx(broker.jobs, rel=0.05)
    assert fluid_broker.utilisation == pytest.approx(broker.utilisation, rel=0.05)
    fluid_outages = sorted(fluid.outages, key=lambda o: (o.site, o.service))
    exact_outages = sorted(exact.outages, key=lambda o: (o.site, o.service))
    assert [(o.site, o.service) for o in fluid_outages] == [(o.site, o.service) for o in exact_outages]
    for f, e in zip(fluid_outages, exact_outages, strict=True):
        assert f.down_at_s == pytest.approx(e.down_at_s, abs=11) and f.hosts == e.hosts
    assert fluid.totals["wan_bytes_background"] == pytest.approx(
        exact.totals["wan_bytes_background"], rel=0.05
    )


def test_an_overloaded_broker_backs_up_and_fails_calls() -> None:
    from wanstack.sim.engine import SimOptions

    text = CUT.format(model="centralized").replace("count: 3", "count: 2000") + (
        "stations:\n  rpc-broker: {workers: 1, service_ms: 2}\n"
    )
    result = simulate(parse(text, "x.yaml"), SimOptions(fluid_background=True))
    broker = next(s for s in result.stations if s.kind == "rpc-broker")
    assert broker.utilisation == pytest.approx(1.0)
    boot = result.operation("boot")
    assert boot is not None and boot.succeeded == 0


def test_operations_on_servers_without_sites_act_on_the_servers_booted_wherever_they_are() -> None:
    """Rally's scenarios delete, pause and unpause the servers they booted. Booted at one edge site
    of ten, four deletes without `sites` find them (spread over every compute site, half would find
    none)."""
    text = """
generate: {kind: star, edges: 10, delay_ms: 5}
background: {enabled: false}
workload:
  operations:
    - {op: boot, times: 4, concurrency: 1, sites: [edge-03]}
    - {op: pause, times: 2, concurrency: 1, start_s: 60}
    - {op: unpause, times: 2, concurrency: 1, start_s: 120}
    - {op: delete, times: 4, concurrency: 1, start_s: 180}
    - {op: delete, times: 1, concurrency: 1, start_s: 240}
run: {duration_s: 300}
"""
    from wanstack.sim.engine import Engine

    engine = Engine(parse(text, "t.yaml"))
    engine.run()
    done = engine.users.finished
    deletes = [op for op in done if op.kind.value == "delete"]
    assert [op.outcome for op in deletes[:4]] == ["ok"] * 4
    assert {op.site for op in done if op.outcome == "ok"} == {"edge-03"}
    boots = sorted((op for op in done if op.kind.value == "boot"), key=lambda op: op.start)
    assert sorted(op.instance for op in deletes[:4]) == sorted(op.instance for op in boots)
    assert deletes[4].outcome == "failed" and "no active instance at any site" in deletes[4].reason
    paused = [op for op in done if op.kind.value in ("pause", "unpause")]
    assert [op.outcome for op in paused] == ["ok"] * 4


def test_rally_observes_an_operation_through_its_polls_and_a_token_per_iteration() -> None:
    """`observer: rally`: besides each operation as the API sees it, the run reports it as Rally does
    (`boot (rally)`): from the request to the answer of Rally's first poll that sees the server ACTIVE —
    a pre-poll delay of 1 s after the request's answer, then a GET every 2 s — so its latency is the
    API's rounded up to that grid, plus one GET. Every iteration asks Keystone for a new token."""
    from wanstack.sim.engine import Engine

    text = """
generate: {kind: star, edges: 1, delay_ms: 10}
background: {enabled: false}
workload:
  operations:
    - {op: boot, times: 5, concurrency: 1, sites: [edge-1], observer: rally}
run: {duration_s: 300}
"""
    engine = Engine(parse(text, "t.yaml"))
    result = engine.run()
    api, rally = result.operation("boot"), result.operation("boot (rally)")
    assert api is not None and rally is not None and api.succeeded == rally.succeeded == 5
    for op in engine.users.finished:
        assert op.start < op.returned < op.end <= op.rally_end
        # The poll starts on Rally's grid; its GET takes a round trip (2 × 10 ms) and nova-api's time.
        offset = (op.rally_end - op.returned - 1000.0) % 2000.0
        assert 20.0 <= offset < 100.0
        assert op.rally_end - op.end < 2000.0 + 100.0
    keystone = [s for s in result.stations if s.kind == "keystone"]
    assert sum(s.jobs for s in keystone) >= 5 * 2  # a token and its validation per iteration
    # as the API sees it, the steady state: one token for the run, cached by the API
    steady = Engine(parse(text.replace(", observer: rally", ""), "t.yaml")).run()
    assert steady.operation("boot (rally)") is None
    assert sum(s.jobs for s in steady.stations if s.kind == "keystone") == 2


def test_a_delete_with_the_compute_seen_down_is_done_by_the_api_at_once() -> None:
    """nova-api casts `terminate_instance` only to a compute it sees up; once the servicegroup sees it
    down (no report for service_down_time = 60 s), the API deletes the server itself: ports,
    allocations, rows (nova/compute/api.py `_delete` -> `_local_delete`). With the broker down, a
    delete just after the loss casts into nothing and hangs; one after the compute is seen down
    succeeds at once."""
    from wanstack.sim.engine import Engine

    text = """
generate: {kind: star, edges: 2, delay_ms: 10}
workload:
  operations:
    - {op: boot, times: 2, concurrency: 1, sites: [edge-1]}
    - {op: delete, times: 1, concurrency: 1, sites: [edge-1], start_s: 105}
    - {op: delete, times: 1, concurrency: 1, sites: [edge-1], start_s: 240}
faults:
  - {at_s: 100, action: broker-down, site: central}
run: {duration_s: 600}
"""
    engine = Engine(parse(text, "t.yaml"))
    engine.run()
    deletes = sorted((o for o in engine.users.finished if o.kind.value == "delete"), key=lambda o: o.start)
    early, late = deletes
    assert early.outcome != "ok"  # the cast went nowhere: the client waits until its timeout
    assert late.outcome == "ok" and late.end - late.start < 1_000.0
    assert not engine.liveness.compute_up("edge-1", late.start)


def test_a_port_is_not_bound_to_a_host_whose_agent_is_seen_dead() -> None:
    """ML2/OVS binds a port only to a host whose Open vSwitch agent is alive
    (neutron/plugins/ml2/drivers/mech_agent.py): with the site's agents silent past agent_down_time
    (75 s; the `agent-down` fault stops them), a boot there fails with PortBindingFailed. Wanstack's
    bind-all driver (the testbed's) binds anyway; the other edge's boots are not concerned."""
    from wanstack.sim.engine import Engine

    text = """
generate: {kind: star, edges: 2, delay_ms: 10}
workload:
  operations:
    - {op: boot, times: 1, concurrency: 1, sites: [edge-1], start_s: 200}
    - {op: boot, times: 1, concurrency: 1, sites: [edge-2], start_s: 200}
faults:
  - {at_s: 100, action: agent-down, site: edge-1}
run: {duration_s: 400}
"""
    for neutron, outcome in (("ml2-ovs", "failed"), ("bind-all", "ok")):
        scenario = text + f"openstack: {{neutron: {neutron}, virt: fake}}\n"
        engine = Engine(parse(scenario, "t.yaml"))
        engine.run()
        boot, other = sorted(engine.users.finished, key=lambda o: o.site)
        assert not engine.liveness.agent_up("edge-1") and engine.liveness.agent_up("edge-2")
        assert boot.outcome == outcome and other.outcome == "ok", (neutron, boot.reason)
        if outcome == "failed":
            assert boot.reason.startswith("PortBindingFailed")
