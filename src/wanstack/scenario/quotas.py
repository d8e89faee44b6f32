"""The `quotas:` section of a scenario: projects with limits that hold across every region, and how
each project's limits are enforced (`QuotaMode`; the rules themselves are `multiregion.quota`)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from wanstack.scenario.infrastructure import StrictModel
from wanstack.scenario.units import Seconds


class QuotaMode(StrEnum):
    # One synchronous ledger at the top site: exact, a round trip per claim, refused when cut off.
    CENTRAL = "central"
    # Keystone unified limits with oslo.limit: limits per region only, checked at Keystone (twice per
    # boot with nova's recheck), fail-closed.
    UNIFIED_LIMITS = "unified-limits"
    # Kingbird's periodic sync (900 s): every region may use the whole headroom between syncs.
    KINGBIRD = "kingbird"
    # Region shares of the limit (escrow / demarcation protocol): claims decided locally.
    ESCROW = "escrow"
    # Escrow shares under leases: a cut-off region's share is taken back after the term + skew.
    LEASE = "lease"
    # Escrow with a fixed slack per region: at most L + floor(epsilon L), fewer refusals.
    ESCROW_EPSILON = "escrow-epsilon"


class Holders(StrEnum):
    """Who holds a share of a project's limit: each region of the deployment model, or each site
    with compute hosts (shares down the site hierarchy, for one-region models spread over sites)."""

    REGION = "region"
    SITE = "site"


class QuotaLimits(StrictModel):
    """Global limits of one project, across every region (nova's quota names)."""

    instances: int | None = Field(default=None, ge=0)
    cores: int | None = Field(default=None, ge=0)
    ram_mb: int | None = Field(default=None, ge=0)

    def items(self) -> list[tuple[str, int]]:
        return [
            (k, v)
            for k, v in (("instances", self.instances), ("cores", self.cores), ("ram_mb", self.ram_mb))
            if v is not None
        ]


class LeaseSettings(StrictModel):
    term_s: Seconds = Field(default=60.0, gt=0, description="How long a share is held without renewal.")
    skew_s: Seconds = Field(default=1.0, description="The most a region's clock may lag the coordinator's.")
    allowance: int = Field(
        default=0,
        ge=0,
        description="How far a region's usage may grow above its usage at its last renewal, releases giving "
        "back (0: an even share, the limit over the holders rounded up: refuses nothing escrow would grant "
        "while nothing is cut off).",
    )


class ProjectQuota(StrictModel):
    name: str = Field(min_length=1)
    limits: QuotaLimits
    mode: QuotaMode = QuotaMode.ESCROW
    holders: Holders = Holders.REGION
    epsilon: float = Field(default=0.05, gt=0, le=1, description="escrow-epsilon: the slack, × the limit.")
    rebalance_s: Seconds = Field(default=10.0, gt=0, description="How often shares are rebalanced.")
    lease: LeaseSettings = Field(default_factory=LeaseSettings)
    keystone_round_trips: int = Field(
        default=3, ge=1, description="unified-limits: round trips to Keystone per check (oslo.limit)."
    )

    @model_validator(mode="after")
    def _some_limit(self) -> ProjectQuota:
        if not self.limits.items():
            raise ValueError(f"project {self.name!r} sets no limit (instances, cores or ram_mb)")
        return self

    @model_validator(mode="after")
    def _lease_outlasts_its_renewal(self) -> ProjectQuota:
        # A lease is renewed at each rebalancing: one shorter would lapse between two renewals and
        # refuse claims with nothing failing.
        if self.mode is QuotaMode.LEASE and self.lease.term_s <= self.rebalance_s:
            raise ValueError(
                f"project {self.name!r}: lease.term_s ({self.lease.term_s:g} s) must exceed rebalance_s "
                f"({self.rebalance_s:g} s), the period its leases are renewed at"
            )
        return self


class Quotas(StrictModel):
    projects: list[ProjectQuota] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Quotas:
        names = [p.name for p in self.projects]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"project named twice: {', '.join(twice)}")
        return self
