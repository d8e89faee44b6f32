"""The simulator's workflows held to real OpenStack's, call for call: the exchanges on the critical
path of a boot, a delete, a pause and an unpause at an edge site, as osprofiler traced them on the testbed
(`wanstack testbed trace --save`), against the simulator's steps with the testbed's settings and as
many servers on the host. Two sets of traces: `tests/fixtures/trace-*-edge.json`, on the testbed of
the default scenario with Nova's fake driver and the bind-all ML2 driver; `trace-*-edge-ovs.json`, on
`tests/fixtures/testbed-edge-ovs.yaml` with the libvirt-like guestless driver (the image fetched from
Glance into the host's cache, the wait for network-vif-plugged) and Neutron's Open vSwitch agent, its
work traced through the port (openstack/wanstack_openstack/tracing.py), with a first boot on a fresh
testbed (empty image cache, processes that have not yet talked to anyone) and a later one. Both with
notifications off."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from wanstack.api import load_scenario
from wanstack.report.testbed import once_per_process_note
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.scenario.openstack import NeutronBackend, Notifications, OpenStack, Release, VirtDriver
from wanstack.scenario.workload import OperationKind
from wanstack.sim.crossings import critical_crossings, critical_steps, layout
from wanstack.sim.openstack import workflows
from wanstack.sim.workflows import Call, Cast, Http, Notify, Role, Step
from wanstack.testbed.trace import Trace, analyse, spans

FIXTURES = Path(__file__).parent / "fixtures"
TESTBED = OpenStack(virt=VirtDriver.FAKE, neutron=NeutronBackend.BIND_ALL)
OVS_SCENARIO = FIXTURES / "testbed-edge-ovs.yaml"  # the scenario the `-ovs` traces were taken on
# The services' names in a trace (osprofiler's), for the simulator's roles; an RPC to Neutron is served
# by its RPC server.
SERVICE = {
    "nova-api": "osapi_compute",
    "neutron-server": "neutron-server",
    "placement": "placement",
    "nova-conductor": "nova-conductor",
    "nova-compute": "nova-compute",
    "nova-scheduler": "nova-scheduler",
}
RPC_SERVICE = {**SERVICE, "neutron-server": "neutron-rpc-server"}


def _trace(name: str, site: str = "edge-01") -> Trace:
    """The stored trace `trace-{name}.json` of an operation by a user at `site`."""
    events = json.loads((FIXTURES / f"trace-{name}.json").read_text())
    op = name.split("-", 1)[0]
    return analyse(op, site, spans([(e["site"], e) for e in events]))


def _simulated(
    op: OperationKind,
    servers_on_host: int,
    settings: OpenStack = TESTBED,
    scenario: str = DEFAULT_SCENARIO,
    site: str = "edge-01",
) -> list[tuple[str, str, int]]:
    infra = load_scenario(scenario)
    roles, buses = layout(infra, site)
    steps = critical_steps(workflows(settings)[op], site, roles, buses, servers_on_host)
    out = []
    for step, crossings in steps:
        if crossings and isinstance(step, Http | Call | Cast):
            kind = {Http: "REST", Call: "RPC call", Cast: "RPC cast"}[type(step)]
            service = (SERVICE if isinstance(step, Http) else RPC_SERVICE)[step.server.value]
            out.append((kind, service, crossings))
    return out


def _traced(trace: Trace, *, steady: bool = False) -> list[tuple[str, str, int]]:
    """The critical path's exchanges that cross, as (kind, service, crossings); `steady`: without those a
    process makes once (`Trace.once_per_process`)."""
    assert trace.critical is not None
    out = []
    cold = {id(e) for e, _ in trace.once_per_process} if steady else set()
    for e in trace.critical:
        if e.one_way and id(e) not in cold:
            service = e.what.split()[1] if e.kind == "REST" else e.what.split()[0]
            out.append((e.kind, service, e.one_way))
    return out


@pytest.mark.parametrize("op", ["boot", "delete", "pause", "unpause"])
def test_the_critical_path_crosses_the_wan_as_the_real_control_plane_does(op: str) -> None:
    trace = _trace(f"{op}-edge")
    simulated = _simulated(OperationKind(op), trace.servers_on_host)
    assert simulated == _traced(trace)
    assert sum(c for *_, c in simulated) == trace.critical_crossings


def _ovs(name: str) -> tuple[Trace, list[tuple[str, str, int]]]:
    """The `-ovs` trace `name` and the simulator's critical path for it, with the scenario's settings
    (libvirt, ML2/OVS, notifications off) and as many servers on the host as the trace saw."""
    trace = _trace(f"{name}-edge-ovs", "edge-1")
    settings = load_scenario(str(OVS_SCENARIO)).scenario.openstack
    assert (settings.virt, settings.neutron) == (VirtDriver.LIBVIRT, NeutronBackend.ML2_OVS)
    op = OperationKind(name.split("-", 1)[0])
    return trace, _simulated(op, trace.servers_on_host, settings, str(OVS_SCENARIO), "edge-1")


def test_a_later_boot_with_the_ovs_agent_crosses_as_the_real_one_does() -> None:
    """A boot on a host whose image is cached and whose processes are warm: on the critical path the
    agent's one RPC for the new port (`update_device_list`: the port's details and security groups come
    from its cache) and the cast of network-vif-plugged that releases libvirt's wait, and nothing of
    the image."""
    trace, simulated = _ovs("boot")
    assert simulated == _traced(trace)
    assert sum(c for *_, c in simulated) == trace.critical_crossings
    assert ("RPC call", "neutron-rpc-server", 2) in simulated
    assert trace.once_per_process == []
    # The agent's RPCs to neutron-server in the whole trace: neither the device's details nor its
    # security groups (get_devices_details_list_and_failed_devices, security_group_info_for_devices
    # answered by its cache: neutron/agent/rpc.py CacheBackedPluginApi, securitygroups_rpc.py
    # SecurityGroupServerAPIShim), but the device up.
    agent = [e.what for e in trace.exchanges if e.src == "edge-1" and e.what.startswith("neutron-rpc-server")]
    assert agent == ["neutron-rpc-server update_device_list"]


def test_a_first_boot_crosses_as_the_real_one_does_but_for_its_processes_first_exchanges() -> None:
    """The first boot of a fresh testbed: the image is downloaded from Glance into the host's cache
    (beside the network's allocation: off the critical path, as the simulator has it), and the
    processes make their first exchanges — nova-compute's Keystone token for Neutron (its version
    discovery and the token), Nova's list of Neutron's extensions, the agent's resource cache's pulls
    of what it had not been pushed. Those are once per process (`Trace.once_per_process`): less them,
    the critical path is the simulator's call for call."""
    trace, simulated = _ovs("boot-first")
    assert simulated == _traced(trace, steady=True)
    assert sum(c for *_, c in simulated) == trace.steady_crossings
    assert trace.critical_crossings is not None and trace.steady_crossings is not None
    cold = trace.critical_crossings - trace.steady_crossings
    # `wanstack testbed trace` says so under its table: how many, which, and why.
    note = once_per_process_note(trace)
    assert note is not None
    assert note.startswith(f"{cold} of the critical path's crossings are exchanges a process makes once")
    assert "neutron-rpc-server bulk_pull ×2 (4): the L2 agent's resource cache" in note
    assert once_per_process_note(_trace("boot-edge-ovs", "edge-1")) is None
    assert sorted({e.what for e, _ in trace.once_per_process}) == [
        "GET neutron-server /v2.0/extensions",
        "GET public /v3",
        "POST public /v3/auth/tokens",
        "neutron-rpc-server bulk_pull",
    ]
    # The image's metadata and bytes, from the edge's host to Glance at the centre (libvirt's image
    # cache: nova/virt/images.py `fetch`), in the first boot only.
    assert _image_requests(trace) == [("edge-1", "central", False), ("edge-1", "central", True)]
    assert _image_requests(_trace("boot-edge-ovs", "edge-1")) == []


def _image_requests(trace: Trace) -> list[tuple[str, str, bool]]:
    """nova-compute's requests to Glance for an image (its sites, whether it asked for the bytes)."""
    return [
        (e.src, e.dst, e.what.endswith("/file"))
        for e in trace.exchanges
        if e.what.startswith("GET api /v2/images/") and e.src == trace.site
    ]


@pytest.mark.parametrize("op", ["delete", "pause", "unpause"])
def test_a_server_on_the_ovs_agent_crosses_as_the_real_one_does(op: str) -> None:
    """A delete, a pause and an unpause with the libvirt-like driver and the Open vSwitch agent: the
    agent's report of the unplugged port is off the delete's path (Nova does not wait for it)."""
    trace, simulated = _ovs(op)
    assert simulated == _traced(trace)
    assert sum(c for *_, c in simulated) == trace.critical_crossings


def test_explain_counts_a_round_trip_for_each_server_whose_allocations_the_tracker_asks_for() -> None:
    """The resource tracker asks Placement for the allocations of the server it builds and of any on
    the host it does not track (nova/compute/resource_tracker.py), one after the other, from the edge:
    one round trip each. `explain` takes their count from a trace (`servers_on_host`)."""
    infra = load_scenario(DEFAULT_SCENARIO)
    roles, buses = layout(infra, "edge-01")
    boot = workflows()[OperationKind.BOOT]
    counts = [critical_crossings(boot, "edge-01", roles, buses, n) for n in (1, 2, 5, 20)]
    assert [b - a for a, b in itertools.pairwise(counts)] == [2, 6, 30]


def test_the_settings_change_the_count_as_the_code_does() -> None:
    """The current release's defaults (libvirt, ML2/OVS, no notifications): a boot at an edge of the
    centralized model crosses 50 times until ACTIVE is written with its server alone on the host (the
    POST's answer and the last `Instance.save`'s reply come after the write) — 47 as the testbed runs
    it, and the VIF's wait: the agent's `update_device_list` call (2) and nova-api's cast of
    network-vif-plugged to the compute (1). ML2/OVN has no agent RPC but ovn-controller's OVSDB
    transaction (2). Notifications, when on, make the compute wait for each publisher's confirm: a
    delete sends four (delete.start, shutdown.start, shutdown.end, delete.end; twice as many with
    `both`), three of them before its client sees it done."""
    infra = load_scenario(DEFAULT_SCENARIO)
    roles, buses = layout(infra, "edge-01")

    def count(op: OperationKind, settings: OpenStack) -> int:
        return critical_crossings(workflows(settings)[op], "edge-01", roles, buses)

    boot, delete = OperationKind.BOOT, OperationKind.DELETE
    assert count(boot, OpenStack()) == 50
    assert count(boot, TESTBED) == 47
    assert count(boot, OpenStack(neutron=NeutronBackend.ML2_OVN)) == 50
    assert count(delete, OpenStack()) == 15
    notify = [
        s for s in workflows(OpenStack(notifications=Notifications.BOTH))[delete] if isinstance(s, Notify)
    ]
    assert len(notify) == 8  # four events, legacy and versioned
    confirms = count(delete, OpenStack(notifications=Notifications.UNVERSIONED)) - 15
    assert confirms == 3 * 2  # three before DELETED is written, each a round trip to the broker


def test_ocata_crosses_as_its_code_does_and_does_not_grow_with_the_host() -> None:
    """Ocata (nova 15, neutron 10, read at ocata-eol): the compute claims in Placement itself with four
    requests whatever the servers on its host, libvirt's guest XML asks the conductor for three lists
    once the network is there, and the Open vSwitch agent makes three RPC calls for a new port
    (device details, security groups, port up) where today's makes one. A boot at an edge of the
    centralized model until ACTIVE is written: the POST's request (1), two casts (2), 24 round trips
    from the compute on the path (10 to the conductor, 4 to Placement, then the network's thread: 7 to
    Neutron and 3 to the conductor) and the agent's 3, less the last `Instance.save`'s reply = 56; a
    delete: the DELETE's request, the
    cast and 8 round trips less that reply = 17."""
    infra = load_scenario(DEFAULT_SCENARIO)
    roles, buses = layout(infra, "edge-01")
    ocata = workflows(OpenStack(release=Release.OCATA))
    boot, delete = ocata[OperationKind.BOOT], ocata[OperationKind.DELETE]
    assert [critical_crossings(boot, "edge-01", roles, buses, n) for n in (1, 5, 20)] == [56, 56, 56]
    assert critical_crossings(delete, "edge-01", roles, buses) == 17

    def agent_calls(steps: tuple[Step, ...]) -> int:
        on_path = critical_steps(steps, "edge-01", roles, buses)
        return sum(isinstance(s, Call) and s.client is Role.AGENT for s, _ in on_path)

    assert agent_calls(boot) == 3
    assert agent_calls(workflows()[OperationKind.BOOT]) == 1


def test_the_traces_give_each_station_its_own_time_per_request() -> None:
    """`testbed.processing`: a server span's own time is its duration less the exchanges it waited on
    (merged), so on the boot's critical path the stations' own times and the WAN's 53 crossings of
    25 ms account for most of the time to ACTIVE, and never more."""
    from wanstack.testbed.processing import mean_service_ms, service_times
    from wanstack.testbed.trace import critical_path, operation_spans, visible_change

    events = json.loads((Path(__file__).parent / "fixtures" / "trace-boot-edge.json").read_text())
    found = operation_spans("boot", spans([(e["site"], e) for e in events]))
    own = service_times("boot", found)
    assert len(own["neutron-server"]) == 14 and len(own["placement"]) == 9
    assert len(own["nova-conductor"]) == 11 and own["nova-superconductor"]
    target = visible_change("boot", found)
    assert target is not None
    path = critical_path(target, found)
    to_active_ms = ((target.stop or target.start) - path[0].start) * 1000.0
    accounted = sum(sum(v) for v in own.values()) + 53 * 25.0
    assert 0.6 * to_active_ms < accounted < to_active_ms
    means = mean_service_ms([own])
    assert means["neutron-server"] > means["placement"] > 0  # a port costs Neutron more than a GET


def test_a_live_migration_within_an_edge_site_crosses_as_its_code_does() -> None:
    """nova master's live migration (sim/openstack.py `_live_migrate`, from the code: no testbed has two
    hosts at a site) between two hosts of an edge site, until the server is ACTIVE on its new host:
    the super-conductor's task and the scheduler run at the centre, but both computes ask the
    conductor 33 times (65 crossings: the last, the `instance.save` that writes it, counts its
    request), Neutron 20 times (two rebuilds of the network info, the bindings), Placement once, and
    talk to each other through the central broker (4 each way of a call: check_can_live_migrate_source,
    pre_live_migration; 2 for post_live_migration_at_destination, inside which the state is written)."""
    infra = load_scenario(DEFAULT_SCENARIO)
    roles, buses = layout(infra, "edge-01")
    steps = critical_steps(workflows()[OperationKind.LIVE_MIGRATE], "edge-01", roles, buses)
    by_pair: dict[tuple[str, str, str], list[int]] = {}
    for s, crossings in steps:
        if crossings and isinstance(s, Http | Call | Cast):
            by_pair.setdefault((type(s).__name__, s.client.value, s.server.value), []).append(crossings)
    assert {k: (len(v), sum(v)) for k, v in by_pair.items()} == {
        ("Http", "user", "nova-api"): (1, 1),
        ("Call", "nova-superconductor", "nova-compute"): (1, 2),
        ("Cast", "nova-superconductor", "nova-compute"): (1, 1),
        ("Call", "nova-compute", "nova-conductor"): (33, 65),
        ("Call", "nova-compute", "nova-compute"): (3, 10),
        ("Http", "nova-compute", "neutron-server"): (20, 40),
        ("Http", "nova-compute", "placement"): (1, 2),
    }
    assert critical_crossings(workflows()[OperationKind.LIVE_MIGRATE], "edge-01", roles, buses) == 121


def test_a_boot_does_not_grow_with_the_servers_already_on_its_host() -> None:
    """12 boots traced one after the other on one host of the testbed each asked Placement for their
    own server's allocations only (benchmarks/results/tracker-2026-12-07/): the tracker tracks the
    others. Twenty boots on one host at 50 ms: the last five as long as the first five."""
    from wanstack.scenario.load import parse
    from wanstack.sim.engine import simulate

    text = """
name: one-host
generate: {kind: star, edges: 1, delay_ms: 50, hosts: {count: 1}, center_hosts: {count: 0}}
model: centralized
openstack: {virt: libvirt, neutron: ml2-ovs, notifications: none}
workload:
  images: [{name: cirros, size_mb: 1}]
  operations:
    - {op: boot, times: 20, concurrency: 1, sites: [edge-1]}
run: {duration_s: 900, seed: 1}
"""
    result = simulate(parse(text, "one-host.yaml"))
    boots = [ms for op, ms in zip(result.samples.op, result.samples.latency_ms, strict=True) if op == "boot"]
    assert len(boots) == 20
    first, last = sorted(boots[:5])[2], sorted(boots[-5:])[2]
    assert abs(last - first) / first < 0.05, (first, last)
