"""The operations as OpenStack runs them, step by step from its code, under the scenario's
`openstack:` settings: the current release (Nova 34, Neutron 29, Placement 16; the default) and Ocata
(Nova 15, Neutron 10, read at the ocata-eol tags).

Every exchange that a traced operation on the testbed makes before its client sees it done is here,
in its order (`wanstack testbed trace`; `tests/fixtures/trace-*-edge.json` hold a boot, a delete, a
pause and an unpause at an edge site with Nova's fake driver and the bind-all ML2 driver,
`trace-*-edge-ovs.json` the same and a first boot with the libvirt-like driver and the Open vSwitch
agent, and a test holds these workflows to them call for call). Work on one host (SQL of a
service on its own database, the driver's own work) is a `Db` or `Local` step or left to the stations'
service times. Sources are named per step: nova/compute/api.py, nova/conductor/manager.py,
nova/scheduler/manager.py, nova/compute/manager.py, nova/compute/resource_tracker.py,
nova/network/neutron.py, nova/virt/libvirt/driver.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import assert_never

from wanstack.scenario.openstack import NeutronBackend, OpenStack, Release, VirtDriver
from wanstack.scenario.workload import OperationKind
from wanstack.sim.workflows import (
    Authenticate,
    Call,
    Cast,
    Db,
    FetchImage,
    Hold,
    Http,
    Local,
    MigrateMemory,
    Notify,
    Parallel,
    Quota,
    Respond,
    Role,
    SelectHost,
    Step,
    ValidateToken,
    Visible,
)

U, C, AG = Role.USER, Role.COMPUTE, Role.AGENT
API, SCH, SC, CO = Role.API, Role.SCHEDULER, Role.SUPERCONDUCTOR, Role.CONDUCTOR
PL, ADB, CDB, GL, NE = Role.PLACEMENT, Role.API_DB, Role.CELL_DB, Role.GLANCE, Role.NEUTRON

Steps = tuple[Step, ...]


def _written(client: Role, conductor: Role, what: str) -> Call:
    """The conductor's `Instance.save` that writes the state the client waits for: the state is
    written (the UPDATE the testbed's traces end at) before the conductor replies to the compute."""
    return Call(client, conductor, what, inner=(Visible(),))


def _under_the_tracker(*steps: Step) -> Hold:
    """`steps` holding the host's resource tracker lock (nova/compute/resource_tracker.py
    `COMPUTE_RESOURCE_SEMAPHORE`, one holder at a time)."""
    return Hold("COMPUTE_RESOURCE_SEMAPHORE", 1, steps)


def _an_event(*steps: Step) -> Steps:
    """`steps` as a compute's method under nova's `wrap_instance_event` (nova/compute/manager.py,
    `EventReporter`): the instance action's event started before them and finished after, each a
    call to the conductor."""
    return (
        Call(C, CO, "InstanceActionEvent.event_start"),
        *steps,
        Call(C, CO, "InstanceActionEvent.event_finish"),
    )


def _call_an_event(client: Role, method: str, *steps: Step) -> Call:
    """A call from `client` to a compute's `method`, which runs `steps` under `wrap_instance_event`
    (`_an_event`) before it replies."""
    return Call(client, C, method, inner=_an_event(*steps))


def _a_build(*steps: Step) -> Hold:
    """`steps` in one of the host's build slots (nova/compute/manager.py `_build_semaphore`)."""
    return Hold("builds", "max_concurrent_builds", steps)


# The resource tracker's `_update` (nova/compute/resource_tracker.py): the host's allocations and
# the server's in Placement (and those of any server on the host the tracker does not track:
# `Http.per_server`), the service, then the compute node saved.
TRACKER_UPDATE: Steps = (
    Http(C, PL, "GET /resource_providers/{host}/allocations"),
    Http(C, PL, "GET /allocations/{server} for the server and each untracked one", per_server=True),
    Call(C, CO, "Service.get_by_compute_host"),
    Call(C, CO, "ComputeNode.save"),
)

# Ocata's `_update`: the compute node saved, then the scheduler report client's provider refresh
# (its aggregates and inventories; ocata-eol nova/scheduler/client/report.py).
OCATA_TRACKER_UPDATE: Steps = (
    Call(C, CO, "ComputeNode.save"),
    Http(C, PL, "GET /resource_providers/{host}/aggregates"),
    Http(C, PL, "GET /resource_providers/{host}/inventories"),
)


def _notify(settings: OpenStack, sender: Role, event: str) -> Steps:
    """Nova's notification of `event`: none by default, one or two (`both`: the legacy and the
    versioned one, nova/compute/utils.py notify_about_instance_action beside
    `_notify_about_instance_usage`)."""
    return (Notify(sender, event),) * settings.notifications.copies


def _vif_plugged(settings: OpenStack) -> Steps:
    """What libvirt's spawn waits for once the guest is defined: Neutron's `network-vif-plugged`
    (nova/virt/libvirt/driver.py `_create_guest_with_network`, `wait_for_instance_event`). Neutron
    sends it when the port goes up (neutron/notifiers/nova.py, batched by `send_events_interval` =
    2 s, neutron/notifiers/batch_notifier.py: the first event of a quiet period goes at once), through
    nova-api, which casts it to the compute (nova/compute/api.py `external_instance_event`)."""
    to_nova = (
        Http(NE, API, "POST /os-server-external-events network-vif-plugged"),
        Cast(API, C, "external_instance_event"),
    )
    match settings.neutron:
        case NeutronBackend.ML2_OVS if settings.release is Release.OCATA:
            # Ocata's agent asks neutron-server for each new device's details and its security groups
            # (ovs_neutron_agent.py `treat_devices_added_or_updated`, securitygroups_rpc.py
            # `security_group_info_for_devices`), then reports it up: three RPC calls.
            return (
                Local(AG, "ovs_agent_notice_ms", "the Open vSwitch agent's loop notices the tap"),
                Call(AG, NE, "get_devices_details_list_and_failed_devices"),
                Call(AG, NE, "security_group_info_for_devices"),
                Call(AG, NE, "update_device_list (port up)"),
                *to_nova,
            )
        case NeutronBackend.ML2_OVS:
            # The agent sees the tap on its next loop and reports the device up; since Pike it has the
            # port's details and security groups in its cache (neutron/agent/rpc.py
            # CacheBackedPluginApi), so `update_device_list` is its one RPC
            # (ovs_neutron_agent.py `treat_devices_added_or_updated`, `_update_port_status`...).
            return (
                Local(AG, "ovs_agent_notice_ms", "the Open vSwitch agent's loop notices the tap"),
                Call(AG, NE, "update_device_list (port up)"),
                *to_nova,
            )
        case NeutronBackend.ML2_OVN:
            # ovn-controller claims the port in the southbound database (an OVSDB transaction) and
            # neutron-server, watching it, sets the port up (networking-ovn's ovsdb monitor).
            return (Http(AG, NE, "OVSDB transact: Port_Binding up (ovn-controller)"), *to_nova)
        case NeutronBackend.BIND_ALL:
            return ()  # the port was up at its binding: the event has come already


def _allocate_network(settings: OpenStack, *details: Step) -> Steps:
    """nova-compute allocating a server's port (`allocate_for_instance`, the same sequence in Ocata's
    nova/network/neutronv2/api.py and today's nova/network/neutron.py): the network, the port and its
    binding, the VIF record, then the instance's network info (`_build_network_info_model`: ports,
    floating IPs, subnets, DHCP ports, then `details`) into its info cache."""
    return (
        Http(C, NE, "GET /v2.0/networks?id={net}"),
        Http(C, NE, "POST /v2.0/ports"),
        # ML2's agent-based drivers bind only to a host whose agent is alive
        # (neutron/plugins/ml2/drivers/mech_agent.py AgentMechanismDriverBase.bind_port): otherwise the
        # binding fails and nova-compute gives up the build (PortBindingFailed).
        Http(
            C,
            NE,
            "PUT /v2.0/ports/{id} binding:host_id",
            needs_agent=settings.neutron is NeutronBackend.ML2_OVS,
        ),
        Call(C, CO, "VirtualInterface.create"),
        Call(C, CO, "InstanceInfoCache.refresh"),
        Http(C, NE, "GET /v2.0/ports?device_id={server}"),
        Http(C, NE, "GET /v2.0/floatingips"),
        Http(C, NE, "GET /v2.0/subnets"),
        Http(C, NE, "GET /v2.0/ports?network_id={net}&device_owner=network:dhcp"),
        *details,
        Call(C, CO, "InstanceInfoCache.save"),
    )


# nova-compute letting a deleted server's port go (`deallocate_for_instance`, both releases): the
# server's ports, their deletion, the VIF records, the emptied info cache.
DEALLOCATE_NETWORK: Steps = (
    Http(C, NE, "GET /v2.0/ports?device_id={server}"),
    Http(C, NE, "DELETE /v2.0/ports/{id}"),
    Call(C, CO, "VirtualInterface.delete_by_instance_uuid"),
    Call(C, CO, "InstanceInfoCache.save"),
)


def _asked(request: str) -> Steps:
    """The user's request to nova-api with a token (a new one unless cached), answered once nova-api
    has cast the work on (`Respond`), the token validated by keystonemiddleware."""
    return (Authenticate(), Http(U, API, request, answered_later=True), ValidateToken(API))


# --- a boot and a delete: one workflow, each release's differences ---------------------------------
@dataclass(frozen=True)
class BootOfRelease:
    """Where a release's boot differs; the rest is one workflow (`_boot`)."""

    networks: str  # nova-api's lookup of the requested networks (`validate_networks`)
    network_details: Steps  # what `validate_networks` asks after the ports in use
    spec_db: str  # nova-api's writes to the API database once the claim is made
    schedule: Steps  # the scheduler's work in `select_destinations`
    claim: Steps  # the compute's claim, from the build's notification to the network
    networking: str  # the task state saved before the network is allocated
    network: Steps  # the network allocated in its own thread
    block_devices: Steps  # beside it, before the task state `spawning`
    guest_xml: Steps  # libvirt's, once the network info is there, before the guest starts


def _current_boot(settings: OpenStack) -> BootOfRelease:
    """The current release's boot: the scheduler claims in Placement, the compute's resource tracker
    updates every server on the host (`TRACKER_UPDATE`)."""
    return BootOfRelease(
        # `validate_networks` (nova/network/neutron.py: the networks, the port quota, the ports in
        # use, the network's details).
        networks="GET /v2.0/networks",
        network_details=(
            Http(API, NE, "GET /v2.0/networks/{id}"),
            Http(API, NE, "GET /v2.0/networks/{id} (its segments)"),
        ),
        spec_db="build request, request spec, instance mapping",
        schedule=(
            Http(SCH, PL, "GET /allocation_candidates"),
            SelectHost(),
            Http(SCH, PL, "GET /allocations/{server}"),
            Http(SCH, PL, "PUT /allocations/{server} (claim)"),
        ),
        # `instance_claim`: the host set on the instance, its block devices, then `_update`.
        claim=(
            Http(C, PL, "GET /allocations/{server}"),
            _under_the_tracker(
                Call(C, CO, "instance.save (host and node)"),
                Call(C, CO, "BlockDeviceMappingList.get_by_instance_uuid"),
                *TRACKER_UPDATE,
            ),
        ),
        # `_build_resources`: the network allocated asynchronously, the block devices beside it.
        networking="block_device_mapping",
        # nova/network/neutron.py `allocate_for_instance`, in `_allocate_network_async`'s thread; the
        # instance's network info asks for the network's details too (twice, the second for its
        # segments).
        network=_allocate_network(
            settings,
            Http(C, NE, "GET /v2.0/networks/{id}"),
            Http(C, NE, "GET /v2.0/networks/{id} (its segments)"),
        ),
        block_devices=(),
        guest_xml=(),
    )


def _ocata_boot(settings: OpenStack) -> BootOfRelease:
    """Ocata's boot (nova 15, ocata-eol): the scheduler only lists resource providers and does not
    claim (nova/scheduler/filter_scheduler.py `_schedule`); the compute's resource tracker claims in
    Placement itself, with a fixed number of requests (resource_tracker.py `instance_claim`,
    scheduler/client/report.py); nothing on the path grows with the servers on the host."""
    return BootOfRelease(
        # nova/network/neutronv2/api.py `validate_networks`.
        networks="GET /v2.0/networks?id={net}",
        network_details=(),
        spec_db="request spec, build request, instance mapping",
        schedule=(Http(SCH, PL, "GET /resource_providers?resources=..."), SelectHost()),
        claim=(
            _under_the_tracker(
                Call(C, CO, "InstancePCIRequests.get_by_instance_uuid"),
                Call(C, CO, "instance.save (host and node)"),
                Http(C, PL, "GET /allocations/{server}"),
                Http(C, PL, "PUT /allocations/{server} (the claim)"),
                *OCATA_TRACKER_UPDATE,
            ),
        ),
        networking="networking",
        # nova/network/neutronv2/api.py `allocate_for_instance`, in its own thread.
        network=_allocate_network(settings),
        block_devices=(
            Call(C, CO, "BlockDeviceMapping.save (root device name)"),
            Call(C, CO, "instance.save (task_state block_device_mapping)"),
        ),
        # libvirt's guest XML (nova/virt/libvirt/driver.py `_get_guest_xml`, `_build_device_metadata`).
        guest_xml=(
            Call(C, CO, "PciDeviceList.get_by_instance_uuid"),
            Call(C, CO, "VirtualInterfaceList.get_by_instance_uuid"),
            Call(C, CO, "BlockDeviceMappingList.get_by_instance_uuid"),
        ),
    )


def _boot(settings: OpenStack, release: BootOfRelease) -> Steps:
    """A boot as both releases run it (nova/compute/api.py `create`, nova/conductor/manager.py
    `schedule_and_build_instances`, nova/compute/manager.py `_do_build_and_run_instance` under
    `wrap_instance_event`), with `release`'s own steps where its code differs."""
    libvirt = settings.virt is VirtDriver.LIBVIRT
    return (
        *_asked("POST /servers"),
        # nova/compute/api.py `create`: the image (glanceclient asks for its schema too) and
        # `validate_networks`: the networks, the port quota, the ports in use (and the release's own).
        Http(API, GL, "GET /v2/images/{id}"),
        Http(API, GL, "GET /v2/schemas/image"),
        Http(API, NE, release.networks),
        Http(API, NE, "GET /v2.0/quotas/{project}"),
        Http(API, NE, "GET /v2.0/ports?tenant_id={project} (ports in use)"),
        *release.network_details,
        # `_check_num_instances_quota`: the new server's instances, cores and RAM.
        Quota(claim=True),
        Db(API, ADB, 3, release.spec_db),
        Cast(API, SC, "schedule_and_build_instances"),
        Respond(),
        Call(SC, SCH, "select_destinations", inner=release.schedule),
        Db(SC, CDB, 2, "instance and block device mappings in the target cell"),
        Db(SC, ADB, 2, "instance mapping -> cell, delete build request"),
        Cast(SC, C, "build_and_run_instance"),
        _a_build(
            *_an_event(
                Call(C, CO, "instance.save (vm_state building)"),
                *_notify(settings, C, "compute.instance.create.start"),
                *release.claim,
                Call(C, CO, f"instance.save (task_state {release.networking})"),
                # Beside the network: the block devices, then the spawn's first part (libvirt
                # fetches the image, unless cached, before it needs the network info).
                Parallel(
                    (
                        release.network,
                        (
                            *release.block_devices,
                            Call(C, CO, "instance.save (task_state spawning)"),
                            *((FetchImage(),) if libvirt else ()),
                        ),
                    )
                ),
                # Once the network info is there: the guest and the wait for network-vif-plugged at
                # once. nova/virt/libvirt/driver.py `_create_guest_with_network` plugs the VIFs and
                # creates the guest paused inside `wait_for_instance_event`, whose exit waits for the
                # events before the guest is resumed: the wait's crossings are hidden while the guest's
                # creation takes longer (the testbed's guestless driver does the same:
                # openstack/wanstack_openstack/virt.py).
                *(
                    (
                        *release.guest_xml,
                        Parallel(
                            (
                                (Local(C, "spawn_ms", "define and start the domain (paused), plug the VIF"),),
                                _vif_plugged(settings),
                            )
                        ),
                    )
                    if libvirt
                    else ()
                ),
                _written(C, CO, "instance.save (vm_state active)"),
                *_notify(settings, C, "compute.instance.create.end"),
            ),
            # nova/scheduler/client/query.py update_instance_info: a fanout cast to the schedulers.
            Cast(C, SCH, "update_instance_info"),
        ),
    )


@dataclass(frozen=True)
class DeleteOfRelease:
    """Where a release's delete differs; the rest is one workflow (`_delete`)."""

    lookup: Db  # nova-api's own work before the cast
    started: Steps  # after the event's start, before the shutdown
    before_network: Steps  # after the guest, before the network is let go
    after_network: Steps  # after the network, before DELETED is written
    completion: Steps  # after DELETED, before the end's notification


def _current_delete() -> DeleteOfRelease:
    """The current release's delete: the share mappings looked up first; `_complete_deletion` after
    DELETED is written: the resource tracker and Placement, console tokens, the schedulers, then the
    row itself."""
    return DeleteOfRelease(
        lookup=Db(API, CDB, 1, "instance lookup"),
        started=(Call(C, CO, "ShareMappingList.get_by_instance_uuid"),),
        before_network=(),
        after_network=(),
        completion=(
            _under_the_tracker(Call(C, CO, "ResourceList.get_by_instance_uuid"), *TRACKER_UPDATE),
            Http(C, PL, "DELETE /allocations/{server}"),
            Call(C, CO, "ConsoleAuthToken.clean_console_auths_for_instance"),
            Cast(C, SCH, "delete_instance_info"),
            Call(C, CO, "instance.destroy"),
        ),
    )


def _ocata_delete() -> DeleteOfRelease:
    """Ocata's delete: nova-api's own work is its database (the task state, the quota reservation, the
    action record), then the cast; the compute (manager.py `_delete_instance`) writes DELETED before
    destroying the row and before Placement (`_complete_deletion`)."""
    return DeleteOfRelease(
        lookup=Db(API, CDB, 4, "instance lookup, task_state deleting, quota reservation, action"),
        started=(),
        before_network=(Call(C, CO, "instance.save (clean_attempts)"),),
        after_network=(Call(C, CO, "InstanceInfoCache.delete"),),
        completion=(
            Call(C, CO, "instance.destroy"),
            Call(C, CO, "Quotas.commit"),
            Call(C, CO, "BlockDeviceMapping.destroy"),
            _under_the_tracker(Http(C, PL, "DELETE /allocations/{server}"), *OCATA_TRACKER_UPDATE),
            Cast(C, API, "delete_tokens_for_instance (nova-consoleauth)"),
            Cast(C, SCH, "delete_instance_info"),
        ),
    )


def _delete(settings: OpenStack, release: DeleteOfRelease) -> Steps:
    """A delete as both releases run it, with `release`'s own steps where its code differs:
    nova/compute/manager.py `_delete_instance` (under `wrap_instance_event`) and `_shutdown_instance`:
    the guest, then the network (`_try_deallocate_network`: `deallocate_for_instance`)."""
    libvirt = settings.virt is VirtDriver.LIBVIRT
    return (
        *_asked("DELETE /servers/{id}"),
        release.lookup,
        Cast(API, C, "terminate_instance"),
        Respond(),
        *_an_event(
            *_notify(settings, C, "compute.instance.delete.start"),
            *release.started,
            *_notify(settings, C, "compute.instance.shutdown.start"),
            *((Local(C, "shutdown_ms", "power off and undefine the domain"),) if libvirt else ()),
            *_notify(settings, C, "compute.instance.shutdown.end"),
            *release.before_network,
            *DEALLOCATE_NETWORK,
            *release.after_network,
            _written(C, CO, "instance.save (vm_state deleted)"),
            Quota(claim=False),  # the server no longer counts (nova counts usage: nothing is sent)
            *release.completion,
            *_notify(settings, C, "compute.instance.delete.end"),
        ),
    )


def local_delete(settings: OpenStack) -> Steps:
    """A delete when nova-api sees the server's compute service down: it deletes the server itself,
    with no cast (nova/compute/api.py `_delete`: `service_is_up` false -> `_local_delete`): the ports,
    the allocations in Placement, then the instance's rows."""
    return (
        *_asked("DELETE /servers/{id}"),
        Db(API, CDB, 1, "instance lookup"),
        Http(API, NE, "GET /v2.0/ports?device_id={server}"),
        Http(API, NE, "DELETE /v2.0/ports/{id}"),
        Http(API, PL, "DELETE /allocations/{server}"),
        Db(API, CDB, 2, "block device mappings, instance.destroy"),
        Visible(),
        Quota(claim=False),
        Respond(),
        *_notify(settings, API, "compute.instance.delete.end"),
    )


def _power_action(settings: OpenStack, verb: str, task_state: str) -> Steps:
    # nova/compute/api.py `pause`/`unpause`: the instance mapping (API database), the instance, its
    # task_state saved and the instance action recorded (the cell database, directly: no RPC from
    # nova-api), then a cast and the 202. nova/compute/manager.py `pause_instance`/`unpause_instance`
    # under `wrap_instance_event`: the event, the flavor lazy-loaded for the legacy notification's
    # payload (built even when no driver sends it: nova/notifications/base.py `info_from_instance`),
    # the hypervisor, then `instance.save` with the new vm_state.
    return (
        *_asked(f"POST /servers/{{id}}/action {verb}"),
        Db(API, ADB, 1, "instance mapping"),
        Db(API, CDB, 3, f"instance, task_state {task_state}, instance action"),
        Cast(API, C, f"{verb}_instance"),
        Respond(),
        *_an_event(
            Call(C, CO, "Instance.get_by_uuid (the flavor, lazy-loaded)"),
            *_notify(settings, C, f"compute.instance.{verb}.start"),
            Local(C, "pause_ms", f"libvirt {verb}"),
            _written(C, CO, f"instance.save (vm_state after {verb})"),
            *_notify(settings, C, f"compute.instance.{verb}.end"),
        ),
    )


def _network_info(who: Role) -> Steps:
    """`who` rebuilding a server's network info from Neutron (nova/network/neutron.py
    `get_instance_nw_info` -> `_build_network_info_model`): the cache refreshed, seven GETs, the cache
    saved."""
    return (
        Call(who, CO, "InstanceInfoCache.refresh"),
        Http(who, NE, "GET /v2.0/ports?tenant_id={project}&device_id={server}"),
        Http(who, NE, "GET /v2.0/networks?id={net}"),
        Http(who, NE, "GET /v2.0/floatingips?fixed_ip_address={ip}&port_id={port}"),
        Http(who, NE, "GET /v2.0/subnets?id={subnet}"),
        Http(who, NE, "GET /v2.0/ports?network_id={net}&device_owner=network:dhcp"),
        Http(who, NE, "GET /v2.0/networks/{id}?fields=segments"),
        Http(who, NE, "GET /v2.0/networks/{id}?fields=provider:physical_network"),
        Call(who, CO, "InstanceInfoCache.save"),
    )


def _live_migrate(settings: OpenStack) -> Steps:
    """A live migration to another host of the site, the scheduler choosing it (os-migrateLive with
    microversion >= 2.34: asynchronous; libvirt, a block migration, one port), read in nova master
    (2026.2): nova/compute/api.py `live_migrate`, nova/conductor/tasks/live_migrate.py
    `LiveMigrationTask`, nova/compute/manager.py `check_can_live_migrate_destination`,
    `_do_live_migration`, `_do_pre_live_migration`, `_post_live_migration`,
    `post_live_migration_at_destination`. The client (Rally's `_live_migrate`) waits for the server
    ACTIVE again, on its new host: the destination's `instance.save` writes it; the source's resource
    audit and the migration's `completed` come after. Both hosts are at the site, so the two computes'
    calls to each other do not cross the WAN; their calls to the conductor do."""
    return (
        *_asked("POST /servers/{id}/action os-migrateLive"),
        Db(API, ADB, 3, "instance mapping (twice: block_shares_not_supported), request spec"),
        Db(API, CDB, 5, "instance, share mappings, flavor (lazy), task_state migrating, action"),
        Cast(API, SC, "live_migrate_instance"),
        Respond(),
        # The super-conductor's task (its database work is direct SQL).
        Db(SC, ADB, 1, "instance mapping"),
        Db(SC, CDB, 4, "event_start, migration (accepted), source service, compute node"),
        # `replace_allocation_with_migration`: the server's allocation moved to the migration.
        Http(SC, PL, "GET /allocations/{server}"),
        Http(SC, PL, "GET /allocations/{server} (move_allocations)"),
        Http(SC, PL, "GET /allocations/{migration}"),
        Http(SC, PL, "POST /allocations (server -> migration)"),
        Http(SC, NE, "GET /v2.0/ports?device_id={server}&fields=resource_request"),
        # A new neutron.API per task: its extension cache starts empty.
        Http(SC, NE, "GET /v2.0/extensions"),
        Db(SC, ADB, 1, "source cell mapping"),
        Call(
            SC,
            SCH,
            "select_destinations",
            inner=(
                # nova/scheduler/request_filter.py: `owner_nova_filter` (every cell's minimum service
                # version, uncached) and `remote_managed_ports_filter` (each port).
                Db(SCH, CDB, 1, "minimum service version"),
                Http(SCH, NE, "GET /v2.0/ports/{id}"),
                Http(SCH, PL, "GET /allocation_candidates"),
                Db(SCH, CDB, 2, "services, compute nodes"),
                SelectHost(),
                Http(SCH, PL, "GET /allocations/{server}"),
                Http(SCH, PL, "PUT /allocations/{server} (on the destination)"),
            ),
        ),
        Db(SC, CDB, 4, "both hosts' hypervisors, the server's resources and PCI requests"),
        _call_an_event(
            SC,
            "check_can_live_migrate_destination",
            Call(C, CO, "InstanceGroup.get_by_instance_uuid (the policy check's upcall)"),
            Call(C, CO, "ComputeNode (source)"),
            Call(C, CO, "ComputeNode (destination)"),
            Call(C, CO, "VirtCPUModel.get_by_instance_uuid (lazy-loaded)"),
            Http(C, PL, "GET /allocations/{server}"),
            _call_an_event(
                C, "check_can_live_migrate_source", Call(C, CO, "BlockDeviceMappingList.get_by_instance_uuid")
            ),
        ),
        # `_bind_ports_on_destination`: an inactive binding on the destination.
        Http(SC, NE, "GET /v2.0/ports/{id}"),
        Http(SC, NE, "POST /v2.0/ports/{id}/bindings"),
        Db(SC, ADB, 1, "the destination's availability zone"),
        Db(SC, CDB, 2, "migration (destination), event_finish"),
        Cast(SC, C, "live_migration"),
        # The source: `live_migration` queues `_do_live_migration`.
        *_an_event(Call(C, CO, "migration.save (queued)")),
        Call(C, CO, "migration.save (preparing)"),
        Call(C, CO, "BlockDeviceMappingList.get_by_instance_uuid"),
        *_notify(settings, C, "compute.instance.live_migration.pre.start"),
        Call(
            C,
            C,
            "pre_live_migration (at the destination)",
            inner=(
                Call(C, CO, "InstanceActionEvent.event_start"),
                Call(C, CO, "InstanceGroup.get_by_instance_uuid"),
                Call(C, CO, "BlockDeviceMappingList.get_by_instance_uuid"),
                *_network_info(C),
                Call(C, CO, "TrustedCerts.get_by_instance_uuid (lazy-loaded)"),
                # The VIFs plugged: the source waits for `network-vif-plugged` (its waiter set before
                # the call, `live_migration_wait_for_vif_plug`) beside the rest.
                Parallel(
                    (
                        (
                            Http(C, NE, "GET /v2.0/ports?device_id={server}&binding:host_id={source}"),
                            Http(C, NE, "PUT /v2.0/ports/{id} binding:profile migrating_to"),
                            Call(C, CO, "InstanceActionEvent.event_finish"),
                        ),
                        _vif_plugged(settings),
                    )
                ),
            ),
        ),
        Call(C, CO, "migration.save (running)"),
        Call(C, CO, "BlockDeviceMappingList.get_by_instance_uuid (disks to copy)"),
        Call(C, CO, "MigrationContext.get_by_instance_uuid (lazy-loaded)"),
        MigrateMemory(),
        # libvirt's monitor: `save_stats` once at least.
        Call(C, CO, "migration.save (progress)"),
        Call(C, CO, "instance.save (progress)"),
        # `_post_live_migration`: the destination's binding activated, the source cleaned up.
        Http(C, NE, "GET /v2.0/ports/{id}/bindings/{destination}"),
        Http(C, NE, "PUT /v2.0/ports/{id}/bindings/{destination}/activate"),
        Call(C, CO, "instance.save (the source's files cleaned)"),
        _call_an_event(
            C,
            "post_live_migration_at_destination",
            Http(C, NE, "GET /v2.0/ports?device_id={server}&binding:host_id={source}"),
            Http(C, NE, "GET /v2.0/ports?device_id={server}"),
            *_network_info(C),
            Call(C, CO, "BlockDeviceMappingList.get_by_instance_uuid"),
            Call(C, CO, "ComputeNode (this host)"),
            _written(C, CO, "instance.save (host: the destination, task_state none)"),
            Http(C, NE, "GET /v2.0/ports?device_id={server}&binding:host_id={destination}"),
            Http(C, NE, "DELETE /v2.0/ports/{id}/bindings/{source}"),
        ),
        # The source's full resource audit (`update_available_resource`), then `completed`.
        _under_the_tracker(
            Call(C, CO, "ComputeNodeList.get_all_by_host"),
            Call(C, CO, "InstanceList.get_by_host_and_node"),
            Call(C, CO, "MigrationList.get_in_progress_and_error"),
            Call(C, CO, "Instance.get_by_uuid (the migration's server)"),
            Http(
                C, PL, "GET /resource_providers/{host}/allocations (`_remove_deleted_instances_allocations`)"
            ),
            *TRACKER_UPDATE,
        ),
        Cast(C, SCH, "update_instance_info"),
        Call(C, CO, "ConsoleAuthToken.clean_console_auths_for_instance"),
        Call(C, CO, "migration.save (completed)"),
        Http(C, PL, "GET /allocations/{migration}"),
        Http(C, PL, "PUT /allocations/{migration} (emptied)"),
        *_notify(settings, C, "compute.instance.live_migration._post.end"),
    )


# Neutron API calls (neutron/api/v2/base.py): network with its subnet; a port without binding. Neutron's
# own notifications (`notify_nova_on_port_status_changes` aside) follow the same notification driver.
def _network_create(settings: OpenStack) -> Steps:
    return (
        Authenticate(),
        Http(U, NE, "POST /v2.0/networks"),
        ValidateToken(NE),
        Http(U, NE, "POST /v2.0/subnets"),
        Visible(),
        *_notify(settings, NE, "network.create.end"),
    )


def _port_create(settings: OpenStack) -> Steps:
    return (
        Authenticate(),
        Http(U, NE, "POST /v2.0/ports"),
        ValidateToken(NE),
        Visible(),
        *_notify(settings, NE, "port.create.end"),
    )


@cache
def workflows(settings: OpenStack | None = None) -> dict[OperationKind, Steps]:
    """Every operation's workflow under `settings` (default: the release's defaults); the settings are
    a frozen model, so each set is built once."""
    s = settings or OpenStack()
    match s.release:
        case Release.CURRENT:
            boot, delete = _current_boot(s), _current_delete()
        case Release.OCATA:
            boot, delete = _ocata_boot(s), _ocata_delete()
        case _ as unknown:
            assert_never(unknown)
    return {
        OperationKind.BOOT: _boot(s, boot),
        OperationKind.DELETE: _delete(s, delete),
        OperationKind.PAUSE: _power_action(s, "pause", "pausing"),
        OperationKind.UNPAUSE: _power_action(s, "unpause", "unpausing"),
        OperationKind.LIVE_MIGRATE: _live_migrate(s),
        OperationKind.NETWORK_CREATE: _network_create(s),
        OperationKind.PORT_CREATE: _port_create(s),
        # The claim alone, where nova-api would make it (its release is the runner's, after hold_s).
        OperationKind.CLAIM: (Quota(claim=True), Visible()),
    }
