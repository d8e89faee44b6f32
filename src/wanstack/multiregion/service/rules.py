"""The quota service's protocol as pure rules (no I/O, no clock of its own): what a region decides on
a claim, what the coordinator answers to a region's sync, and how a region applies the answer. The
stores (`store.py`) keep these records in a database; the property tests drive them with lost and
delayed messages.

Every move is started by a region (a sync every `rebalance_s`, carrying what it holds and uses), so
a site behind a NAT or a cut link needs no inbound call, and every rule keeps one invariant:

    pool + Σ granted_i = L     and     share_i ≤ granted_i     hence     Σ used_i ≤ L

- Lowering (demarcation protocol, Barbará & Garcia-Molina, VLDB J. 3(3), 1994): the coordinator asks
  a region to lower its share; the region lowers at once (always safe); the coordinator puts the
  difference in its pool only when a later sync reports it done.
- Raising: the coordinator takes from its pool first, counts it as granted, then tells the region,
  which raises on receipt. An answer lost on the way is sent again until a sync acknowledges its
  sequence number; a region applies each number once.
- Leases (Gray & Cheriton, SOSP 1989; Mobisnap's time-limited escrow reservations, Preguiça et al.,
  MobiSys 2003): an answer is a lease of `term_s` counted from when the region *sent* its sync, and
  lets its usage rise at most `allowance` above what it was when it sent that sync (net of releases:
  a server deleted gives its room back, as in the simulator's `multiregion.quota.Lease`). Whatever the
  clocks do, a region has then used at most what its newest sync reported plus one allowance (a sync
  overtaken on the way by a newer one is ignored), so `term_s + skew_s` after the coordinator last
  answered a region it takes the rest of that region's share back into its pool, and tells the
  region to lower when it is heard from again. The wait spares a region that is merely late; the
  term bounds how long a cut-off site keeps booting within its allowance.
- Epsilon: a fixed slack per region beyond its share, never moved: Σ used ≤ L + Σ slack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from wanstack.multiregion.quota import even_split


class Op(StrEnum):
    """What the coordinator tells a region to do with its share."""

    NONE = "none"
    RAISE = "raise"  # share += value
    LOWER_TO = "lower_to"  # share := max(used, min(share, value))
    UNLIMITED = "unlimited"  # the limit was removed


@dataclass
class RegionShare:
    """What a region holds of one project's limit on one resource."""

    share: int | None = None  # None: no limit known (unlimited)
    used: int = 0
    slack: int = 0  # escrow-epsilon's fixed excess
    applied_seq: int = 0
    claimed_total: int = 0  # every amount ever claimed (the lease's allowance counts from a snapshot)
    lease_until: float | None = None  # the region's clock; None: no lease (escrow)
    lease_base: int = 0  # `used` when the sync that gave the lease was sent
    allowance: int | None = None  # per lease; None: no lease

    def room(self, now: float) -> float:
        """How much may be claimed now."""
        if self.share is None:
            return math.inf
        room = float(self.share + self.slack - self.used)
        if self.allowance is not None:
            if self.lease_until is None or now >= self.lease_until:
                return 0.0
            room = min(room, self.lease_base + self.allowance - self.used)
        return room

    def why_not(self, amount: int, now: float) -> str:
        """'' when `amount` may be claimed now, else why not."""
        if amount <= self.room(now):
            return ""
        if self.allowance is not None and (self.lease_until is None or now >= self.lease_until):
            return "the region's lease has expired (the coordinator has not been heard from)"
        return "the region's share is used up"

    def take(self, amount: int) -> None:
        self.used += amount
        self.claimed_total += amount

    def give_back(self, amount: int) -> None:
        self.used = max(0, self.used - amount)


@dataclass(frozen=True)
class Report:
    """One row of a region's sync: what it held and used when it sent it."""

    share: int | None
    used: int
    applied_seq: int
    sync_no: int  # the region's count of syncs sent: a late request overtaken by a newer one is stale


@dataclass(frozen=True)
class Instruction:
    """The coordinator's answer to a sync: the instruction's sequence number (a region applies each once),
    what to do with the share and by how much, the region's fixed slack (escrow-epsilon), and its lease's
    allowance (None: no lease)."""

    seq: int = 0
    op: Op = Op.NONE
    value: int = 0
    slack: int = 0
    allowance: int | None = None  # the lease's allowance (None: no lease)


def apply(
    row: RegionShare, answer: Instruction, *, sent_at: float, used_at_send: int, term_s: float | None
) -> None:
    """A region applies the coordinator's answer to the sync it sent at `sent_at` (its clock), when
    its claims had reached `used_at_send`."""
    if answer.seq > row.applied_seq:
        match answer.op:
            case Op.RAISE:
                row.share = (row.share or 0) + answer.value
            case Op.LOWER_TO:
                current = row.share if row.share is not None else answer.value
                row.share = max(row.used, min(current, answer.value))
            case Op.UNLIMITED:
                row.share = None
        row.applied_seq = answer.seq
    if row.share is None:
        row.lease_until, row.allowance, row.slack = None, None, 0
        return
    row.slack = answer.slack
    row.allowance = answer.allowance
    if term_s is not None and answer.seq == row.applied_seq:
        # Only an answer the region is up to date with renews: one it applied, or a repeat.
        row.lease_until = sent_at + term_s
        row.lease_base = used_at_send


@dataclass
class Grant:
    """What the coordinator accounts to one region for one project's resource."""

    granted: int = 0
    reported_share: int | None = None
    reported_used: int = 0
    heard_at: float | None = None  # the coordinator's clock at the last sync it answered
    issued_seq: int = 0
    outstanding: Instruction = field(default_factory=Instruction)
    sync_no: int = 0  # the newest sync answered

    @property
    def free(self) -> int:
        """Headroom the region holds or is about to (granted counts what is on its way to it)."""
        return max(0, self.granted - self.reported_used)


@dataclass(frozen=True)
class Policy:
    """How the coordinator shares a limit: the regions' sync period (s), the lease's term (None: no leases)
    and the clock skew allowed beyond it (s), a lease's allowance as a part of an even share, and
    escrow-epsilon's slack as a part of the limit."""

    rebalance_s: float = 10.0
    term_s: float | None = None  # lease mode
    skew_s: float = 1.0
    # Per lease: the part of an even share a region's usage may rise by. An even share (1.0, rounded up)
    # is the smallest that never binds while every region is heard from: a rebalancing leaves each
    # region at most ⌈L/N⌉ above its usage (docs/multiregion.md, "What the quota figures mean").
    allowance_share: float = 1.0
    epsilon: float = 0.0

    def fresh_after(self) -> float:
        """A region not heard from for this long takes no part in sharing the free headroom."""
        return 3 * self.rebalance_s


@dataclass
class Book:
    """The coordinator's account of one project's limit on one resource."""

    limit: int
    pool: int
    grants: dict[str, Grant]
    created_at: float = 0.0

    @classmethod
    def new(cls, limit: int, regions: list[str], now: float = 0.0) -> Book:
        return cls(limit, limit, {r: Grant() for r in regions}, now)

    def set_limit(self, limit: int) -> None:
        self.pool += limit - self.limit
        self.limit = limit

    def slack(self, region: str, policy: Policy) -> int:
        names = sorted(self.grants)
        parts = even_split(math.floor(policy.epsilon * self.limit), len(names))
        return parts[names.index(region)]

    def allowance(self, policy: Policy) -> int | None:
        if policy.term_s is None:
            return None
        return max(1, math.ceil(self.limit / len(self.grants) * policy.allowance_share))

    def _issue(self, grant: Grant, op: Op, value: int) -> None:
        grant.issued_seq += 1
        grant.outstanding = Instruction(grant.issued_seq, op, value)

    def sync(self, region: str, report: Report, now: float, policy: Policy) -> Instruction:
        """The answer to `region`'s sync."""
        grant = self.grants[region]
        if report.sync_no <= grant.sync_no:
            # Sent before one already answered (delayed on the way): what it reports is older than
            # what the coordinator knows, and the lease counts from the newer one. Nothing changes.
            return self._answer(region, grant, policy)
        grant.sync_no = report.sync_no
        # A region that applied numbers this book never issued (the limit was deleted and made again):
        # number on from the region's.
        grant.issued_seq = max(grant.issued_seq, report.applied_seq)
        if report.applied_seq >= grant.issued_seq:
            # Up to date: what it holds now is what it is granted (a lowering confirmed returns to
            # the pool; a region holding more than granted — restored from an old backup — is taken
            # from the pool so the books still add up).
            share = report.share or 0
            self.pool += grant.granted - share
            grant.granted = share
        grant.reported_share, grant.reported_used, grant.heard_at = report.share, report.used, now
        if report.applied_seq >= grant.issued_seq:
            self._rebalance(region, grant, report, now, policy)
        return self._answer(region, grant, policy)

    def _answer(self, region: str, grant: Grant, policy: Policy) -> Instruction:
        last = grant.outstanding  # sent again until a sync acknowledges it
        return Instruction(last.seq, last.op, last.value, self.slack(region, policy), self.allowance(policy))

    def _rebalance(self, region: str, grant: Grant, report: Report, now: float, policy: Policy) -> None:
        # Who shares the free headroom: the regions heard from lately — and, while the limit is new,
        # those not heard from yet (else the first region to sync would take it all).
        young = now - self.created_at <= policy.fresh_after()
        takers = [
            r
            for r, g in self.grants.items()
            if r == region
            or (g.heard_at is None and young)
            or (g.heard_at is not None and now - g.heard_at <= policy.fresh_after())
        ]
        # A pool below zero (the limit lowered under what is granted) is owed by the regions first.
        free = self.pool + sum(self.grants[r].free for r in takers)
        part = max(0, free) // len(takers)
        share = report.share or 0
        base = report.used if share >= report.used else share  # in debt (epsilon): keep the share
        target = base + part
        if report.share is not None and target < share:
            self._issue(grant, Op.LOWER_TO, target)
        elif target > share or report.share is None:
            raise_by = min(target - share, max(0, self.pool))
            if raise_by > 0 or report.share is None:
                self.pool -= raise_by
                grant.granted += raise_by
                self._issue(grant, Op.RAISE, raise_by)

    def reclaim(self, now: float, policy: Policy) -> None:
        """Lease mode: take back what a region not heard from for a term plus the skew cannot have
        used (all above its usage at its last sync plus one term's allowance)."""
        allowance = self.allowance(policy)
        if policy.term_s is None or allowance is None:
            return
        for grant in self.grants.values():
            if grant.heard_at is None or now < grant.heard_at + policy.term_s + policy.skew_s:
                continue
            most = grant.reported_used + allowance
            if grant.granted > most:
                self.pool += grant.granted - most
                grant.granted = most
                self._issue(grant, Op.LOWER_TO, most)

    def unlimited(self) -> None:
        for grant in self.grants.values():
            self._issue(grant, Op.UNLIMITED, 0)

    def stranded(self, now: float, policy: Policy) -> int:
        """Free share held by regions not heard from lately: headroom nobody else can use now."""
        return sum(
            g.free
            for g in self.grants.values()
            if g.heard_at is None or now - g.heard_at > policy.fresh_after()
        )
