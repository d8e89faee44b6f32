"""Sites, backbone links, regions and the generators that write them for large cases."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from wanstack.scenario.units import MegabitsPerSecond, Megabytes, Milliseconds, Percent

Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


class StrictModel(BaseModel):
    """Base of every scenario object: unknown fields are errors, not silently ignored."""

    # allow_inf_nan=False: `.inf` and `.nan` are YAML floats, never a meaningful delay, rate or duration.
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, allow_inf_nan=False)


class Tier(StrEnum):
    """Edge tiers of the OpenStack Edge Computing Group's reference architectures
    (wiki "Edge Reference Architectures"): central DCs (< 10 per operator), regional/edge sites
    (hundreds), far edge / cloudlets (thousands)."""

    CENTRAL = "central"
    REGIONAL = "regional"
    EDGE = "edge"
    FAR_EDGE = "far-edge"

    @property
    def rank(self) -> int:
        """0 for the tier nearest the core; control planes go to the lowest rank."""
        return list(Tier).index(self)


# Illustrative host counts when a site does not say: an edge micro data centre holds up to ~100
# servers (HotEdge 2018, "Edge Computing Resource Management System: a Critical Building Block!");
# smaller tiers hold fewer. They are assumptions, not measurements: write `hosts.count` to override.
DEFAULT_HOSTS_PER_TIER = {Tier.CENTRAL: 50, Tier.REGIONAL: 20, Tier.EDGE: 10, Tier.FAR_EDGE: 2}


class Location(StrictModel):
    lat: float = Field(ge=-90, le=90, description="Latitude in degrees.")
    lon: float = Field(ge=-180, le=180, description="Longitude in degrees.")


class Hosts(StrictModel):
    """The compute hosts of a site, all alike."""

    count: int | None = Field(default=None, ge=0, description="Number of compute hosts (default by tier).")
    vcpus: int = Field(default=32, ge=1, description="vCPUs per host.")
    ram_gb: float = Field(default=256, gt=0, description="RAM per host in GB.")
    disk_gb: float = Field(default=2000, gt=0, description="Local disk per host in GB.")


class Site(StrictModel):
    """One location with its own servers."""

    name: Name
    tier: Tier = Field(description="central, regional, edge or far-edge.")
    location: Location | None = Field(default=None, description="Where it is; links without a delay use it.")
    hosts: Hosts = Field(default_factory=Hosts)
    parent: Name | None = Field(
        default=None, description="The site it hangs from in a hierarchy (used by per-subtree cells/regions)."
    )

    @property
    def host_count(self) -> int:
        return self.hosts.count if self.hosts.count is not None else DEFAULT_HOSTS_PER_TIER[self.tier]


# EnOS examples shape links at 1 Gbit/s (`default_rate: 1gbit`, BeyondTheClouds/enos docs).
DEFAULT_BANDWIDTH_MBPS = 1000.0


class BackboneLink(StrictModel):
    """A WAN link between two sites. Delays are one-way, applied in each direction: RTT = 2 × delay
    (the EnOS convention)."""

    a: Name = Field(description="One end (site name).")
    b: Name = Field(description="Other end (site name).")
    delay_ms: Milliseconds | None = Field(
        default=None, description="One-way delay a→b in ms; derived from distance when left out."
    )
    reverse_delay_ms: Milliseconds | None = Field(
        default=None, description="One-way delay b→a in ms when asymmetric (default: same as delay_ms)."
    )
    # netem(8): without a `distribution`, the delay is uniform in [delay − jitter, delay + jitter]; EnOS
    # sets no distribution. The simulator and the bench relay both follow that rule.
    jitter_ms: Milliseconds = Field(
        default=0.0,
        description="Jitter in ms: each message's one-way delay is uniform in [delay − jitter, "
        "delay + jitter] (netem's default distribution, as EnOS uses it); a route adds its links' draws.",
    )
    bandwidth_mbps: MegabitsPerSecond = Field(
        default=DEFAULT_BANDWIDTH_MBPS,
        description="Capacity in Mbit/s (a plain number), or with a bit unit as tc writes it: 500kbit, "
        "100mbit, 1gbit.",
    )
    loss_pct: Percent = Field(default=0.0, description="Packet loss in percent.")


class LinkDefaults(StrictModel):
    """How links without a delay get one, and what generated links carry."""

    # ITU-T G.114 (05/2003) table A.1: optical fibre systems add 5 µs per km one way.
    fibre_us_per_km: float = Field(default=5.0, gt=0, description="One-way propagation per km of fibre.")
    # Assumed per-link overhead (switching, queueing in routers); not from a source — tune it.
    per_link_ms: Milliseconds = Field(default=0.5, description="Fixed one-way overhead added per link.")
    route_factor: float = Field(
        default=1.0, ge=1.0, description="Fibre route length over great-circle distance (1 = straight)."
    )
    bandwidth_mbps: MegabitsPerSecond = DEFAULT_BANDWIDTH_MBPS
    jitter_ms: Milliseconds = Field(
        default=0.0, description="Jitter of generated links (uniform ±, as netem)."
    )
    loss_pct: Percent = 0.0


class Region(StrictModel):
    """What one control plane manages (one OpenStack deployment, one API endpoint)."""

    name: Name
    sites: list[Name] | Literal["*"] = Field(description="Sites of this region, or '*' for the rest.")
    control_site: Name | None = Field(
        default=None, description="Where the region's control plane runs (default: its most central site)."
    )
    model: str | None = Field(
        default=None, description="Deployment model for this region only (mixes); default: the scenario's."
    )


class StarGenerator(StrictModel):
    """A central site with `edges` edge sites, each on its own link."""

    kind: Literal["star"]
    edges: int = Field(ge=1, le=100_000)
    center: Name = "central"
    edge_tier: Tier = Tier.EDGE
    delay_ms: Milliseconds | None = Field(default=None, description="One-way delay of every spoke.")
    radius_km: float = Field(default=500.0, gt=0, description="Spoke length when no delay is given.")
    hosts: Hosts = Field(default_factory=Hosts, description="Hosts of each edge site.")
    center_hosts: Hosts = Field(default_factory=Hosts)


class HierarchyGenerator(StrictModel):
    """A tree central → regional → edge → far edge."""

    kind: Literal["hierarchy"]
    regional: int = Field(ge=0, le=1000, description="Regional sites under the central site.")
    edge_per_regional: int = Field(default=0, ge=0, le=1000)
    far_edge_per_edge: int = Field(default=0, ge=0, le=1000)
    # One-way delays per level, inside the ranges of the Edge Computing Group's tiers (wiki "Edge
    # Reference Architectures": edge sites a few ms to ~20 ms from users, far edge ~2–10 ms).
    central_regional_ms: Milliseconds = 20.0
    regional_edge_ms: Milliseconds = 10.0
    edge_far_edge_ms: Milliseconds = 5.0
    hosts: dict[Tier, Hosts] = Field(default_factory=dict, description="Hosts per tier.")


class RandomGeometricGenerator(StrictModel):
    """`sites` sites dropped uniformly on a square; sites closer than `radius_km` are linked.
    The site nearest the centre is the central one; delays come from distance."""

    kind: Literal["random-geometric"]
    # A mesh has about 11 links per site at the default radius: 20,000 sites make 220,000 links, built
    # and checked in about 15 s here; 100,000 sites took over a minute and 310 MB before anything ran.
    # Larger topologies: the `hierarchy` generator (a link per site; a million hosts).
    sites: int = Field(ge=2, le=20_000, description="Sites (at most 20,000: use `hierarchy` beyond).")
    side_km: float = Field(default=2000.0, gt=0, description="Side of the square area.")
    radius_km: float | None = Field(default=None, gt=0, description="Link radius (default: connected).")
    seed: int = 0
    regional_fraction: float = Field(default=0.05, ge=0, le=1)
    edge_fraction: float = Field(default=0.35, ge=0, le=1)
    hosts: dict[Tier, Hosts] = Field(default_factory=dict, description="Hosts per tier.")
    origin: Location = Field(default=Location(lat=46.0, lon=2.0), description="South-west corner.")


Generator = Annotated[
    StarGenerator | HierarchyGenerator | RandomGeometricGenerator, Field(discriminator="kind")
]


class Image(StrictModel):
    name: Name
    size_mb: Megabytes


# Image sizes of the EnOS WAN studies (shared domain notes §4): CirrOS ~15 MB, Alpine ~100 MB, Ubuntu ~800 MB.
DEFAULT_IMAGES = (
    Image(name="cirros", size_mb=15),
    Image(name="alpine", size_mb=100),
    Image(name="ubuntu", size_mb=800),
)
