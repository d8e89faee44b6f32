"""One honest view of everything across regions: every count with the time it was true and where it
came from, totals as an interval, and nothing dropped without saying so.

Where each count comes from (`Source`): `live` when the region answered now; `last known` when it
answered before but cannot be reached now (its count is as of that time, and the interval says what
it may be now: anything from none of them left to as many as its hosts hold); `unreachable` when it
never answered (the interval is all its hosts could hold). In a simulation every site's hosts are
known; in a real cloud (`cloud_inventory`) the upper end is None ("?") unless a bound is known, and
its rows are per project too. Today's tools do otherwise: Nova's
cross-cell listing skips a down cell silently, Kingbird reports 0 for an unreachable region,
openstacksdk's inventory raises on the first failing region or drops it (../shared/multiregion.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    """Where a count comes from: `live`, its region answered now; `last known`, it answered before but not now
    (the count is as of then); `unreachable`, it never answered."""

    LIVE = "live"
    LAST_KNOWN = "last known"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Counts:
    """Servers and what they take: how many, their vCPUs, their RAM (MB). Counts add up field by field."""

    instances: int = 0
    vcpus: int = 0
    ram_mb: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.instances + other.instances, self.vcpus + other.vcpus, self.ram_mb + other.ram_mb)


@dataclass(frozen=True)
class SiteCount:
    """One row of an inventory: a site's servers (or a region's, `site` "", in a real cloud's region not
    answering), where the count comes from, when it was true (s; None: never answered), and what it may be
    now: at least `low`, at most `upper`."""

    region: str
    site: str
    source: Source
    as_of_s: float | None  # when the count was true (None: never answered)
    counts: Counts | None  # None: never answered
    low: Counts  # what it may be now: at least `low`, at most `upper`
    upper: Counts | None  # None: no bound is known (a real region: `cloud_inventory`)
    project: str = ""  # a real cloud's rows are per project ("": every project)

    @property
    def high(self) -> Counts:
        """`upper`, for the callers that always have one (the simulator knows every site's hosts)."""
        if self.upper is None:
            raise ValueError(f"{self.region}/{self.site}: no upper bound is known")
        return self.upper


@dataclass(frozen=True)
class Inventory:
    """Every row at one moment (`at_s`, s) and the totals as an interval: at least `low`, at most `high` (None
    when some row has no known bound); `exact` when every row is live."""

    at_s: float
    rows: tuple[SiteCount, ...]

    @property
    def low(self) -> Counts:
        return sum((r.low for r in self.rows), Counts())

    @property
    def high(self) -> Counts | None:
        """The most there may be now; None when some row has no known bound."""
        uppers = [r.upper for r in self.rows]
        return None if None in uppers else sum((u for u in uppers if u is not None), Counts())

    @property
    def exact(self) -> bool:
        return all(r.source is Source.LIVE for r in self.rows)

    def missing(self) -> list[str]:
        """The sites whose counts are not live, with why."""
        return [f"{r.site} ({r.source.value})" for r in self.rows if r.source is not Source.LIVE]


def site_count(
    region: str,
    site: str,
    *,
    now_s: float,
    answered: tuple[float, Counts] | None,
    live: bool,
    capacity: Counts | None,
    project: str = "",
) -> SiteCount:
    """A site's row: `answered` is its last answer (time, counts), `live` whether it answered now,
    `capacity` the most its hosts can hold (instances of the smallest flavor, vCPUs, RAM; None: not
    known)."""
    if live and answered is not None:
        c = answered[1]
        return SiteCount(region, site, Source.LIVE, now_s, c, c, c, project)
    if answered is None:
        return SiteCount(region, site, Source.UNREACHABLE, None, None, Counts(), capacity, project)
    as_of, counts = answered
    return SiteCount(region, site, Source.LAST_KNOWN, as_of, counts, Counts(), capacity, project)
