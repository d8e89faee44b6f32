"""The workflow language: operations as explicit sequences of steps, each naming who talks to whom
by *role*; the deployment model decides which site plays each role for the operation's target site
(`Placement.serving`). The operations themselves, as the release runs them, are in
`wanstack.sim.openstack`; `wanstack.sim.steps` interprets them for every engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Who a workflow step names; the deployment model says which site plays each role for an operation's
    target site. The value is the station kind that serves it."""

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
    """A REST request and its response (keystoneauth sessions keep connections alive: 1 RTT).
    `per_server`: one request for each server whose allocations the resource tracker asks Placement
    for, one after the other: the operation's own, and any other on the host it does not track
    (nova/compute/resource_tracker.py `_remove_deleted_instances_allocations` skips the tracked
    ones). A run has none of the others: 12 boots traced one after the other on one host of the
    testbed (benchmarks/results/tracker-2026-12-07/) each asked for its own server's allocations
    only, with 0 to 11 servers already there. A trace that shows others (a server the tracker had not
    taken up yet) gives `explain` their count (`servers_on_host`). `needs_agent`:
    the server refuses it when the host's L2 agent is seen dead (a port binding under ML2/OVS).
    `answered_later`: the server answers at the workflow's `Respond` step, once it has done the steps
    in between (nova-api's own work up to its cast), and nothing waits for the answer to arrive: only
    the request is on the way to what the client waits for (the state written)."""

    client: Role
    server: Role
    what: str
    per_server: bool = False
    needs_agent: bool = False
    answered_later: bool = False


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
    """Branches of steps that run at once from the same point; the operation goes on once every branch is
    done."""

    branches: tuple[tuple[Step, ...], ...]


@dataclass(frozen=True)
class Hold:
    """`steps` run holding one of `slots` of a lock of the operation's compute host (`slots`: a number,
    or the name of a `Params` field): nova-compute's locks, which make concurrent operations on one
    host wait for each other — the resource tracker's `COMPUTE_RESOURCE_SEMAPHORE` (one holder:
    nova/compute/resource_tracker.py) and the builds a host runs at once (`max_concurrent_builds`,
    nova/compute/manager.py `_build_semaphore`)."""

    lock: str
    slots: int | str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Quota:
    """nova-api's quota check for a new server (instances, cores, RAM: nova/compute/api.py
    `_check_num_instances_quota`), as the scenario's `quotas:` project enforces it — a claim, or
    (`claim=False`) the release once the server is deleted. Nothing when the scenario sets no quotas."""

    claim: bool


@dataclass(frozen=True)
class Respond:
    """The server answers the last `Http(answered_later=True)` request (a 202 Accepted): the answer
    crosses back to the client beside the steps that follow, which do not wait for it; the client's
    request has returned when it arrives (Rally's polling starts from then)."""


@dataclass(frozen=True)
class Visible:
    """The client sees the operation done here (the state it polls for is written); the steps after
    it still run and load the links and stations, but no longer count in its latency. Inside a call's
    inner steps (the conductor's `Instance.save` writing the state), the call's reply is after it."""


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
    | Hold
    | Quota
    | Respond
    | Visible
)
