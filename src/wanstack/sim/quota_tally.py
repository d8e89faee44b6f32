"""One ledger's figures in a simulated run (`QuotaStats`), taken at every change of its usage and of
its claims' answers, the same way for every quota mode, and the claim log they come from.

The definitions (one project, one resource, limit L; U(t) the total usage, what the ledger has granted
and not had back; the global headroom H(t) = max(0, L − U(t))):

- **over-commit** is U − L when positive: its peak, and its integral over time (unit·s). Usage
  changes only at a grant or a release, so the peak taken there is exact (sampling it once a
  simulated second misses what comes and goes between two samples).
- a claim of `a` **refused with room** is one the limit had room for: U + a ≤ L when it was refused
  (for a grant revoked after the fact, as unified-limits' recheck does when Keystone cannot be reached,
  U after it was given back).
- a holder is **starved** from a refusal with room until its next answer that is not one (a grant,
  or a refusal the limit had no room for either); **stranded headroom** is H while any holder is
  starved, else 0: headroom the limit had while a holder that asked for it could not have it, wherever
  it was held (another region's escrow share, a static per-region limit, the central ledger across a
  cut). Its peak and its integral over time.

So a run has stranded headroom exactly when it refused a claim with room. Everything changes only at
an event of the log (`ClaimEvent`), so these are piecewise constant and computed exactly, in O(1) per
event besides the ledger's own total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from wanstack.results.schema import QuotaStats


class EventKind(StrEnum):
    """What happened to a ledger's claim."""

    GRANT = "grant"  # a claim granted: the usage grows by its amount
    REFUSE = "refuse"  # a claim refused: nothing held
    RELEASE = "release"  # what a claim held given back (a server deleted, a claim's hold over)
    REVOKE = "revoke"  # a granted claim given back and refused after all (unified-limits' recheck)


class ClaimEvent(NamedTuple):
    """One entry of a ledger's claim log: when (simulated ms), what, whose (the holder's index), how much."""

    at_ms: float
    kind: EventKind
    holder: int
    amount: int


@dataclass
class Tally:
    """One ledger's figures (`stats`), moved on at every event of its claims (`granted`, `refused`,
    `released`, `revoked`, each with the ledger's total usage after it), and the log of those events."""

    stats: QuotaStats
    log: list[ClaimEvent] = field(default_factory=list)
    starved: set[int] = field(default_factory=set)  # holders whose last answer was a refusal with room
    since_ms: float = 0.0  # when the current over-commit and stranded headroom began
    over: int = 0
    stranded: int = 0

    def _advance(self, now_ms: float) -> None:
        """The current over-commit and stranded headroom, integrated up to `now_ms`."""
        span_s = (now_ms - self.since_ms) / 1000.0
        self.stats.over_limit_unit_s += self.over * span_s
        self.stats.stranded_unit_s += self.stranded * span_s
        self.since_ms = now_ms

    def _settle(self, total: int) -> None:
        limit = self.stats.limit
        self.over = max(0, total - limit)
        self.stranded = max(0, limit - total) if self.starved else 0
        self.stats.over_commit_peak = max(self.stats.over_commit_peak, self.over)
        self.stats.stranded_peak = max(self.stats.stranded_peak, self.stranded)

    def _refusal(self, holder: int, amount: int, total: int) -> None:
        self.stats.refused += 1
        if total + amount <= self.stats.limit:
            self.stats.refused_with_headroom += 1
            self.starved.add(holder)
        else:
            self.starved.discard(holder)

    def granted(self, now_ms: float, holder: int, amount: int, total: int) -> None:
        """A claim of `amount` by `holder` granted, the ledger's usage now `total`."""
        self._advance(now_ms)
        self.log.append(ClaimEvent(now_ms, EventKind.GRANT, holder, amount))
        self.stats.claims += 1
        self.stats.peak_usage = max(self.stats.peak_usage, total)
        self.starved.discard(holder)
        self._settle(total)

    def refused(self, now_ms: float, holder: int, amount: int, total: int) -> None:
        """A claim of `amount` by `holder` refused, the ledger's usage `total`."""
        self._advance(now_ms)
        self.log.append(ClaimEvent(now_ms, EventKind.REFUSE, holder, amount))
        self.stats.claims += 1
        self._refusal(holder, amount, total)
        self._settle(total)

    def released(self, now_ms: float, holder: int, amount: int, total: int) -> None:
        """`amount` given back by `holder`, the ledger's usage now `total`."""
        self._advance(now_ms)
        self.log.append(ClaimEvent(now_ms, EventKind.RELEASE, holder, amount))
        self._settle(total)

    def revoked(self, now_ms: float, holder: int, amount: int, total: int) -> None:
        """A claim of `amount` granted to `holder` given back and refused after all, the ledger's usage
        now `total` (its grant was counted as a claim already)."""
        self._advance(now_ms)
        self.log.append(ClaimEvent(now_ms, EventKind.REVOKE, holder, amount))
        self._refusal(holder, amount, total)
        self._settle(total)

    def close(self, end_ms: float) -> None:
        """The integrals carried to the end of the run."""
        self._advance(end_ms)
