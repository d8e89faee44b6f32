"""The scenario's quotas in simulated time: a ledger per project and resource (`multiregion.quota`),
its share holders (the regions, or the sites with compute hosts), the periodic work of its mode every
simulated second with what each holder can reach, and what the run shows about it (`QuotaStats`).

The periodic work's messages (the escrow's rebalancing, Kingbird's sync) are counted on the links
between each holder and the top site (`Network.account`) but not delivered as events: whether a
holder takes part is what `reachable` says when the work is due, as the ledgers' rules have it, and
a project costs a handful of counter updates per holder and period however large the run."""

from __future__ import annotations

from dataclasses import dataclass, field

from wanstack.multiregion.quota import Escrow, Kingbird, Ledger, project_ledgers
from wanstack.results.schema import QuotaStats
from wanstack.results.stats import latency_stats
from wanstack.scenario.placement import Placement
from wanstack.scenario.quotas import Holders, ProjectQuota, QuotaMode
from wanstack.scenario.services import Service
from wanstack.scenario.workload import Operation as OperationSpec
from wanstack.sim.kernel import Simulator
from wanstack.sim.network import Network

TICK_MS = 1000.0
# The traffic class of the modes' periodic messages (`Network.wan_bytes_by_tag`).
SYNC_TAG = "quota-sync"


def claim_round_trips(project: ProjectQuota) -> int:
    """Round trips from a region's nova-api to the top site per claim under `project`'s mode."""
    match project.mode:
        case QuotaMode.CENTRAL:
            return 1
        case QuotaMode.UNIFIED_LIMITS:
            return 2 * project.keystone_round_trips  # the API's check and the conductor's recheck
        case _:
            return 0  # decided where the claim is made


@dataclass
class Book:
    """One project's ledgers, holders and tallies."""

    project: ProjectQuota
    holders: list[str]  # the site that speaks for each holder (a region's nova-api site, or the site)
    holder_of: dict[str, int]  # a site's holder
    ledgers: dict[str, Ledger]
    stats: dict[str, QuotaStats] = field(default_factory=dict)
    # Each claim's time from the boot's quota step to its decision (ms), for the whole project.
    granted_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)


@dataclass
class QuotaKeeper:
    sim: Simulator
    net: Network
    placement: Placement
    projects: list[ProjectQuota]
    compute_sites: list[str]
    # The size of a periodic exchange's request (a holder's usage and share per resource, or
    # Kingbird's read or write) and of its answer: REST calls like the others (`Params`).
    request_bytes: float
    response_bytes: float
    books: dict[str, Book] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for project in self.projects:
            if project.holders is Holders.SITE:
                holders = list(self.compute_sites)
                holder_of = {site: i for i, site in enumerate(holders)}
            else:
                regions = self.placement.regions
                holders = [
                    self.placement.serving(Service.NOVA_API, r.sites[0]) or r.sites[0] for r in regions
                ]
                index = {r.name: i for i, r in enumerate(regions)}
                holder_of = {site: index[region] for site, region in self.placement.region_of.items()}
            book = Book(project, holders, holder_of, project_ledgers(project, len(holders)))
            for resource, ledger in book.ledgers.items():
                book.stats[resource] = QuotaStats(
                    project=project.name,
                    resource=resource,
                    mode=project.mode.value,
                    limit=ledger.limit,
                    claim_round_trips=claim_round_trips(project),
                )
            self.books[project.name] = book

    def start(self) -> None:
        if self.books:
            self.sim.after(0.0, self._tick)

    # --- the holders -------------------------------------------------------------------------------
    def book_of(self, spec: OperationSpec) -> Book | None:
        name = spec.project or (self.projects[0].name if self.projects else None)
        return self.books.get(name) if name is not None else None

    @staticmethod
    def holder(book: Book, site: str) -> int:
        return book.holder_of.get(site, 0)

    def reachable(self, book: Book) -> list[bool]:
        top = self.placement.top_site
        return [self.net.reachable(site, top) for site in book.holders]

    # --- claims and releases ---------------------------------------------------------------------------
    @staticmethod
    def amounts(spec: OperationSpec) -> dict[str, int]:
        return {"instances": 1, "cores": spec.flavor.vcpus, "ram_mb": spec.flavor.ram_mb}

    @staticmethod
    def timed(book: Book, ms: float, granted: bool) -> None:
        """A claim's latency, from the boot's quota step to its answer (granted or refused)."""
        (book.granted_ms if granted else book.refused_ms).append(ms)

    def claim(self, book: Book, site: str, spec: OperationSpec, reachable: bool) -> str:
        """Claim a server's resources in every ledger of `book`; '' when granted, else why not (what
        was granted in the other ledgers is given back)."""
        now_s = self.sim.now / 1000.0
        region = self.holder(book, site)
        amounts = self.amounts(spec)
        granted: list[str] = []
        for resource, ledger in book.ledgers.items():
            stats = book.stats[resource]
            stats.claims += 1
            decision = ledger.claim(region, amounts[resource], now_s, reachable)
            if not decision.granted:
                stats.refused += 1
                if ledger.total + amounts[resource] <= ledger.limit:
                    stats.refused_with_headroom += 1
                for back in granted:
                    book.ledgers[back].release(region, amounts[back], now_s)
                return f"QuotaExceeded ({resource}): {decision.reason}"
            granted.append(resource)
            stats.peak_usage = max(stats.peak_usage, ledger.total)
        return ""

    def release(self, book: Book, site: str, spec: OperationSpec) -> None:
        now_s = self.sim.now / 1000.0
        region = self.holder(book, site)
        amounts = self.amounts(spec)
        for resource, ledger in book.ledgers.items():
            ledger.release(region, amounts[resource], now_s)

    # --- the modes' periodic work and the tallies --------------------------------------------------
    def _sync_traffic(self, book: Book, reachable: list[bool]) -> None:
        """The messages of one round of `book`'s periodic work, on the links between each holder and
        the top site. Escrow, lease, escrow-epsilon: every holder that reaches the top sends its usage
        and share and gets its new share back. Kingbird: the coordinator at the top reads each region's
        usage, and writes every region's new limit only when it could read them all (its sync skips
        the project otherwise). A holder out of reach exchanges nothing."""
        top = self.placement.top_site
        ledger = next(iter(book.ledgers.values()))
        up = [site for site, ok in zip(book.holders, reachable, strict=True) if ok]
        exchanges = [(site, top) for site in up]  # (who asks, who answers)
        if isinstance(ledger, Kingbird):
            exchanges = [(top, site) for site in up] * (2 if len(up) == len(book.holders) else 1)
        account = self.net.account
        for asks, answers in exchanges:
            account(asks, answers, 1.0, self.request_bytes, SYNC_TAG)
            account(answers, asks, 1.0, self.response_bytes, SYNC_TAG)

    def _tick(self, _: object = None) -> None:
        now_s = self.sim.now / 1000.0
        for book in self.books.values():
            reachable = self.reachable(book)
            # The ledgers of a project share its period: one exchange carries every resource.
            if next(iter(book.ledgers.values())).exchange_due(now_s):
                self._sync_traffic(book, reachable)
            for resource, ledger in book.ledgers.items():
                ledger.tick(now_s, reachable)
                stats = book.stats[resource]
                over = ledger.total - ledger.limit
                if over > 0:
                    stats.over_commit_peak = max(stats.over_commit_peak, over)
                    stats.over_limit_unit_s += over * TICK_MS / 1000.0
                if isinstance(ledger, Escrow):
                    stranded = ledger.stranded(reachable)
                    stats.stranded_peak = max(stats.stranded_peak, stranded)
                    stats.stranded_unit_s += stranded * TICK_MS / 1000.0
        self.sim.after(TICK_MS, self._tick)

    def results(self) -> list[QuotaStats]:
        for book in self.books.values():
            timed = latency_stats(book.granted_ms + book.refused_ms)
            for stats in book.stats.values():
                stats.claim_ms_count = timed.count
                stats.claim_ms_p50, stats.claim_ms_p95 = timed.p50, timed.p95
                stats.granted_claim_ms_p50 = latency_stats(book.granted_ms).p50
                stats.refused_claim_ms_p50 = latency_stats(book.refused_ms).p50
        return [s for book in self.books.values() for s in book.stats.values()]
