"""The quota service's protocol (`multiregion/service/rules.py`) under lost, late and reordered
messages and slow clocks: regions claim and release, sync with the coordinator whenever they like,
and every request and answer may be dropped or held back. The global limit must hold at every step
(plus ε's slack), and the coordinator's books must always add up to the limit."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from wanstack.multiregion.service.rules import Book, Instruction, Policy, RegionShare, Report, apply

REGIONS = ["r0", "r1", "r2"]
LIMIT = 12


@dataclass
class Pending:
    region: str
    report: Report
    sent_at: float  # the region's clock
    used_at_send: int
    answer: Instruction | None = None


@dataclass
class World:
    policy: Policy
    book: Book = field(default_factory=lambda: Book.new(LIMIT, REGIONS))
    # The regions know the project is limited (a new limit takes hold at each region at its next sync).
    rows: dict[str, RegionShare] = field(default_factory=lambda: {r: RegionShare(share=0) for r in REGIONS})
    claims: dict[str, list[int]] = field(default_factory=lambda: {r: [] for r in REGIONS})
    syncs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REGIONS, 0))
    in_flight: list[Pending] = field(default_factory=list)
    now: float = 0.0  # real time = the coordinator's clock

    def clock(self) -> float:
        # The regions' clocks run slow by the most the skew allows over one term: a lease of term_s
        # by a region's clock lasts term_s + skew_s of real time.
        term = self.policy.term_s or 1.0
        return self.now * term / (term + self.policy.skew_s)

    def step(self, action: tuple[str, int, int]) -> None:
        kind, i, amount = action
        region = REGIONS[i % len(REGIONS)]
        row = self.rows[region]
        match kind:
            case "claim":
                if not row.why_not(amount, self.clock()):
                    row.take(amount)
                    self.claims[region].append(amount)
            case "release":
                if self.claims[region]:
                    row.give_back(self.claims[region].pop(amount % len(self.claims[region])))
            case "send":
                self.syncs[region] += 1
                report = Report(row.share, row.used, row.applied_seq, self.syncs[region])
                self.in_flight.append(Pending(region, report, self.clock(), row.used))
            case "serve" | "answer" | "drop" if self.in_flight:
                pending = self.in_flight[amount % len(self.in_flight)]
                if kind == "drop":
                    self.in_flight.remove(pending)
                elif kind == "serve" and pending.answer is None:
                    pending.answer = self.book.sync(pending.region, pending.report, self.now, self.policy)
                elif kind == "answer" and pending.answer is not None:
                    self.in_flight.remove(pending)
                    rows = self.rows[pending.region]
                    apply(
                        rows,
                        pending.answer,
                        sent_at=pending.sent_at,
                        used_at_send=pending.used_at_send,
                        term_s=self.policy.term_s,
                    )
            case "wait":
                self.now += amount
                self.book.reclaim(self.now, self.policy)

    def check(self) -> None:
        slack = sum(r.slack for r in self.rows.values())
        assert sum(r.used for r in self.rows.values()) <= LIMIT + slack
        assert slack <= int(self.policy.epsilon * LIMIT)
        assert self.book.pool + sum(g.granted for g in self.book.grants.values()) == LIMIT


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["claim", "claim", "release", "send", "serve", "answer", "drop", "wait"]),
        st.integers(0, 2),
        st.integers(1, 5),
    ),
    max_size=120,
)
POLICIES = {
    "escrow": Policy(rebalance_s=5),
    "lease": Policy(rebalance_s=5, term_s=8, skew_s=2, allowance_share=0.5),  # 2 of an even 4
    "escrow-epsilon": Policy(rebalance_s=5, epsilon=0.25),
}


def _run(policy: Policy, actions: list[tuple[str, int, int]]) -> World:
    world = World(policy)
    for action in actions:
        world.step(action)
        world.check()
    return world


@settings(max_examples=300, deadline=None)
@given(ACTIONS)
def test_escrow_holds_the_limit_whatever_the_network_does(actions: list[tuple[str, int, int]]) -> None:
    _run(POLICIES["escrow"], actions)


@settings(max_examples=300, deadline=None)
@given(ACTIONS)
def test_leases_hold_the_limit_with_slow_clocks_and_reclaims(actions: list[tuple[str, int, int]]) -> None:
    _run(POLICIES["lease"], actions)


@settings(max_examples=300, deadline=None)
@given(ACTIONS)
def test_epsilon_goes_over_by_its_slack_at_most(actions: list[tuple[str, int, int]]) -> None:
    _run(POLICIES["escrow-epsilon"], actions)


def test_shares_flow_to_where_the_claims_are() -> None:
    """Everything answered: r0 uses all it can, the others release what they do not use, and after
    a dozen rounds of syncs r0 holds nearly the whole limit (each round, the idle regions lower
    to an even part of the free headroom before r0 is raised)."""
    world = World(POLICIES["escrow"])
    for _ in range(12):
        for i in range(3):
            world.step(("send", i, 1))
            world.step(("serve", 0, 0))
            world.step(("answer", 0, 0))
        for _ in range(LIMIT):
            world.step(("claim", 0, 1))
        world.step(("wait", 0, 1))
        world.check()
    assert world.rows["r0"].used >= LIMIT - 2, world.rows


def test_a_cut_off_region_loses_its_share_after_the_lease_but_not_what_it_used() -> None:
    world = World(POLICIES["lease"])
    for i in range(3):
        world.step(("send", i, 1))
        world.step(("serve", 0, 0))
        world.step(("answer", 0, 0))
    assert world.book.grants["r2"].granted == 4  # an even share each
    world.step(("claim", 2, 1))  # r2 uses 1 of its 4 (within one term's allowance), then is cut off
    world.step(("wait", 0, 11))  # past term + skew
    grant = world.book.grants["r2"]
    assert grant.granted == 0 + 2  # its usage at its last sync + one term's allowance
    assert world.book.pool == LIMIT - 3 * 2  # none was heard from: each keeps usage + allowance
    assert world.rows["r2"].why_not(1, world.clock())  # and it can no longer claim by its own clock


def test_a_sync_overtaken_on_the_way_changes_nothing() -> None:
    """r0's sync A is held back on the way while its sync B is answered; A arrives last. Had the
    coordinator taken A's older usage as the newest, it would reclaim down to less than r0 uses, and
    the others could fill the limit on top of it."""
    world = World(POLICIES["lease"])
    for i in range(3):
        world.step(("send", i, 1))
        world.step(("serve", 0, 0))
        world.step(("answer", 0, 0))
    world.step(("send", 0, 1))  # A: r0 uses 0
    late = world.in_flight[0]
    world.step(("claim", 0, 2))
    world.step(("send", 0, 1))  # B: r0 uses 2
    world.step(("serve", 1, 1))
    world.step(("answer", 1, 1))
    world.step(("claim", 0, 2))  # within B's allowance: r0 uses 4
    answer = world.book.sync(late.region, late.report, world.now, world.policy)  # A arrives at last
    assert answer.seq == world.book.grants["r0"].issued_seq
    world.step(("wait", 0, 11))
    assert world.book.grants["r0"].granted >= world.rows["r0"].used == 4
    for _ in range(4):
        for i in (1, 2):
            world.step(("send", i, 1))
            world.step(("serve", 0, 0))
            world.step(("answer", 0, 0))
            for _ in range(3):
                world.step(("claim", i, 1))
            world.check()


def test_a_limit_lowered_under_the_shares_takes_them_back_at_the_next_syncs() -> None:
    world = World(POLICIES["escrow"])
    world.book.set_limit(1000)
    for _ in range(2):
        for i in range(3):
            world.step(("send", i, 1))
            world.step(("serve", 0, 0))
            world.step(("answer", 0, 0))
    assert sum(r.share or 0 for r in world.rows.values()) >= 999  # (one in the pool: 1000 in thirds)
    world.book.set_limit(LIMIT)
    for _ in range(2):
        for i in range(3):
            world.step(("send", i, 1))
            world.step(("serve", 0, 0))
            world.step(("answer", 0, 0))
    assert sum(r.share or 0 for r in world.rows.values()) <= LIMIT
    world.check()


def test_a_region_restarted_counts_its_usage_from_its_claims(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The region's database holds its shares and one row per claim; a new process sums the live
    claims again and holds no lease until the coordinator answers it."""
    from wanstack.multiregion.service.store import RegionStore

    url = f"sqlite:///{tmp_path / 'edge-1.db'}"
    store = RegionStore(url)
    answer = {"project": "p", "resource": "instances", "seq": 1, "op": "raise", "value": 5, "slack": 0}
    store.apply([{**answer, "allowance": 4}], sent_at=0.0, used_at_send={}, term_s=60.0)
    store.set_accepted(True)  # the coordinator answered a sync
    ids = [c.id for c in (store.claim("p", {"instances": 1}, 1.0).claim for _ in range(3)) if c]
    assert len(ids) == 3 and store.release(ids[0]) == "p"
    assert store.claim("p", {"instances": 3}, 1.0).claim is None  # the allowance: 4 per lease
    again = RegionStore(url)
    row = again.rows["p", "instances"]
    assert (row.share, row.used, row.claimed_total, row.applied_seq) == (5, 2, 3, 1)
    assert again.accepted
    assert again.claim("p", {"instances": 1}, 1.0).why == "instances: " + row.why_not(1, 1.0)
    assert "lease" in row.why_not(1, 1.0)
    assert again.release(ids[1]) == "p" and again.release(ids[1]) is None


def test_a_lease_allowance_is_net_of_releases() -> None:
    """A region's usage may rise by the allowance over its usage when it sent its sync: a release gives
    room back (counted on gross claims, a region that booted and deleted its allowance's worth was
    refused until its next renewal)."""
    from wanstack.multiregion.service.rules import Instruction, Op, RegionShare, apply

    row = RegionShare()
    answer = Instruction(seq=1, op=Op.RAISE, value=10, slack=0, allowance=2)
    apply(row, answer, sent_at=0.0, used_at_send=0, term_s=60.0)
    assert row.room(1.0) == 2
    row.take(2)
    assert row.room(1.0) == 0 and row.why_not(1, 1.0)
    row.give_back(2)
    assert row.room(1.0) == 2  # the servers deleted: their room is back
