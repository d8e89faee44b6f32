"""Faults scheduled in a run: cut or restore a backbone link, lose or bring back a site or a broker."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from wanstack.scenario.infrastructure import Name, StrictModel
from wanstack.scenario.units import Seconds


class FaultAction(StrEnum):
    CUT_LINK = "cut-link"
    RESTORE_LINK = "restore-link"
    SITE_DOWN = "site-down"
    SITE_UP = "site-up"
    BROKER_DOWN = "broker-down"
    BROKER_UP = "broker-up"
    # The site's L2 agents stop (their processes die): no more state reports, so after
    # agent_down_time neutron-server sees them dead and ML2/OVS binds no port to their hosts.
    AGENT_DOWN = "agent-down"
    AGENT_UP = "agent-up"

    @property
    def targets_link(self) -> bool:
        return self in (FaultAction.CUT_LINK, FaultAction.RESTORE_LINK)


class Fault(StrictModel):
    at_s: Seconds = Field(description="Simulated time of the fault, in seconds from the start.")
    action: FaultAction
    link: tuple[Name, Name] | None = Field(default=None, description="[a, b] for cut-link / restore-link.")
    site: Name | None = Field(default=None, description="Site for site-*, broker-* and agent-* actions.")

    @model_validator(mode="after")
    def _target_matches_action(self) -> Fault:
        if self.action.targets_link and (self.link is None or self.site is not None):
            raise ValueError(f"{self.action} needs `link: [a, b]` and no `site`")
        if not self.action.targets_link and (self.site is None or self.link is not None):
            raise ValueError(f"{self.action} needs `site: NAME` and no `link`")
        return self
