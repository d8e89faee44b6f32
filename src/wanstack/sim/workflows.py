"""Operations as explicit sequences of steps, following what the OpenStack services do.

Each step names who talks to whom by *role*; the deployment model decides which site plays each role
for the operation's target site (`Placement.serving`). Sources for each sequence are given per
operation below; the sequences keep the exchanges that cross sites in the models we compare and
leave out purely local work (which only adds service time).

Crossings: `critical_crossings()` counts one-way WAN crossings along the critical path of an
operation for a given placement; in the centralized model a boot at an edge site crosses the edge
link 30 times (13 serialized exchanges, and 2 notifications whose publisher confirms nova-compute
waits for), so its latency grows by 30 ms per ms of one-way delay. Replayed for real over RabbitMQ
(`bench.replay`), it grows by ≈ 31 ms per ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wanstack.scenario.workload import OperationKind


class Role(StrEnum):
    USER = "user"  # the tenant, at the target site
    COMPUTE = "nova-compute"  # the host at the target site
    AGENT = "neutron-agent"  # the L2 agent on that host
    KEYSTONE = "keystone"
    API = "nova-api"
    SCHEDULER = "nova-scheduler"
    SUPERCONDUCTOR = "nova-superconductor"
    CONDUCTOR = "nova-conductor"
    PLACEMENT = "placement"
    API_DB = "api-database"
    CELL_DB = "cell-database"
    GLANCE = "glance-api"
    NEUTRON = "neutron-server"
    IMAGE_STORE = "image-store"


@dataclass(frozen=True)
class Http:
    """A REST request and its response (keystoneauth sessions keep connections alive: 1 RTT)."""

    client: Role
    server: Role
    what: str


@dataclass(frozen=True)
class Db:
    """`queries` serialized round trips to a database."""

    client: Role
    db: Role
    queries: int
    what: str


@dataclass(frozen=True)
class Call:
    """An RPC call; `inner` steps run at the server before it replies."""

    client: Role
    server: Role
    what: str
    inner: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Cast:
    """An RPC cast; the operation goes on once the server has processed it."""

    client: Role
    server: Role
    what: str


@dataclass(frozen=True)
class Notify:
    """A versioned notification; nobody waits for it."""

    sender: Role
    what: str


@dataclass(frozen=True)
class Local:
    """Work on the host itself (`param` names a duration in `Params`)."""

    role: Role
    param: str
    what: str


@dataclass(frozen=True)
class Authenticate:
    """The user gets a token from keystone unless it still holds a valid one."""


@dataclass(frozen=True)
class ValidateToken:
    """`server` checks the user's token with keystone unless keystonemiddleware has it cached."""

    server: Role


@dataclass(frozen=True)
class SelectHost:
    """The scheduler filters hosts: compute service up (servicegroup) and room for the flavor."""


@dataclass(frozen=True)
class FetchImage:
    """libvirt's image backend fetches the image from glance unless cached at the site."""


@dataclass(frozen=True)
class MigrateMemory:
    """Live migration's memory copy between two hosts of a site: pre-copy's bytes (`migration.cost`)."""


@dataclass(frozen=True)
class Parallel:
    branches: tuple[tuple[Step, ...], ...]


Step = (
    Http
    | Db
    | Call
    | Cast
    | Notify
    | Local
    | Authenticate
    | ValidateToken
    | SelectHost
    | FetchImage
    | MigrateMemory
    | Parallel
)

U, C, AG = Role.USER, Role.COMPUTE, Role.AGENT
API, SCH, SC, CO = Role.API, Role.SCHEDULER, Role.SUPERCONDUCTOR, Role.CONDUCTOR
PL, ADB, CDB, GL, NE = Role.PLACEMENT, Role.API_DB, Role.CELL_DB, Role.GLANCE, Role.NEUTRON

# The neutron L2 agent wiring a new port once libvirt has plugged the tap device
# (neutron/plugins/ml2/drivers/openvswitch/agent/ovs_neutron_agent.py treat_devices_added_or_updated,
# RPC API in neutron/agent/rpc.py and neutron/api/rpc/handlers/securitygroups_rpc.py), then
# neutron-server telling nova the VIF is plugged (neutron/notifiers/nova.py -> os-server-external-events),
# which nova-api forwards to the compute host (nova/compute/rpcapi.py external_instance_event).
PORT_WIRING: tuple[Step, ...] = (
    Call(AG, NE, "get_devices_details_list_and_failed_devices"),
    Call(AG, NE, "security_group_info_for_devices"),
    Call(AG, NE, "update_device_list (port up)"),
    Http(NE, API, "POST /os-server-external-events network-vif-plugged"),
    Cast(API, C, "external_instance_event"),
)

# Server boot. nova/compute/api.py (create, _provision_instances), nova/conductor/manager.py
# (schedule_and_build_instances), nova/scheduler/manager.py (select_destinations with placement
# allocation candidates and claim), nova/compute/manager.py (_do_build_and_run_instance,
# _build_and_run_instance, _build_resources), nova/network/neutron.py (allocate_for_instance),
# nova/virt/libvirt/driver.py (spawn waits for network-vif-plugged). nova-compute has no database
# access: each instance.save and action event is an RPC call to its cell's conductor.
BOOT: tuple[Step, ...] = (
    Authenticate(),
    Http(U, API, "POST /servers"),
    ValidateToken(API),
    Http(API, GL, "GET /v2/images/{id}"),
    Http(API, NE, "GET /v2.0/networks (validate_networks)"),
    Db(API, ADB, 3, "build request, request spec, instance mapping"),
    Cast(API, SC, "schedule_and_build_instances"),
    Call(
        SC,
        SCH,
        "select_destinations",
        inner=(
            Http(SCH, PL, "GET /allocation_candidates"),
            SelectHost(),
            Http(SCH, PL, "PUT /allocations/{instance} (claim)"),
        ),
    ),
    Db(SC, CDB, 2, "instance and block device mappings in the target cell"),
    Db(SC, ADB, 2, "instance mapping -> cell, delete build request"),
    Cast(SC, C, "build_and_run_instance"),
    Call(C, CO, "instance.save (vm_state building)"),
    Call(C, CO, "InstanceActionEvent.event_start"),
    Notify(C, "compute.instance.create.start"),
    Parallel(
        (
            (
                Http(C, NE, "GET /v2.0/networks"),
                Http(C, NE, "POST /v2.0/ports"),
                Http(C, NE, "PUT /v2.0/ports/{id} binding:host_id"),
            ),
            (
                Call(C, CO, "instance.save (task_state block_device_mapping)"),
                Call(C, CO, "instance.save (task_state spawning)"),
                FetchImage(),
            ),
        )
    ),
    Local(C, "spawn_ms", "define and start the domain, plug the VIF"),
    *PORT_WIRING,
    Call(C, CO, "instance.save (vm_state active)"),
    Call(C, CO, "InstanceActionEvent.event_finish"),
    Notify(C, "compute.instance.create.end"),
)

# Server delete. nova/compute/api.py (delete -> _do_delete), compute manager terminate_instance
# (_shutdown_instance, deallocate network via neutron, delete allocations in placement, instance.destroy).
DELETE: tuple[Step, ...] = (
    Authenticate(),
    Http(U, API, "DELETE /servers/{id}"),
    ValidateToken(API),
    Db(API, CDB, 1, "instance lookup"),
    Cast(API, C, "terminate_instance"),
    Call(C, CO, "instance.save (task_state deleting)"),
    Notify(C, "compute.instance.delete.start"),
    Local(C, "shutdown_ms", "power off and undefine the domain"),
    Http(C, NE, "DELETE /v2.0/ports/{id}"),
    Http(C, PL, "DELETE /allocations/{instance}"),
    Call(C, CO, "instance.destroy"),
    Notify(C, "compute.instance.delete.end"),
)


def _power_action(verb: str, task_state: str) -> tuple[Step, ...]:
    # nova/compute/api.py pause/unpause -> compute rpcapi cast -> manager pause_instance/unpause_instance.
    return (
        Authenticate(),
        Http(U, API, f"POST /servers/{{id}}/action {verb}"),
        ValidateToken(API),
        Db(API, CDB, 2, "instance lookup, task_state " + task_state),
        Cast(API, C, f"{verb}_instance"),
        Notify(C, f"compute.instance.{verb}.start"),
        Local(C, "pause_ms", f"libvirt {verb}"),
        Call(C, CO, f"instance.save (vm_state after {verb})"),
        Notify(C, f"compute.instance.{verb}.end"),
    )


# Live migration within the site (the migration issue adds inter-site moves). nova/conductor/tasks/
# live_migrate.py (scheduler, check_can_live_migrate_destination/source), compute manager
# pre_live_migration (port bindings), live_migration, post_live_migration_at_destination.
LIVE_MIGRATE: tuple[Step, ...] = (
    Authenticate(),
    Http(U, API, "POST /servers/{id}/action os-migrateLive"),
    ValidateToken(API),
    Call(
        API,
        SC,
        "live_migrate_instance",
        inner=(
            Call(
                SC,
                SCH,
                "select_destinations",
                inner=(
                    Http(SCH, PL, "GET /allocation_candidates"),
                    SelectHost(),
                    Http(SCH, PL, "PUT /allocations (migration)"),
                ),
            ),
            Call(
                SC,
                C,
                "check_can_live_migrate_destination",
                inner=(Call(C, C, "check_can_live_migrate_source"),),
            ),
            Db(SC, CDB, 2, "migration record"),
            Cast(SC, C, "live_migration"),
        ),
    ),
    Call(C, C, "pre_live_migration (at destination)", inner=(Http(C, NE, "POST /ports/{id}/bindings"),)),
    Call(C, CO, "migration.save (running)"),
    MigrateMemory(),
    Http(C, NE, "PUT /ports/{id}/bindings/{host}/activate"),
    Call(C, C, "post_live_migration_at_destination", inner=(Call(C, CO, "instance.save (host)"),)),
    Http(C, PL, "PUT /allocations (swap to destination)"),
    Call(C, CO, "migration.save (completed)"),
    Notify(C, "compute.instance.live_migration.post.dest.end"),
)

# Neutron API calls (neutron/api/v2/base.py): network with its subnet; a port without binding.
NETWORK_CREATE: tuple[Step, ...] = (
    Authenticate(),
    Http(U, NE, "POST /v2.0/networks"),
    ValidateToken(NE),
    Http(U, NE, "POST /v2.0/subnets"),
    Notify(NE, "network.create.end"),
)
PORT_CREATE: tuple[Step, ...] = (
    Authenticate(),
    Http(U, NE, "POST /v2.0/ports"),
    ValidateToken(NE),
    Notify(NE, "port.create.end"),
)

WORKFLOWS: dict[OperationKind, tuple[Step, ...]] = {
    OperationKind.BOOT: BOOT,
    OperationKind.DELETE: DELETE,
    OperationKind.PAUSE: _power_action("pause", "pausing"),
    OperationKind.UNPAUSE: _power_action("unpause", "unpausing"),
    OperationKind.LIVE_MIGRATE: LIVE_MIGRATE,
    OperationKind.NETWORK_CREATE: NETWORK_CREATE,
    OperationKind.PORT_CREATE: PORT_CREATE,
}
