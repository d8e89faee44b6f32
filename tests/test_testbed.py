"""The testbed: a real OpenStack control plane over emulated WAN sites (Keystone, Placement, Glance,
Neutron with Open vSwitch and its OVS agent at each compute site, Nova with wanstack's guestless
libvirt driver), installed by `make test` (`make openstack`, Debian's mariadb-server, rabbitmq-server
and openvswitch-switch)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from wanstack.lab import mariadb, ovs, rabbit
from wanstack.lab import openstack_env as environment
from wanstack.lab.ports import port_open
from wanstack.scenario.load import parse
from wanstack.testbed import rally as rally_env
from wanstack.testbed.layout import plan

needs_openstack = pytest.mark.skipif(
    not (environment.available() and mariadb.available() and rabbit.available() and ovs.available()),
    reason=f"{environment.MISSING}; Debian's mariadb, rabbitmq and openvswitch servers (`make test`)",
)


needs_rally = pytest.mark.skipif(not rally_env.available(), reason=f"{rally_env.MISSING} (`make test` does)")


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
    assert all(r.client != r.instance.site and r.instance.kind != "redis" for r in relays)
    others = [i for c in layout.sites for i in layout.instances.values() if i.site != c and i.kind != "redis"]
    assert len(relays) == len(others)
    assert {site for kind, site in layout.instances if kind == "redis"} == set(layout.sites)


SHAPED = (Path(__file__).parent / "fixtures" / "shaped-link.yaml").read_text(encoding="utf-8")


def _sink(host: str, port: int, nbytes: int) -> threading.Thread:
    """A server at host:port that reads `nbytes` from its one connection, then answers one byte."""
    server = socket.create_server((host, port))

    def serve() -> None:
        with server, server.accept()[0] as conn:
            got = 0
            while got < nbytes and (data := conn.recv(1 << 20)):
                got += len(data)
            conn.sendall(b"k")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def _echo(host: str, port: int) -> threading.Thread:
    server = socket.create_server((host, port))

    def serve() -> None:
        with server, server.accept()[0] as conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_every_relay_of_the_testbed_applies_its_routes_whole_shape() -> None:
    """The layout gives each relay the shape of the route from its client's site to its instance's:
    edge-1 → central crosses hub–edge-1 backwards (12 ms, ±5 ms, 1 %, 10 Mbit/s) then central–hub
    (2 ms, ±1 ms), and back the other way (2 + 10 ms). Started alone (no OpenStack), the relays do
    what those fields say: some round trips shorter than the nominal 26 ms (jitter), 2 MB in at
    least 1.6 s (10 Mbit/s) with segments retransmitted (loss)."""
    from wanstack.lab.relay import LinkShape, Way

    infra = parse(SHAPED, "shaped.yaml")
    relays = plan(infra).relays()
    assert {(r.client, r.instance.site) for r in relays} == {("edge-1", "central")}
    for r in relays:
        there, back = r.shape.there, r.shape.back
        assert there == Way(14.0, (5.0, 1.0), there.loss_pct, 10.0)
        assert back == Way(12.0, (1.0, 5.0), back.loss_pct, 10.0)
        assert there.loss_pct == back.loss_pct == pytest.approx(1.0)
        assert r.shape == replace(LinkShape.of_path(infra.topology, "edge-1", "central"), seed=r.shape.seed)
    assert len({r.shape.seed for r in relays}) == len(relays)  # each relay draws its own numbers

    by_kind = {r.instance.kind: r for r in relays}
    api, db = by_kind["nova-api"], by_kind["mariadb"]
    echo = _echo(api.target_host, api.instance.port)
    with api.relay() as relay, socket.create_connection((relay.host, relay.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rtts = []
        for _ in range(20):
            start = time.perf_counter()
            sock.sendall(b"12345678")
            got = b""
            while len(got) < 8:
                got += sock.recv(8)
            rtts.append((time.perf_counter() - start) * 1000)
    echo.join(10)
    assert min(rtts) >= 26.0 - 2 * 6.0 - 0.1 and min(rtts) < 24.0, rtts
    sink = _sink(db.target_host, db.instance.port, 2_000_000)
    with db.relay() as relay, socket.create_connection((relay.host, relay.port)) as sock:
        start = time.perf_counter()
        sock.sendall(b"x" * 2_000_000)
        assert sock.recv(1) == b"k"
        took = time.perf_counter() - start
        retransmissions = relay.forward.retransmissions
    sink.join(10)
    assert took >= 1.6 and retransmissions > 0, (took, retransmissions)


def test_what_one_machine_cannot_run_is_refused_saying_why() -> None:
    with pytest.raises(ValueError, match="region-per-site"):
        plan(parse(_star(2, 10, "region-per-site"), "t.yaml"))
    with pytest.raises(ValueError, match="at most 4"):
        plan(parse(_star(6, 10), "t.yaml"))
    assert plan(parse(_star(6, 10), "t.yaml"), edges=2).computes == ["edge-1", "edge-2"]


@needs_openstack
@needs_rally
@pytest.mark.slow
def test_a_server_boots_at_an_edge_site_behind_a_wan_link_and_nothing_is_left(
    tmp_path: Path, runner, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The centralized model with one edge site 10 ms away, ml2-ovs and libvirt (the defaults): a server
    with a port boots on the edge's nova-compute to ACTIVE, its port bound by the edge's OVS agent
    (vif type ovs, netdev datapath) with an address, its tap on the edge's switch; its image fetched
    through Glance into the host's image cache; Nova told `network-vif-plugged` by Neutron. It is
    deleted; then every process, port, device, namespace and folder is gone. While it runs, the
    inventory of every region counts it (a second region whose compute endpoint crosses a WAN link to
    the same nova-api, then cut). And, once
    it is deleted, Rally itself boots and deletes two servers at the edge (the same testbed: one start
    of it is most of this test's time)."""
    from wanstack.testbed.testbed import Testbed

    infra = parse(_star(1, 10), "t.yaml")
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True).stdout
    with Testbed(infra) as testbed:
        root = testbed.root
        assert root is not None and (root / "log").is_dir()
        pids = [p.proc.pid for p in testbed.processes if p.proc is not None]
        servers = [*testbed.databases.values(), *testbed.brokers.values(), *testbed.switches.values()]
        pids += [pid for s in servers for pid in s.pids()]
        switch = testbed.switches["edge-1"]
        namespace = switch.namespace
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
        assert (port.status, port.binding_host_id, port.binding_vif_type) == ("ACTIVE", "edge-1", "ovs")
        assert port.binding_vif_details["datapath_type"] == "netdev"
        assert port.fixed_ips and port.fixed_ips[0]["ip_address"].startswith("10.0.")
        (agent,) = cloud.network.agents(binary="neutron-openvswitch-agent", host="edge-1")
        assert agent.is_alive
        tap = f"tap{port.id[:11]}"  # nova/network/model.py VIF's devname
        assert tap in switch.devices()
        assert switch.vsctl("get", "Interface", tap, "external_ids:iface-id").strip('"') == port.id
        # The image's bytes in the host's cache, named as libvirt's (imagecache.py get_cache_fname).
        cache = root / "state" / "nova-compute-edge-1" / "instances" / "_base"
        cached = cache / hashlib.sha1(testbed.ids["image"].encode()).hexdigest()
        assert cached.stat().st_size == 1 << 20
        # Neutron posted the event to Nova (nova-api logs each external event it creates).
        api_log = (root / "log" / "nova-api.log").read_text(errors="replace")
        assert f"Creating event network-vif-plugged:{port.id} for instance {server.id}" in api_log
        _inventory_of_two_regions_one_cut(testbed, tmp_path, runner, monkeypatch)
        cloud.compute.delete_server(server)
        cloud.compute.wait_for_delete(server, interval=0.5, wait=120)
        assert not list(cloud.network.ports(device_id=server.id))  # nova released its port
        assert tap not in switch.devices()  # unplugged
        _rally_boots_and_deletes_at_the_edge(testbed, infra)
        _a_traced_unpause_says_what_it_made_and_leaves_nothing(testbed, cloud)
    assert testbed.processes == [] and len(pids) >= 10
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text().lower(), pid
    assert not any(port_open(p, host) for host, p in ports)
    assert not root.exists()
    assert namespace not in subprocess.run(["ip", "netns"], capture_output=True, text=True, check=True).stdout
    assert links == subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True).stdout


def _a_traced_unpause_says_what_it_made_and_leaves_nothing(testbed: Any, cloud: Any) -> None:
    """`testbed trace unpause` needs a paused server: it says it boots and pauses one first, untraced,
    and deletes every server it made (it used to do so silently and leave them on the host)."""
    from wanstack.api.testbed import trace

    said: list[str] = []
    traced = trace(testbed.describe(), "unpause", "edge-1", say=said.append)
    assert traced.critical_crossings > 0
    assert any("unpause needs a server" in line and "untraced" in line for line in said), said
    assert any(line.startswith("deleted the") for line in said), said
    # Nova lists a server whose vm_state is DELETED until its record is destroyed, moments later.
    left = [(s.name, s.status) for s in cloud.compute.servers() if s.status != "DELETED"]
    assert left == [], (left, said)


def _rally_boots_and_deletes_at_the_edge(testbed: Any, infra: Any) -> None:
    """`wanstack testbed rally`'s work: Rally 5.1.1 from the top site, NovaServers.boot_and_delete_server
    twice with its servers at edge-1, its JSON report read into a result of engine `rally`."""
    from wanstack.api.testbed import rally

    result = rally(infra, testbed.describe(), ["boot-and-delete"], times=2)
    assert result.engine == "rally" and [o.op for o in result.operations] == [
        "boot (rally)",
        "delete (rally)",
    ]
    for op in result.operations:
        assert (op.submitted, op.succeeded, op.failure_reasons) == (2, 2, {}), op
    boot = result.operation("boot (rally)")
    # Rally's boot sleeps 1 s before its first poll (rally-openstack's nova_server_boot_prepoll_delay).
    assert boot is not None and boot.latency_ms.p50 is not None and boot.latency_ms.p50 > 1000.0
    admin = testbed.cloud(testbed.layout.top)
    rallys = [
        s for s in admin.compute.servers(all_projects=True, deleted=True) if s.name.startswith("s_rally")
    ]
    assert len(rallys) == 2 and {s.compute_host for s in rallys} == {"edge-1"}  # at the edge, and gone
    assert not [s for s in admin.compute.servers(all_projects=True) if s.name.startswith("s_rally")]


DEADLINE_S = 6.0  # the inventory's and quota apply's wait for a region's answer, in the test below


def _inventory_of_two_regions_one_cut(testbed: Any, tmp_path: Path, runner: Any, monkeypatch: Any) -> None:
    """`wanstack inventory --cloud` and `quota apply` against the testbed's Keystone and Nova, with one
    server (1 vCPU, 64 MB) in project admin. RegionTwo's compute endpoint reaches the same nova-api
    through a WAN link (so it counts the same server); RegionThree has no compute endpoint."""
    from wanstack.cli import app
    from wanstack.lab.openstack_env import ADMIN_PASSWORD
    from wanstack.lab.relay import DelayRelay, LinkShape
    from wanstack.multiregion.cloud_inventory import inventory
    from wanstack.multiregion.inventory import Counts, Source

    top = testbed.layout.top
    admin = testbed.cloud(top)
    host, port = testbed.layout.at(top, "nova-api", top)
    link = DelayRelay(port, LinkShape(delay_ms=5), target_host=host, hold_new=True).start()
    try:
        for region in ("RegionTwo", "RegionThree"):
            admin.identity.create_region(id=region)
        compute = next(iter(admin.identity.services(type="compute")))
        admin.identity.create_endpoint(
            service_id=compute.id,
            interface="public",
            url=f"http://127.0.0.1:{link.port}/v2.1",
            region_id="RegionTwo",
        )
        auth = {
            "auth_url": f"{testbed.apis(top)['keystone']}/v3",
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "region_name": "RegionOne",
        }
        project = admin.identity.find_project("admin").id
        one = Counts(1, 1, 64)
        first = inventory(auth, deadline_s=30.0)  # the regions of the catalog with a compute endpoint
        assert [(r.region, r.project, r.site, r.source, r.counts) for r in first.inventory.rows] == [
            ("RegionOne", project, "nova", Source.LIVE, one),
            ("RegionTwo", project, "nova", Source.LIVE, one),
        ]
        assert first.inventory.high == Counts(2, 2, 128) and first.project_names[project] == "admin"
        # A member of another project may not list every project's servers (Nova's policy answers
        # 403): its own are counted, none here, and the region still has its row.
        tenant = admin.identity.create_project(name="tenant", domain_id="default")
        user = admin.identity.create_user(name="tenant-user", password="x", domain_id="default")
        admin.identity.assign_project_role_to_user(tenant, user, admin.identity.find_role("member"))
        member = {**auth, "username": "tenant-user", "password": "x", "project_name": "tenant"}
        own = inventory(member, regions=["RegionOne"], deadline_s=30.0)
        assert [(r.region, r.source, r.counts) for r in own.inventory.rows] == [
            ("RegionOne", Source.LIVE, Counts())
        ]
        assert own.answers["RegionOne"].scope == f"project {tenant.id}"

        link.cut()  # new connections are held, unanswered: a black hole
        start = time.monotonic()
        # A deadline long enough for RegionOne to answer on a busy machine (this test runs beside
        # others in make test's second session; Keystone validates each token without memcached).
        cut = inventory(auth, deadline_s=DEADLINE_S, previous=first.answers)
        elapsed = time.monotonic() - start
        assert elapsed < DEADLINE_S + 3.0, elapsed  # not held by the black hole (its sockets wait 60 s)
        live, last = cut.inventory.rows
        assert (live.region, live.source, live.counts) == ("RegionOne", Source.LIVE, one)
        assert live.as_of_s is not None and live.as_of_s > first.inventory.at_s
        assert (last.region, last.source, last.counts) == ("RegionTwo", Source.LAST_KNOWN, one)
        assert last.as_of_s == first.answers["RegionTwo"].at_s
        assert cut.why["RegionTwo"] == f"no answer within {DEADLINE_S:g} s"
        assert (cut.inventory.low, cut.inventory.high) == (one, None)  # [1, ?]

        clouds = tmp_path / "clouds.yaml"
        lines = "".join(f"      {k}: {v}\n" for k, v in auth.items() if k != "region_name")
        clouds.write_text(f"clouds:\n  testbed:\n    auth:\n{lines}    region_name: RegionOne\n")
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
        shown = runner.invoke(app, ["inventory", "--cloud", "testbed", "--deadline", f"{DEADLINE_S:g}"])
        assert shown.exit_code == 0, shown.output
        assert "between 1 and ? instances" in " ".join(shown.output.split())

        # quota apply keeps what each region uses: refused while RegionTwo cannot say; then RegionOne
        # uses 1 of 10 servers and keeps it plus half the headroom (without usage it would get 5).
        scenario = tmp_path / "q.yaml"
        scenario.write_text(
            "generate: {kind: star, edges: 1, delay_ms: 10}\n"
            "quotas:\n  projects: [{name: admin, limits: {instances: 10, cores: 10}}]\n"
        )
        deadline = f"{DEADLINE_S:g}"
        apply = ["quota", "apply", str(scenario), "--cloud", "testbed", "--deadline", deadline, "--regions"]
        refused = runner.invoke(app, [*apply, "RegionOne,RegionTwo"])
        assert refused.exit_code == 1 and f"RegionTwo (no answer within {DEADLINE_S:g} s)" in " ".join(
            refused.output.split()
        )
        done = runner.invoke(app, [*apply, "RegionOne,RegionThree"])
        assert done.exit_code == 0, done.output
        assert (
            "servers in RegionOne: none -> 6" in done.output
            and "servers in RegionThree: none -> 4" in done.output
        )
    finally:
        link.restore()  # the abandoned requests finish
        link.stop()


@needs_openstack
@pytest.mark.slow
@pytest.mark.parametrize(
    "how", ["ctrl-c", "ctrl-c, SIGINT inherited ignored", "SIGHUP", "starter killed", "down"]
)
def test_a_testbed_stopped_while_it_starts_leaves_nothing(tmp_path: Path, how: str) -> None:
    """`testbed up` stopped during start-up — by Ctrl-C (also when it inherited SIGINT ignored), by
    its terminal closing, by `kill -9` of the command (its supervisor sees its starter gone), or by
    `testbed down` (`status` meanwhile says a testbed is starting) — ends cleanly and leaves no
    process, port or folder."""
    folder = tmp_path / "tb"
    env = {**os.environ, "WANSTACK_TESTBED": str(folder)}
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_star(1, 5), encoding="utf-8")
    cli = [sys.executable, "-m", "wanstack.cli", "testbed"]
    # As `nohup`, a script's background job or some CI runners start a command: SIGINT ignored, which
    # the child inherits.
    before = signal.signal(signal.SIGINT, signal.SIG_IGN if "ignored" in how else signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [*cli, "up", str(scenario), "--edges", "1"], stderr=subprocess.PIPE, text=True, env=env
        )
    finally:
        signal.signal(signal.SIGINT, before)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # interrupt once the services' databases are being made
        seen.append(line)
        if "databases and buses …" in line:
            break
    supervisor = int((folder / "supervisor.pid").read_text())
    time.sleep(1)
    if how == "down":
        status = subprocess.run(
            [*cli, "status", "--format", "json"], check=False, capture_output=True, text=True, env=env
        )
        assert status.returncode == 1 and '"starting": true' in status.stdout, status.stdout
        down = subprocess.run(
            [*cli, "down"], check=False, capture_output=True, text=True, env=env, timeout=240
        )
        assert down.returncode == 0, down.stderr
    elif how == "starter killed":
        proc.kill()
    else:
        proc.send_signal(signal.SIGHUP if how == "SIGHUP" else signal.SIGINT)
    out = proc.communicate(timeout=240)[1]
    expected = {"down": 1, "starter killed": -signal.SIGKILL}.get(how, 130)
    assert proc.returncode == expected, "".join(seen) + out
    assert "Traceback" not in out, out
    if how == "down":
        assert "taken down while it started" in out
    deadline = time.monotonic() + 240  # a killed starter: its supervisor stops on its own
    while _alive(supervisor) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _alive(supervisor)
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not folder.exists()
    assert _processes_mentioning(str(folder)) == []


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text().lower()
    except OSError:
        return False


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


def _fixture_trace(op: str) -> Any:
    import json

    from wanstack.testbed.trace import analyse, spans

    events = json.loads((Path(__file__).parent / "fixtures" / f"trace-{op}-edge.json").read_text())
    return analyse(op, "edge-01", spans([(e["site"], e) for e in events]))


def test_a_trace_gives_the_exchanges_of_the_operation_and_the_sites_they_crossed() -> None:
    """`fixtures/trace-boot-edge.json`: the osprofiler points of a boot at edge-01 of the default
    scenario's testbed (centralized, edges 25 ms away, three servers already on the host; 2026-12-02;
    `wanstack testbed trace boot --save`, details cut short). Of the user's requests (the token, the
    boot and the polls), only the boot and what it caused count."""
    trace = _fixture_trace("boot")
    first = trace.exchanges[0]
    assert (first.kind, first.src, first.dst, first.what) == (
        "REST",
        "edge-01",
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
    assert calls and all((e.src, e.dst) == ("edge-01", "central") for e in calls)
    assert trace.crossings == sum(2 if e.kind != "RPC cast" else 1 for e in crossing)
    assert trace.crossings > 30  # the simulator's workflow counts 30 on the critical path


def test_the_critical_path_of_a_traced_boot_ends_where_active_is_written() -> None:
    """The boot's critical path runs from the user's POST through the conductor's cast to the compute
    and ends with the conductor's `Instance.save` that writes ACTIVE: what the compute does after it
    (the action's `event_finish`, the scheduler's `update_instance_info`) is left out, and so is work
    beside the path."""
    trace = _fixture_trace("boot")
    assert trace.critical is not None and trace.critical_crossings is not None
    path = [e.what for e in trace.critical]
    assert path[0] == "POST osapi_compute /v2.1/servers"
    assert path[-1] == "nova-conductor Instance.save"
    assert "nova-compute build_and_run_instance" in path
    assert not any("update_instance_info" in what or "event_finish" in what for what in path)
    # the exchanges the write happens inside (the POST, the casts, the last save) count their request
    on_path = {replace(e, answered_before=True) for e in trace.critical}
    assert on_path <= set(trace.exchanges)
    assert {e.what for e in trace.critical if not e.answered_before} >= {
        "POST osapi_compute /v2.1/servers",
        "nova-conductor Instance.save",
    }
    assert 30 < trace.critical_crossings < trace.crossings
    # the claim asks Placement for the allocations of every server on the host (four with this one)
    claims = [w for w in path if w.startswith("GET placement /allocations/")]
    assert len(claims) >= 4


def test_the_critical_path_of_a_traced_delete_ends_with_deleted_before_placement() -> None:
    """A delete at the edge (`fixtures/trace-delete-edge.json`, same testbed): the client sees
    DELETED once the compute has torn the network down (GET and DELETE of the port, in a looping
    call that the testbed's daemons trace) and saved the instance; Placement and the resource
    tracker come after it."""
    trace = _fixture_trace("delete")
    assert trace.critical is not None
    path = [(e.kind, e.what.split(" /v2.0/ports/")[0]) for e in trace.critical if e.one_way]
    assert path == [
        ("REST", f"DELETE osapi_compute {trace.critical[0].what.split(' ', 2)[2]}"),
        ("RPC cast", "nova-compute terminate_instance"),
        ("RPC call", "nova-conductor InstanceActionEvent.event_start"),
        ("RPC call", "nova-conductor ShareMappingList.get_by_instance_uuid"),
        ("REST", "GET neutron-server /v2.0/ports"),
        ("REST", "DELETE neutron-server"),
        ("RPC call", "nova-conductor VirtualInterface.delete_by_instance_uuid"),
        ("RPC call", "nova-conductor InstanceInfoCache.save"),
        ("RPC call", "nova-conductor Instance.save"),
    ]
    # the DELETE's request (1), the cast (1), six round trips (12), the last save's request (1)
    assert trace.critical_crossings == 15
    on_path = {replace(e, answered_before=True) for e in trace.critical}
    after = [e.what for e in trace.exchanges if e not in on_path]
    assert any(what.startswith("DELETE placement /allocations/") for what in after)
    assert "nova-conductor Instance.destroy" in after


# Run in OpenStack's own environment, where futurist and osprofiler are the services' own.
_POOL_PROBE = """
import threading
import futurist
from osprofiler import profiler
from wanstack_openstack.tracing import carry_trace

carry_trace()
pool = futurist.ThreadPoolExecutor(max_workers=1)

def seen():
    active = profiler.get()
    return None if active is None else (active.get_base_id(), active.get_id())

profiler.init("key", base_id="first", parent_id="first")
with profiler.Trace("caller"):
    under = profiler.get().get_id()
    print(pool.submit(seen).result() == ("first", under))
profiler.clean()

def receive():  # as oslo.messaging's RPC server does with a message's trace (deserialize_context)
    profiler.init("key", base_id="message", parent_id="message")
    return seen()

print(pool.submit(receive).result() == ("message", "message"))
# the pool's one thread ran under two traces; work submitted with none runs under none
print(pool.submit(seen).result() is None)
"""


def test_the_services_thread_pools_carry_the_submitters_trace_and_keep_no_other() -> None:
    """`wanstack_openstack.tracing`: a task runs under its submitter's trace (as Nova's own `spawn`
    makes it), and a pooled thread does not keep a trace into later work submitted without one — the
    leak that put the compute's points of a second traced boot into the first boot's trace."""
    out = subprocess.run(
        [str(environment.python()), "-c", _POOL_PROBE],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "True"]


# Run in OpenStack's own environment with this repository's plug-ins (not the installed copy).
_ENDPOINT_PROBE = """
import oslo_messaging
from oslo_messaging.rpc.dispatcher import RPCDispatcher
from osprofiler import notifier, profiler
from wanstack_openstack.tracing import trace_rpc_endpoints

points = []
notifier.set(points.append)
trace_rpc_endpoints()

class Serializer(oslo_messaging.NoOpSerializer):
    def deserialize_context(self, ctxt):  # as neutron_lib/rpc.py's: the caller's trace restored
        if ctxt.get("trace"):
            profiler.init("key", base_id=ctxt["trace"], parent_id=ctxt["trace"])
        return ctxt

class Endpoint:
    def untraced(self, ctxt, x):
        return x + 1

    @profiler.trace("rpc")
    def traced(self, ctxt, x):
        return x + 2

dispatcher = RPCDispatcher([Endpoint()], Serializer())
print(dispatcher._do_dispatch(Endpoint(), "untraced", {"trace": "b"}, {"x": 1}))
print(dispatcher._do_dispatch(Endpoint(), "traced", {"trace": "b"}, {"x": 1}))
profiler.clean()
print(dispatcher._do_dispatch(Endpoint(), "untraced", {}, {"x": 1}))
for p in points:
    if p["name"].endswith("-start"):
        print(p["name"], p["base_id"], p["info"]["function"]["name"].rpartition(".")[-1])
"""


def test_every_rpc_endpoint_runs_in_a_span_under_its_callers_trace_and_only_then() -> None:
    """`wanstack_openstack.tracing.trace_rpc_endpoints`: an endpoint method that does not trace itself
    (neutron-server's device details, security groups, the resource cache's pulls) runs in an `rpc`
    span under the trace its caller's context carried; one that does (`@profiler.trace`) is not
    traced twice; with no trace in the context, nothing is written."""
    env = {**os.environ, "PYTHONPATH": str(environment.REPOSITORY / "openstack")}
    out = subprocess.run(
        [str(environment.python()), "-c", _ENDPOINT_PROBE],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["2", "3", "2", "rpc-start b untraced", "rpc-start b traced"]


@pytest.mark.skipif(not mariadb.available(), reason="Debian's mariadb-server (`make test`)")
def test_a_database_in_a_deep_folder_starts_and_leaves_nothing(tmp_path: Path) -> None:
    """A socket path over 107 bytes made mariadbd refuse to start (a testbed under pytest's temporary
    folder, a CI run of 2026-12-03): its socket goes to a short folder of its own, removed after."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    with mariadb.MariaDB(root=deep) as db:
        socket_path = db._socket
        assert socket_path is not None and len(str(socket_path)) <= mariadb.SOCKET_PATH_MAX
        db.create("probe")
    assert not socket_path.parent.exists()
