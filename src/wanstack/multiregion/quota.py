"""One global limit across regions, enforced by each mode as its design (or its code) does it: the
pure ledgers, no I/O and no clock of their own, so the simulator, the real service and the property
tests drive the same rules.

A ledger holds one project's limit `L` on one resource across `N` regions. Each region claims and
releases amounts for the servers it boots and deletes; `tick(now, reachable)` runs the periodic work
(Kingbird's sync, the escrow's rebalancing, the leases) with `reachable[i]` telling whether region i
and the coordinator at the top site can talk now. The invariant the property tests hold:
Σ usage ≤ L for `central`, `unified-limits`, `escrow` and `lease`, ≤ L + ⌊εL⌋ for `escrow-epsilon`;
`kingbird` has no bound between its syncs but (N − 1) × the headroom at the last one.

Sources: Kingbird's `kingbird/engine/quota_manager.py` (sync every 900 s; each region's limit set to
the global headroom plus its own usage; a project whose usage cannot be read everywhere is skipped);
Keystone unified limits with oslo.limit (static region limits, a check at Keystone per claim,
fail-closed); the escrow method (O'Neil, ACM TODS 11(4), 1986) and the demarcation protocol
(Barbará & Garcia-Molina, VLDB J. 3(3), 1994: a site may lower its own bound at once, raises only on
receiving what another lowered); leases (Gray & Cheriton, SOSP 1989: a right held until a term,
reclaimed by the grantor after the term plus the clock-drift allowance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from wanstack.scenario.quotas import ProjectQuota, QuotaMode

# Kingbird's sync period (kingbird/common/config.py: `sync_interval` = 900 s).
KINGBIRD_SYNC_S = 900.0


@dataclass(frozen=True)
class Decision:
    """A ledger's answer to a claim: granted or not (`reason` says why not), and the round trips to the top
    site the decision took."""

    granted: bool
    reason: str = ""
    # Round trips to the top site on the claim's path (0: decided at the region itself).
    round_trips: int = 0


@dataclass
class Ledger:
    """What every mode keeps: the limit, each region's usage, and the time of the last tick."""

    limit: int
    regions: int
    usage: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.usage:
            self.usage = [0] * self.regions

    @property
    def total(self) -> int:
        return sum(self.usage)

    def claim(self, region: int, amount: int, now: float, reachable: bool) -> Decision:
        raise NotImplementedError

    def release(self, region: int, amount: int, now: float) -> None:
        """A server deleted: its usage goes at once, wherever the region is (a local decision)."""
        self.usage[region] = max(0, self.usage[region] - amount)

    def tick(self, now: float, reachable: list[bool]) -> None:
        """The mode's periodic work at `now`; by default there is none."""

    def exchange_due(self, now: float) -> bool:
        """Whether `tick(now)` runs the mode's periodic exchange between the holders and the top site
        (Kingbird's sync, the escrow's rebalancing): what a simulation puts on the links for it."""
        return False

    def bound(self) -> float:
        """The most the total usage may ever reach under this mode."""
        return self.limit


@dataclass
class Central(Ledger):
    """One synchronous ledger at the top site: exact, a round trip per claim, refused when cut off."""

    def claim(self, region: int, amount: int, now: float, reachable: bool) -> Decision:
        if not reachable:
            return Decision(False, "the central ledger is unreachable", 1)
        if self.total + amount > self.limit:
            return Decision(False, "over the global limit", 1)
        self.usage[region] += amount
        return Decision(True, "", 1)


def even_split(limit: int, regions: int) -> list[int]:
    """`limit` in `regions` integer parts differing by at most one (the first ones larger)."""
    base, extra = divmod(limit, regions)
    return [base + (1 if i < extra else 0) for i in range(regions)]


@dataclass
class RegionLimited(Ledger):
    """A limit per region, held against that region's own usage (how Nova enforces whatever limit
    it is given: Keystone's per-region limits, the limits Kingbird's sync writes)."""

    region_limits: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.region_limits:
            self.region_limits = even_split(self.limit, self.regions)

    def over(self, region: int, amount: int) -> bool:
        return self.usage[region] + amount > self.region_limits[region]


@dataclass
class UnifiedLimits(RegionLimited):
    """Keystone unified limits as oslo.limit enforces them: a project limit per region (the only kind
    an enforcer sees: `wanstack quota plan` splits the global limit), checked against the region's own
    usage at Keystone — round trips to the top site per check, and nova checks again after the claim
    (`[quota] recheck_quota`); refused when Keystone cannot be reached (fail-closed)."""

    round_trips_per_check: int = 3  # limits model, endpoint, limits (oslo_limit/limit.py, warm token)

    def claim(self, region: int, amount: int, now: float, reachable: bool) -> Decision:
        trips = 2 * self.round_trips_per_check  # the API's check and the conductor's recheck
        if not reachable:
            return Decision(False, "Keystone is unreachable", self.round_trips_per_check)
        if self.over(region, amount):
            return Decision(False, "over the region's limit", self.round_trips_per_check)
        self.usage[region] += amount
        return Decision(True, "", trips)


@dataclass
class Kingbird(RegionLimited):
    """Kingbird's quota sync: every 900 s, when every region's usage could be read, each region's
    limit becomes the global headroom plus its own usage; claims are checked locally against it. A
    region that cannot be read makes the sync skip the project, and every region keeps its limit."""

    period_s: float = KINGBIRD_SYNC_S
    next_sync: float = 0.0

    def claim(self, region: int, amount: int, now: float, reachable: bool) -> Decision:
        if self.over(region, amount):
            return Decision(False, "over the region's limit")
        self.usage[region] += amount
        return Decision(True)

    def exchange_due(self, now: float) -> bool:
        return now >= self.next_sync

    def tick(self, now: float, reachable: list[bool]) -> None:
        if now < self.next_sync:
            return
        self.next_sync = now + self.period_s
        if not all(reachable):
            return  # quota_manager: one region's usage missing skips the project's sync
        headroom = self.limit - self.total
        if headroom <= 0:
            # collections.Counter drops a result of zero or less: the regions keep their limits.
            return
        self.region_limits = [headroom + used for used in self.usage]

    def bound(self) -> float:
        return math.inf


@dataclass
class Transfer:
    """Share on its way from the coordinator to region `to`: `amount`, added to its share when it arrives (at
    `arrives`, s)."""

    to: int
    amount: int
    arrives: float


@dataclass
class Escrow(Ledger):
    """The global limit split into region shares: a claim is decided by its region alone (no WAN
    crossing on the boot's path) within its share. Every `period_s` the coordinator hands the free
    headroom of the regions it can reach, and its pool, out again evenly among them: a share above its
    new value is lowered at once, one below it is raised only when what was sent arrives
    (`transfer_s` later), so shares + pool + what is in transit always add up to the limit, cut or
    not. A cut-off region keeps its share (usable there, stranded for the others)."""

    period_s: float = 10.0
    transfer_s: float = 0.05
    shares: list[int] = field(default_factory=list)
    pool: int = 0
    in_transit: list[Transfer] = field(default_factory=list)
    next_rebalance: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.shares:
            self.shares = even_split(self.limit, self.regions)
            self.pool = 0

    def free(self, region: int) -> int:
        return self.shares[region] - self.usage[region]

    def allowance(self, region: int, now: float) -> int:
        """What region may claim now: its free share."""
        return self.free(region)

    def claim(self, region: int, amount: int, now: float, reachable: bool) -> Decision:
        if amount > self.allowance(region, now):
            return Decision(False, "the region's share is used up")
        self.usage[region] += amount
        return Decision(True)

    def exchange_due(self, now: float) -> bool:
        return now >= self.next_rebalance

    def _deliver(self, now: float) -> None:
        arrived = [t for t in self.in_transit if t.arrives <= now]
        self.in_transit = [t for t in self.in_transit if t.arrives > now]
        for t in arrived:
            self.shares[t.to] += t.amount

    def tick(self, now: float, reachable: list[bool]) -> None:
        self._deliver(now)
        if now < self.next_rebalance:
            return
        self.next_rebalance = now + self.period_s
        takers = [i for i in range(self.regions) if reachable[i]]
        if not takers:
            return
        # The free headroom of the regions it can reach, and the pool, handed out evenly: a region
        # with more than its new share lowers it at once (safe); one with less is raised when what
        # was sent arrives. A region over its share (escrow-epsilon's slack) keeps it and its debt.
        free = self.pool + sum(max(0, self.free(i)) for i in takers)
        targets = {}
        for i, part in zip(takers, even_split(free, len(takers)), strict=True):
            base = self.usage[i] if self.free(i) >= 0 else self.shares[i]
            targets[i] = base + part
        for i, target in targets.items():
            if self.shares[i] > target:
                self.pool += self.shares[i] - target
                self.shares[i] = target
        for i, target in targets.items():
            if self.shares[i] < target:
                self.pool -= target - self.shares[i]
                self.in_transit.append(Transfer(i, target - self.shares[i], now + self.transfer_s))
        self._deliver(now)

    def stranded(self, reachable: list[bool]) -> int:
        """Free share held by regions the coordinator cannot reach: headroom nobody else can use."""
        return sum(max(0, self.free(i)) for i in range(self.regions) if not reachable[i])


@dataclass
class Lease(Escrow):
    """Escrow shares held under a lease of `term_s`, renewed at every rebalancing the region takes part
    in (Gray & Cheriton, SOSP 1989: a right held until its term, which the grantor may hand to others
    once the term and the clocks' drift bound have passed without a renewal).

    The right leased is a bound on the region's usage, as the escrow method and the demarcation
    protocol bound a value (O'Neil, ACM TODS 11(4), 1986: a decrement is granted when the worst case
    stays within bounds, and a committed increment gives its quantity back; Barbará & Garcia-Molina,
    VLDB J. 3(3), 1994: each site keeps its value within its own limit): until its lease is over, by
    its own clock, a region's usage stays within min(its share, its usage at the renewal +
    `allowance_per_term`), and a release gives its amount back to the allowance as to the share. The
    coordinator needs no more to know what a region it cannot reach may hold: its usage at the
    renewal plus the allowance. So, `term_s + skew_s` of its own clock after a region's last renewal
    (its clock may run `skew_s` ahead of the region's), it lowers the region's share to that and
    hands the rest out again.

    Bounds, per region and term: no over-commit (Σ usage ≤ L, whatever the cuts and clocks within the
    skew); a region cut off since its renewal at r strands its free share (as escrow) until r +
    term + skew, and from then at most `allowance_per_term` plus what it released since r. A region
    in reach is refused by the allowance only when its usage would grow more than the allowance
    since its last renewal; as a rebalancing leaves every region it reaches its usage plus an even
    part of the free headroom, at most ⌈L / N⌉ when it reaches them all, the default allowance (0:
    ⌈L / N⌉, an even share) refuses nothing escrow would grant while nothing is cut off — and takes
    back only what a cut-off region holds beyond an even share of headroom. A smaller allowance
    strands less when a region is cut off and refuses claims with room when none is."""

    term_s: float = 60.0
    skew_s: float = 1.0
    allowance_per_term: int = 0  # 0: an even share, ⌈L / N⌉
    renewed_at: list[float] = field(default_factory=list)
    usage_at_renewal: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.allowance_per_term:
            self.allowance_per_term = math.ceil(self.limit / self.regions)
        self.renewed_at = [0.0] * self.regions
        self.usage_at_renewal = list(self.usage)

    def ceiling(self, region: int) -> int:
        """The most `region` may use under its current lease: its usage at the renewal plus the allowance."""
        return self.usage_at_renewal[region] + self.allowance_per_term

    def allowance(self, region: int, now: float) -> int:
        # The region's own clock may read up to skew_s less than the coordinator's: it stops claiming
        # at renewal + term by its clock, which is by renewal + term + skew on the coordinator's.
        if now >= self.renewed_at[region] + self.term_s:
            return 0
        return min(self.free(region), self.ceiling(region) - self.usage[region])

    def claim(self, region: int, amount: int, now: float, reachable: bool) -> Decision:
        if now >= self.renewed_at[region] + self.term_s:
            return Decision(False, "the region's lease has expired")
        if amount > self.free(region):
            return Decision(False, "the region's share is used up")
        if self.usage[region] + amount > self.ceiling(region):
            return Decision(False, "the region's lease allowance is used up")
        self.usage[region] += amount
        return Decision(True)

    def tick(self, now: float, reachable: list[bool]) -> None:
        self._deliver(now)
        for i in range(self.regions):
            if not reachable[i] and now >= self.renewed_at[i] + self.term_s + self.skew_s:
                most = self.ceiling(i)
                if self.shares[i] > most:
                    self.pool += self.shares[i] - most
                    self.shares[i] = most
        due = now >= self.next_rebalance
        super().tick(now, reachable)
        if due:
            for i in range(self.regions):
                if reachable[i]:
                    self.renewed_at[i] = now
                    self.usage_at_renewal[i] = self.usage[i]


@dataclass
class EscrowEpsilon(Escrow):
    """Escrow that may go over a used-up share by a fixed part of `epsilon × limit` per region, never
    moved between regions: Σ usage ≤ Σ shares + ⌊εL⌋ ≤ L + ⌊εL⌋. Trades a bounded over-commit for
    fewer refusals at a region whose share ran out while it is cut off."""

    epsilon: float = 0.05
    slack: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.slack:
            self.slack = even_split(math.floor(self.epsilon * self.limit), self.regions)

    def allowance(self, region: int, now: float) -> int:
        return self.free(region) + self.slack[region]

    def bound(self) -> float:
        return self.limit + math.floor(self.epsilon * self.limit)


def ledger(mode: QuotaMode, limit: int, regions: int, **options: float) -> Ledger:
    """A fresh ledger of `mode` for `limit` over `regions` regions (options: the mode's fields)."""
    kinds: dict[QuotaMode, type[Ledger]] = {
        QuotaMode.CENTRAL: Central,
        QuotaMode.UNIFIED_LIMITS: UnifiedLimits,
        QuotaMode.KINGBIRD: Kingbird,
        QuotaMode.ESCROW: Escrow,
        QuotaMode.LEASE: Lease,
        QuotaMode.ESCROW_EPSILON: EscrowEpsilon,
    }
    return kinds[mode](limit=limit, regions=regions, **options)  # type: ignore[arg-type]


def project_ledgers(project: ProjectQuota, holders: int) -> dict[str, Ledger]:
    """A ledger per limited resource of `project` (instances, cores, ram_mb) over `holders` share
    holders (regions, or sites: `project.holders`), with the project's settings."""
    options: dict[str, float] = {}
    match project.mode:
        case QuotaMode.UNIFIED_LIMITS:
            options = {"round_trips_per_check": project.keystone_round_trips}
        case QuotaMode.ESCROW:
            options = {"period_s": project.rebalance_s}
        case QuotaMode.ESCROW_EPSILON:
            options = {"period_s": project.rebalance_s, "epsilon": project.epsilon}
        case QuotaMode.LEASE:
            options = {
                "period_s": project.rebalance_s,
                "term_s": project.lease.term_s,
                "skew_s": project.lease.skew_s,
                "allowance_per_term": project.lease.allowance,
            }
    return {name: ledger(project.mode, limit, holders, **options) for name, limit in project.limits.items()}
