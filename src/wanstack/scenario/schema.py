"""The scenario file: everything a user writes about the cloud they plan, as one validated model.

Structure checks (types, ranges, unknown fields) happen here through pydantic; checks across
objects (names that must exist, reachability) happen in `wanstack.scenario.checks`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from wanstack.scenario.faults import Fault
from wanstack.scenario.infrastructure import (
    BackboneLink,
    Generator,
    LinkDefaults,
    Name,
    Region,
    Site,
    StrictModel,
)
from wanstack.scenario.openstack import OpenStack
from wanstack.scenario.quotas import Quotas
from wanstack.scenario.services import NotificationBackend, RpcBackend, Service
from wanstack.scenario.sla import Criteria
from wanstack.scenario.units import MegabitsPerSecond, Milliseconds, Percent, Seconds
from wanstack.scenario.workload import Background, OperationKind, Workload

# An operation the workload can submit (`scenario.workload.OperationKind`), or `*` for each of them.
SLA_OPERATION = "^(" + "|".join(k.value for k in OperationKind) + r"|\*)$"


class Constraint(StrictModel):
    """One EnOS constraint between two groups (a group is a site name, a tier, or `name[1-4]`)."""

    src: str
    dst: str
    delay: Milliseconds | None = None
    rate: MegabitsPerSecond | None = None
    loss: Percent | None = None
    symmetric: bool = False


class NetworkConstraints(StrictModel):
    """EnOS's `network_constraints` block, imported as is (BeyondTheClouds/enos, docs
    "Network Emulation"). Delay is one-way in each direction: RTT = 2 × delay."""

    enable: bool = True
    default_delay: Milliseconds | None = None
    default_rate: MegabitsPerSecond | None = None
    default_loss: Percent | None = None
    except_: list[str] = Field(default_factory=list, alias="except")
    constraints: list[Constraint] = Field(default_factory=list)

    model_config = StrictModel.model_config | {"populate_by_name": True}


class Messaging(StrictModel):
    """Overrides of the model's messaging backends."""

    rpc: RpcBackend | None = Field(default=None, description="RPC backend (default: the model's).")
    notifications: NotificationBackend | None = None
    broker_nodes: list[Name] | None = Field(
        default=None, description="Sites of the RPC brokers (a cluster when there are several)."
    )
    # oslo.messaging [DEFAULT] rpc_response_timeout = 60 s (oslo_messaging/rpc/client.py).
    rpc_response_timeout_s: Seconds = 60.0


class StationSize(StrictModel):
    """Capacity of one kind of station (every instance of it): worker count and service time."""

    workers: int | None = Field(default=None, ge=1, le=100_000, description="Parallel workers.")
    service_ms: float | None = Field(default=None, gt=0, description="Service time per request/message.")


class RunSettings(StrictModel):
    duration_s: Seconds = Field(default=3600.0, gt=0)
    seed: int = 0
    resolution_s: Seconds = Field(default=10.0, gt=0, description="Time-series resolution.")


class Scenario(StrictModel):
    """A planned deployment: infrastructure, deployment model, messaging, load, faults, run."""

    name: str = "scenario"
    description: str = ""
    sites: list[Site] = Field(default_factory=list)
    links: list[BackboneLink] = Field(default_factory=list)
    generate: Generator | None = Field(default=None, description="Generate sites and links (large cases).")
    link_defaults: LinkDefaults = Field(default_factory=LinkDefaults)
    network_constraints: NetworkConstraints | None = None
    regions: list[Region] = Field(
        default_factory=list, description="Default: from the model's region layout."
    )
    model: str = Field(
        default="centralized", description="A library model name (`wanstack models`) or a file."
    )
    placement: dict[Service, list[Name]] = Field(
        default_factory=dict, description="Put a service at these sites instead of where the model says."
    )
    messaging: Messaging = Field(default_factory=Messaging)
    openstack: OpenStack = Field(
        default_factory=OpenStack, description="The release and the settings its workflows follow."
    )
    workload: Workload = Field(default_factory=Workload)
    quotas: Quotas = Field(
        default_factory=Quotas, description="Projects with limits across every region, and how they hold."
    )
    background: Background = Field(default_factory=Background)
    faults: list[Fault] = Field(default_factory=list)
    stations: dict[str, StationSize] = Field(
        default_factory=dict,
        description="Override the simulator's worker counts / service times per station kind "
        "(keystone, nova-api, nova-conductor, neutron-server, rpc-broker, router, …).",
    )
    run: RunSettings = Field(default_factory=RunSettings)
    sla: dict[Annotated[str, Field(pattern=SLA_OPERATION)], Criteria] = Field(
        default_factory=dict,
        description="Pass/fail criteria per operation (or `*`), checked after the run; "
        "`wanstack run` exits 1 when one fails, and `wanstack compare` ranks the runs by it (fewest "
        "criteria failed first). E.g. `boot: {p95_s: 5, failure_rate_pct: 1}`.",
    )
