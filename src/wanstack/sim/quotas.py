"""The scenario's quotas in simulated time: a ledger per project and resource (`multiregion.quota`),
its share holders (the regions, or the sites with compute hosts), the periodic work of its mode every
simulated second with what each holder can reach, and what the run shows about it (`QuotaStats`,
taken at every claim, release and refusal by a `Tally`, the same way for every mode: `quota_tally`).

The periodic work's messages (the escrow's rebalancing, Kingbird's sync) are counted on the links
between each holder and the top site (`Network.account`) but not delivered as events: whether a
holder takes part is what `reachable` says when the work is due, as the ledgers' rules have it, and
a project costs a handful of counter updates per holder and period however large the run.

A claim, from a boot's quota step to its answer, travels as its mode's protocol has it
(`ClaimProtocol`, one per mode, chosen when the keeper is made: `claim_protocol`): to the ledger where
it is decided (`DecidedByLedger`: the central ledger at the top site, or the region's own quota
service), or through Keystone's checks (`KeystoneChecked`: unified limits)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, assert_never

from wanstack.multiregion.quota import Kingbird, Ledger, project_ledgers
from wanstack.results.schema import QuotaStats
from wanstack.results.stats import latency_stats
from wanstack.scenario.quotas import Holders, ProjectQuota, QuotaMode
from wanstack.scenario.services import Service
from wanstack.scenario.workload import Operation as OperationSpec
from wanstack.sim.message import Hop, Message, round_trip
from wanstack.sim.quota_tally import Tally
from wanstack.sim.stations import Station
from wanstack.sim.world import OnWorld

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
        case QuotaMode.KINGBIRD | QuotaMode.ESCROW | QuotaMode.LEASE | QuotaMode.ESCROW_EPSILON:
            return 0  # decided where the claim is made
        case _ as unknown:
            assert_never(unknown)


@dataclass
class Book:
    """One project's ledgers, holders and tallies (each ledger's figures and claim log)."""

    project: ProjectQuota
    holders: list[str]  # the site that speaks for each holder (a region's nova-api site, or the site)
    holder_of: dict[str, int]  # a site's holder
    ledgers: dict[str, Ledger]
    protocol: ClaimProtocol  # how a claim under the project's mode travels and is decided
    tallies: dict[str, Tally] = field(default_factory=dict)
    # Each claim's time from the boot's quota step to its decision (ms), for the whole project.
    granted_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)


@dataclass(kw_only=True)
class QuotaKeeper(OnWorld):
    """The scenario's projects' ledgers in simulated time: the claims and releases of the boots and
    deletes (`request`, `release`), the modes' periodic work (`start`), and the tallies (`results`)."""

    projects: list[ProjectQuota]
    compute_sites: list[str]
    # A request (a claim's, a periodic exchange's: a holder's usage and share per resource, or
    # Kingbird's read or write) and its answer are REST calls like the others (`Params.http_*_bytes`);
    # a claim's own work where its ledger decides it is `Params.quota_claim_ms` for a grant and
    # `quota_refusal_ms` for a refusal (None: as a grant).
    books: dict[str, Book] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
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
            protocol = claim_protocol(project, self.params.quota_claim_ms, self.params.quota_refusal_ms)
            book = Book(project, holders, holder_of, project_ledgers(project, len(holders)), protocol)
            for resource, ledger in book.ledgers.items():
                book.tallies[resource] = Tally(
                    QuotaStats(
                        project=project.name,
                        resource=resource,
                        mode=project.mode.value,
                        limit=ledger.limit,
                        claim_round_trips=claim_round_trips(project),
                    )
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

    def request(
        self,
        book: Book,
        spec: OperationSpec,
        site: str,
        *,
        api: str,
        keystone: tuple[str, Station | None],
        tag: str,
        granted: Callable[[], None],
        refused: Callable[[str], None],
    ) -> None:
        """Claim a server of `spec` booted at `site` under `book`'s mode (`Book.protocol`), from its
        nova-api at `api`, with its region's Keystone (site, station), the messages tagged `tag`;
        then `granted()` or `refused(why)`, the claim's time tallied."""
        started = self.sim.now

        def grant() -> None:
            self.timed(book, self.sim.now - started, granted=True)
            granted()

        def refuse(why: str) -> None:
            self.timed(book, self.sim.now - started, granted=False)
            refused(why)

        book.protocol.claim(Claim(self, book, spec, site, api, keystone, tag, grant, refuse))

    def round_trips(
        self, n: int, hops: tuple[Hop, ...], tag: str, after: Callable[[], None], lost: Callable[[], None]
    ) -> None:
        """`n` requests over `hops`, one after the other, then `after()`; `lost()` at the first lost."""
        left = [n]

        def next_trip(_: Any = None) -> None:
            if left[0] == 0:
                after()
                return
            left[0] -= 1
            message = Message(
                hops=hops,
                nbytes=self.params.http_request_bytes,
                done=next_trip,
                lost=lambda _: lost(),
                tag=tag,
            )
            self.chains.run(message)

        next_trip()

    def claim(self, book: Book, site: str, spec: OperationSpec, reachable: bool) -> str:
        """Claim a server's resources in every ledger of `book`; '' when granted, else why not (what
        was granted in the other ledgers is given back)."""
        now_ms = self.sim.now
        region = self.holder(book, site)
        amounts = self.amounts(spec)
        granted: list[str] = []
        for resource, ledger in book.ledgers.items():
            tally, amount = book.tallies[resource], amounts[resource]
            decision = ledger.claim(region, amount, now_ms / 1000.0, reachable)
            if not decision.granted:
                tally.refused(now_ms, region, amount, ledger.total)
                for back in granted:
                    self._give_back(book, back, region, amounts[back])
                return f"QuotaExceeded ({resource}): {decision.reason}"
            granted.append(resource)
            tally.granted(now_ms, region, amount, ledger.total)
        return ""

    def _give_back(self, book: Book, resource: str, region: int, amount: int) -> None:
        ledger = book.ledgers[resource]
        ledger.release(region, amount, self.sim.now / 1000.0)
        book.tallies[resource].released(self.sim.now, region, amount, ledger.total)

    def release(self, book: Book, site: str, spec: OperationSpec) -> None:
        """A server's resources given back in every ledger of `book` (a delete, a claim's hold over)."""
        region = self.holder(book, site)
        for resource, amount in self.amounts(spec).items():
            if resource in book.ledgers:
                self._give_back(book, resource, region, amount)

    def revoke(self, book: Book, site: str, spec: OperationSpec) -> None:
        """A server granted in every ledger of `book`, given back and refused after all."""
        now_ms = self.sim.now
        region = self.holder(book, site)
        for resource, amount in self.amounts(spec).items():
            if resource in book.ledgers:
                ledger = book.ledgers[resource]
                ledger.release(region, amount, now_ms / 1000.0)
                book.tallies[resource].revoked(now_ms, region, amount, ledger.total)

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
            account(asks, answers, 1.0, self.params.http_request_bytes, SYNC_TAG)
            account(answers, asks, 1.0, self.params.http_response_bytes, SYNC_TAG)

    def _tick(self, _: object = None) -> None:
        now_s = self.sim.now / 1000.0
        for book in self.books.values():
            reachable = self.reachable(book)
            # The ledgers of a project share its period: one exchange carries every resource.
            if next(iter(book.ledgers.values())).exchange_due(now_s):
                self._sync_traffic(book, reachable)
            # The periodic work moves shares and limits, never usage: the tallies need nothing here.
            for ledger in book.ledgers.values():
                ledger.tick(now_s, reachable)
        self.sim.after(TICK_MS, self._tick)

    def results(self) -> list[QuotaStats]:
        """Every ledger's figures, the integrals carried to now (the end of the run)."""
        for book in self.books.values():
            timed = latency_stats(book.granted_ms + book.refused_ms)
            for tally in book.tallies.values():
                tally.close(self.sim.now)
                stats = tally.stats
                stats.claim_ms_count = timed.count
                stats.claim_ms_p50, stats.claim_ms_p95 = timed.p50, timed.p95
                stats.granted_claim_ms_p50 = latency_stats(book.granted_ms).p50
                stats.refused_claim_ms_p50 = latency_stats(book.refused_ms).p50
        return [t.stats for book in self.books.values() for t in book.tallies.values()]


# --- the claim protocols -------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """One claim in progress: its book, the server's spec and site, its nova-api's site and Keystone
    (site, station), the tag of its messages, and what to call with the answer."""

    keeper: QuotaKeeper
    book: Book
    spec: OperationSpec
    site: str
    api: str
    keystone: tuple[str, Station | None]
    tag: str
    granted: Callable[[], None]
    refused: Callable[[str], None]

    def decide(self, reachable: bool) -> str:
        """The ledgers' decision ('' granted, else why not), `reachable`: whether the holder reached
        the ledger's coordinator."""
        return self.keeper.claim(self.book, self.site, self.spec, reachable)


class ClaimProtocol(Protocol):
    """How a claim under one quota mode travels from nova-api and is decided."""

    def claim(self, claim: Claim) -> None:
        """Run `claim` to its end: `claim.granted()` or `claim.refused(why)`, once."""


@dataclass(frozen=True)
class DecidedByLedger:
    """central, kingbird, escrow, lease, escrow-epsilon: the claim goes where its ledger is, which
    decides it. central: the ledger at the top site, `round_trips` from nova-api (none when nova-api
    is there); a claim that cannot reach it is refused at once (fail-closed). The other modes: the
    region's own quota service, no round trip. There the claim's own work is a fixed delay with no
    queue: the check (`check_ms`), then for a grant the claim written (up to `claim_ms`)."""

    round_trips: int
    claim_ms: float
    check_ms: float

    def claim(self, claim: Claim) -> None:
        keeper = claim.keeper
        sim = keeper.sim

        def decide(reachable: bool) -> None:
            why = claim.decide(reachable)
            if why:
                claim.refused(why)
            elif self.claim_ms > self.check_ms:
                sim.after(self.claim_ms - self.check_ms, lambda _: claim.granted())
            else:
                claim.granted()

        def processed() -> None:
            if self.check_ms <= 0.0:
                decide(True)
            else:
                sim.after(self.check_ms, lambda _: decide(True))

        top = keeper.placement.top_site
        if self.round_trips == 0 or top == claim.api:
            processed()
            return
        hops = round_trip(claim.api, top, None)
        keeper.round_trips(self.round_trips, hops, claim.tag, processed, lambda: decide(False))


@dataclass(frozen=True)
class KeystoneChecked:
    """unified-limits: nova-api's check, the Enforcer's `round_trips_per_check` round trips to the
    region's Keystone, then the decision; a server granted is checked again by the conductor
    (`[quota] recheck_quota`) with as many, and given back when Keystone cannot be reached then. A
    refused one stops after the first check. oslo.limit's requests go to Keystone's station even
    when it is at nova-api's own site (over the LAN), and hang across a cut (no timeout by default)."""

    round_trips_per_check: int

    def claim(self, claim: Claim) -> None:
        keeper = claim.keeper
        hops = round_trip(claim.api, *claim.keystone)
        n = self.round_trips_per_check

        def checked() -> None:
            why = claim.decide(True)
            if why:
                claim.refused(why)
                return

            def recheck_lost() -> None:
                keeper.revoke(claim.book, claim.site, claim.spec)
                claim.refused("QuotaExceeded: Keystone unreachable at the recheck")

            keeper.round_trips(n, hops, claim.tag, claim.granted, recheck_lost)

        keeper.round_trips(n, hops, claim.tag, checked, lambda: claim.refused(claim.decide(False)))


def claim_protocol(project: ProjectQuota, claim_ms: float, refusal_ms: float | None) -> ClaimProtocol:
    """The claim protocol of `project`'s mode, a claim's own work taking `claim_ms` where its ledger
    is (`refusal_ms` for a refusal; None: as a grant)."""
    match project.mode:
        case QuotaMode.UNIFIED_LIMITS:
            return KeystoneChecked(project.keystone_round_trips)
        case (
            QuotaMode.CENTRAL
            | QuotaMode.KINGBIRD
            | QuotaMode.ESCROW
            | QuotaMode.LEASE
            | QuotaMode.ESCROW_EPSILON
        ):
            check_ms = claim_ms if refusal_ms is None else min(claim_ms, refusal_ms)
            return DecidedByLedger(claim_round_trips(project), claim_ms, check_ms)
        case _ as unknown:
            assert_never(unknown)
