"""What users and services do: operations (Rally-style `times` × `concurrency`, or Poisson arrivals)
and the periodic background traffic every host sends."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from wanstack.scenario.infrastructure import DEFAULT_IMAGES, Image, Name, StrictModel
from wanstack.scenario.units import Seconds


class OperationKind(StrEnum):
    BOOT = "boot"
    DELETE = "delete"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    LIVE_MIGRATE = "live-migrate"
    NETWORK_CREATE = "network-create"
    PORT_CREATE = "port-create"
    # A quota claim on its own, as a quota service's clients make it (no server is built): a claim
    # storm for the `quotas:` modes, released after `hold_s`.
    CLAIM = "claim"


class Observer(StrEnum):
    """Who sees an operation end (`wanstack.scenario.rally` for how Rally does)."""

    API = "api"  # the service's own completion: the state the client waits for is written
    RALLY = "rally"  # as Rally reports it: its pre-poll delay, poll interval and a token per iteration


class Flavor(StrictModel):
    # m1.tiny of devstack's default flavors (1 vCPU, 512 MB RAM, 1 GB disk), the flavor CirrOS boots with.
    vcpus: int = Field(default=1, ge=1)
    ram_mb: int = Field(default=512, ge=1)
    disk_gb: int = Field(default=1, ge=0)


class Operation(StrictModel):
    """One kind of user operation. Either `times` × `concurrency` (Rally's constant runner) or an
    arrival `rate_per_s` (Poisson) over the run."""

    op: OperationKind
    times: int | None = Field(default=None, ge=1, description="How many operations in all (Rally `times`).")
    concurrency: int = Field(default=1, ge=1, description="How many run at once (Rally `concurrency`).")
    rate_per_s: float | None = Field(default=None, gt=0, description="Poisson arrival rate instead of times.")
    sites: list[Name] | None = Field(default=None, description="Target sites (default: every compute site).")
    image: Name = Field(default="cirros", description="Image to boot from (boot only).")
    flavor: Flavor = Field(default_factory=Flavor)
    start_s: Seconds = Field(default=0.0, description="When the first operation starts.")
    project: str | None = Field(
        default=None, description="The `quotas:` project its servers count against (default: the first)."
    )
    hold_s: Seconds | None = Field(
        default=None,
        gt=0,
        description="claim: how long each claimed server is kept before it is released (exponential with "
        "this mean; default: kept).",
    )
    observer: Observer = Field(
        default=Observer.API,
        description="api: until the state the client waits for is written; rally: also as Rally reports it "
        "(`op (rally)`: pre-poll delay, poll interval, a new token per iteration).",
    )

    @model_validator(mode="after")
    def _one_way_to_count(self) -> Operation:
        if (self.times is None) == (self.rate_per_s is None):
            raise ValueError("give exactly one of `times` (with `concurrency`) or `rate_per_s`")
        if self.hold_s is not None and self.op is not OperationKind.CLAIM:
            raise ValueError("`hold_s` is for `op: claim` (a server booted is kept until a delete)")
        return self


class Workload(StrictModel):
    images: list[Image] = Field(default_factory=lambda: list(DEFAULT_IMAGES))
    operations: list[Operation] = Field(default_factory=list)


class Background(StrictModel):
    """Periodic traffic of every host, with OpenStack's default periods."""

    enabled: bool = True
    # nova.conf [DEFAULT] report_interval = 10 s, service_down_time = 60 s (nova/conf/service.py).
    nova_report_interval_s: Seconds = 10.0
    nova_service_down_time_s: Seconds = 60.0
    # ComputeManager.update_available_resource runs every update_resources_interval; 0 (the default,
    # nova/conf/compute.py) means oslo.service's default periodic spacing of 60 s.
    resource_tracker_interval_s: Seconds = 60.0
    # neutron.conf [AGENT] report_interval = 30 s and [DEFAULT] agent_down_time = 75 s
    # (neutron/conf/agent/common.py, neutron/conf/agent/database/agents_db.py).
    neutron_report_interval_s: Seconds = 30.0
    neutron_agent_down_time_s: Seconds = 75.0

    @model_validator(mode="after")
    def _down_time_exceeds_period(self) -> Background:
        if self.enabled and self.nova_service_down_time_s <= self.nova_report_interval_s:
            raise ValueError(
                "nova_service_down_time_s must exceed nova_report_interval_s, or every service flaps"
            )
        if self.enabled and self.neutron_agent_down_time_s <= self.neutron_report_interval_s:
            raise ValueError("neutron_agent_down_time_s must exceed neutron_report_interval_s")
        return self
