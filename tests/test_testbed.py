"""The testbed: a real OpenStack control plane over emulated WAN sites (Keystone, Placement, Glance,
Neutron without a data plane, Nova with its fake driver), installed by `make test` (`make openstack`,
Debian's mariadb-server and rabbitmq-server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wanstack.bench import rabbit
from wanstack.bench.ports import port_open
from wanstack.scenario.load import parse
from wanstack.testbed import environment, mariadb
from wanstack.testbed.layout import plan

needs_openstack = pytest.mark.skipif(
    not (environment.available() and mariadb.available() and rabbit.available()),
    reason=f"{environment.MISSING}; Debian's mariadb-server and rabbitmq-server (`make test`)",
)


def _star(edges: int, delay_ms: float, model: str = "centralized") -> str:
    return f"generate: {{kind: star, edges: {edges}, delay_ms: {delay_ms}}}\nmodel: {model}\n"


def test_every_site_reaches_every_other_sites_servers_through_a_relay_of_its_own() -> None:
    layout = plan(parse(_star(2, 10, "cells-shared"), "t.yaml"))
    assert layout.sites == ["central", "edge-1", "edge-2"]
    # A cell per site: a database and a bus at each; the APIs at the top.
    assert {site for kind, site in layout.instances if kind == "mariadb"} == set(layout.sites)
    assert {site for kind, site in layout.instances if kind == "nova-api"} == {"central"}
    assert layout.at("central", "nova-api", "central") == (
        "127.0.1.1",
        layout.instance("nova-api", "central").port,
    )
    host, port = layout.at("edge-2", "rabbitmq", "central")
    assert (host, port) == ("127.0.3.101", layout.instance("rabbitmq", "central").port)
    # One relay per (client site, instance elsewhere); none within a site, none to a trace store
    # (each site's processes trace into their own site's).
    relays = layout.relays()
    assert all(client != instance.site and instance.kind != "redis" for client, instance in relays)
    others = [i for c in layout.sites for i in layout.instances.values() if i.site != c and i.kind != "redis"]
    assert len(relays) == len(others)
    assert {site for kind, site in layout.instances if kind == "redis"} == set(layout.sites)


def test_what_one_machine_cannot_run_is_refused_saying_why() -> None:
    with pytest.raises(ValueError, match="region-per-site"):
        plan(parse(_star(2, 10, "region-per-site"), "t.yaml"))
    with pytest.raises(ValueError, match="at most 4"):
        plan(parse(_star(6, 10), "t.yaml"))
    assert plan(parse(_star(6, 10), "t.yaml"), edges=2).computes == ["edge-1", "edge-2"]


@needs_openstack
@pytest.mark.slow
def test_a_server_boots_at_an_edge_site_behind_a_wan_link_and_nothing_is_left() -> None:
    """The centralized model with one edge site 10 ms away: a server with a port boots on the edge's
    nova-compute to ACTIVE, its port bound to that host with an address, and is deleted; then every
    process, port and folder is gone."""
    from wanstack.testbed.testbed import Testbed

    infra = parse(_star(1, 10), "t.yaml")
    with Testbed(infra) as testbed:
        root = testbed.root
        assert root is not None and (root / "log").is_dir()
        pids = [p.proc.pid for p in testbed.processes if p.proc is not None]
        pids += [pid for s in [*testbed.databases.values(), *testbed.brokers.values()] for pid in s.pids()]
        ports = [(relay.host, relay.port) for relay in testbed.relays.values()]
        ports += [(testbed.layout.ip(i.site), i.port) for i in testbed.layout.instances.values()]
        cloud = testbed.cloud("edge-1")  # the user at the edge: every request through its relays
        server = cloud.compute.create_server(
            name="vm",
            flavor_id=testbed.ids["flavor"],
            image_id=testbed.ids["image"],
            networks=[{"uuid": testbed.ids["network"]}],
            availability_zone="nova:edge-1",
        )
        server = cloud.compute.wait_for_server(server, status="ACTIVE", interval=0.5, wait=180)
        (port,) = cloud.network.ports(device_id=server.id)
        assert (port.status, port.binding_host_id) == ("ACTIVE", "edge-1")
        assert port.fixed_ips and port.fixed_ips[0]["ip_address"].startswith("10.0.")
        cloud.compute.delete_server(server)
        cloud.compute.wait_for_delete(server, interval=0.5, wait=120)
        assert not list(cloud.network.ports(device_id=server.id))  # nova released its port
    assert testbed.processes == [] and len(pids) >= 10
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text().lower(), pid
    assert not any(port_open(p, host) for host, p in ports)
    assert not root.exists()


@needs_openstack
@pytest.mark.slow
def test_ctrl_c_while_the_testbed_starts_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "tb"
    env = {**os.environ, "WANSTACK_TESTBED": str(folder)}
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_star(1, 5), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wanstack.cli", "testbed", "up", str(scenario), "--edges", "1"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # interrupt once the services' schemas are being built
        seen.append(line)
        if "schemas …" in line:
            break
    supervisor = int((folder / "supervisor.pid").read_text())
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=240)[1]
    assert proc.returncode == 130, "".join(seen) + out
    assert not folder.exists()
    assert (
        not Path(f"/proc/{supervisor}").exists() or "zombie" in Path(f"/proc/{supervisor}/status").read_text()
    )
    assert _processes_mentioning(str(folder)) == []


def _processes_mentioning(text: str) -> list[str]:
    """Live processes whose command line or environment names `text` (every testbed process does:
    its configuration files, data folder or WSGI settings are under the testbed's folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if "zombie" in (entry / "status").read_text().lower():
                continue
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in seen:
            found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return found


def test_a_trace_gives_the_exchanges_of_the_operation_and_the_sites_they_crossed() -> None:
    """`fixtures/trace-boot-edge.json`: the osprofiler points of a boot at edge-1 of the centralized
    model (one edge 10 ms away; 2026-12-02; every service's points, their details cut short). Of the
    user's requests (the boot and the polls), only the boot and what it caused count."""
    import json

    from wanstack.testbed.trace import analyse, spans

    events = json.loads((Path(__file__).parent / "fixtures" / "trace-boot-edge.json").read_text())
    found = spans([(e["site"], e) for e in events])
    trace = analyse("boot", "edge-1", found)
    first = trace.exchanges[0]
    assert (first.kind, first.src, first.dst, first.what) == (
        "REST",
        "edge-1",
        "central",
        "POST osapi_compute /v2.1/servers",
    )
    assert not any("GET osapi_compute /v2.1/servers/" in e.what for e in trace.exchanges)  # polls
    crossing = [e for e in trace.exchanges if e.src != e.dst]
    # nova-compute at the edge calls Neutron and Placement, and the conductor for every object it
    # saves; the API and the conductor cast to it.
    assert any(e.what.startswith("POST neutron-server /v2.0/ports") for e in crossing)
    assert any(e.kind == "RPC cast" and e.what == "nova-compute build_and_run_instance" for e in crossing)
    calls = [e for e in crossing if e.kind == "RPC call"]
    assert calls and all((e.src, e.dst) == ("edge-1", "central") for e in calls)
    assert trace.crossings == sum(2 if e.kind != "RPC cast" else 1 for e in crossing)
    assert trace.crossings > 30  # the simulator's workflow counts 30 on the critical path
