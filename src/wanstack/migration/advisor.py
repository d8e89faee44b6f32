"""Should a VM move to another site, and where? A transparent score in seconds of service.

Every term is in seconds of the VM's service over a planning horizon H (default one hour), so they add
up and each can be read on its own:

- gain = H × (1 − s_src / s_dst): the work the VM gets done faster at the destination. A site's speed
  for the VM is s = performance × (1 − ρ), ρ its load (with the VM added at the destination): the
  M/M/1 slowdown 1/(1 − ρ) of a shared server;
- transfer = w_transfer × migration time: the guest runs degraded while its memory is copied
  (w_transfer = 0.1: a tenth of its service lost while pages are tracked and the link is shared);
- downtime = w_downtime × downtime: an outage costs more than its length (w_downtime = 100: clients
  time out, sessions reconnect);
- latency = H × Δrtt / reference: users further away (or nearer) than before, reference = 100 ms of
  round trip per unit of service;
- congestion = w_congestion × bytes × link utilisation: what the migration's bytes take from the
  others on a busy path (seconds per GB at full utilisation);
- distance = w_distance × km: data-sovereignty and operational reach, small by default.

score = gain − transfer − downtime − latency − congestion − distance; the advisor says "don't migrate"
when no allowed destination scores above zero. Constraints: capacity (RAM and vCPUs), anti-affinity
(no VM of the same group there), the VM's maximum downtime and its users' maximum round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wanstack.migration.cost import Guest, MigrationCost, Path, live_migration
from wanstack.migration.settings import MigrationSettings


@dataclass(frozen=True)
class SiteState:
    """A site as the advisor sees it: its load (0..1, the share of its compute in use), its free RAM (MB) and
    vCPUs, its hosts' relative speed, the anti-affinity groups with a VM there, and its total RAM (MB), to add
    the VM's share to the load."""

    name: str
    load: float  # 0..1, share of the site's compute in use
    free_ram_mb: float
    free_vcpus: int
    performance: float = 1.0  # relative speed of its hosts
    groups: frozenset[str] = frozenset()  # anti-affinity groups with a VM there
    ram_mb: float = 1.0  # total, to add the VM's share to the load


@dataclass(frozen=True)
class VmState:
    """The VM to advise on: its id and site, what matters for moving it (`guest`), its vCPUs, its users'
    round trip to each site (ms), the longest downtime it tolerates and the longest round trip its users
    accept (ms), and its anti-affinity group."""

    id: str
    site: str
    guest: Guest
    vcpus: int
    users_rtt_ms: dict[str, float]  # round trip from the VM's users to each site
    max_downtime_ms: float = 1_000.0
    max_users_rtt_ms: float = float("inf")
    group: str | None = None


@dataclass(frozen=True)
class Weights:
    """The score's weights: the horizon H (s), the share of service lost while the memory is copied, the
    cost of a second of downtime (s), the round trip worth one unit of service (ms), the seconds a GB
    moved costs at full link utilisation, and the seconds a km of distance costs."""

    horizon_s: float = 3_600.0
    transfer: float = 0.1
    downtime: float = 100.0
    latency_reference_ms: float = 100.0
    congestion_s_per_gb: float = 1.0
    distance_s_per_km: float = 0.01


@dataclass(frozen=True)
class Candidate:
    """One destination for the VM: its score and each term of it (s of service, a cost negative), the
    migration's cost (None: no spare bandwidth on the path), and whether the constraints allow it (`why_not`
    says why not)."""

    site: str
    score: float
    terms: dict[str, float]
    cost: MigrationCost | None
    allowed: bool
    why_not: str = ""


@dataclass(frozen=True)
class Advice:
    """The advice for a VM: the site to move it to (None: don't migrate), every candidate ranked best first,
    and `reason` saying it in a sentence."""

    vm: str
    move_to: str | None  # None: don't migrate
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def reason(self) -> str:
        if self.move_to:
            return f"move {self.vm} to {self.move_to}"
        if not any(c.allowed for c in self.candidates):
            return f"don't migrate {self.vm}: no destination meets the constraints"
        return f"don't migrate {self.vm}: no destination gains more than the move costs"


@dataclass(frozen=True)
class LinkState:
    """The path from the VM's site to a destination."""

    bandwidth_mbps: float
    rtt_ms: float
    utilisation: float = 0.0
    distance_km: float = 0.0


def advise(
    vm: VmState,
    sites: dict[str, SiteState],
    paths: dict[str, LinkState],
    weights: Weights | None = None,
    settings: MigrationSettings | None = None,
) -> Advice:
    """Rank every other site with a path for `vm` (best first) and pick the best positive one."""
    w = weights or Weights()
    here = sites[vm.site]
    candidates = [
        _candidate(vm, here, sites[name], link, w, settings=settings)
        for name, link in paths.items()
        if name != vm.site and name in sites
    ]
    candidates.sort(key=lambda c: (not c.allowed, -c.score, c.site))
    best = next((c for c in candidates if c.allowed and c.score > 0), None)
    return Advice(vm.id, best.site if best else None, candidates)


def _candidate(
    vm: VmState,
    here: SiteState,
    there: SiteState,
    link: LinkState,
    w: Weights,
    *,
    settings: MigrationSettings | None,
) -> Candidate:
    spare = link.bandwidth_mbps * max(0.0, 1.0 - link.utilisation)
    why_not = ""
    if vm.guest.memory_mb > there.free_ram_mb or vm.vcpus > there.free_vcpus:
        why_not = "not enough free RAM or vCPUs"
    elif vm.group is not None and vm.group in there.groups:
        why_not = f"anti-affinity: group {vm.group} already there"
    elif vm.users_rtt_ms.get(there.name, float("inf")) > vm.max_users_rtt_ms:
        why_not = "too far from the VM's users"
    if spare <= 0:
        return Candidate(there.name, float("-inf"), {}, None, False, why_not or "no spare bandwidth")
    cost = live_migration(vm.guest, Path(spare, link.rtt_ms), settings)
    if not why_not and not cost.converged:
        why_not = "the live migration does not converge"
    elif not why_not and cost.downtime_ms > vm.max_downtime_ms:
        why_not = f"downtime {cost.downtime_ms:.0f} ms over the VM's {vm.max_downtime_ms:.0f} ms"
    load_after = min(0.999, there.load + vm.guest.memory_mb / max(there.ram_mb, 1.0))
    speed_here = here.performance * max(1e-3, 1.0 - here.load)
    speed_there = there.performance * max(1e-3, 1.0 - load_after)
    rtt_here = vm.users_rtt_ms.get(here.name, 0.0)
    rtt_there = vm.users_rtt_ms.get(there.name, rtt_here)
    terms = {
        "gain": w.horizon_s * (1.0 - speed_here / speed_there),
        "transfer": -w.transfer * cost.total_s,
        "downtime": -w.downtime * cost.downtime_ms / 1000.0,
        "latency": -w.horizon_s * (rtt_there - rtt_here) / w.latency_reference_ms,
        "congestion": -w.congestion_s_per_gb * cost.wan_bytes / 1e9 * link.utilisation,
        "distance": -w.distance_s_per_km * link.distance_km,
    }
    return Candidate(there.name, sum(terms.values()), terms, cost, not why_not, why_not)
