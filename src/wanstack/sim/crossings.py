"""Count the one-way WAN crossings on an operation's critical path, from the workflow alone.

This is the analytic counterpart of the simulation: for a boot at an edge site in the centralized
model, latency grows by (crossings × one-way delay), which the tests check against the simulator.
A cast counts once, a call or HTTP exchange twice, a bulk transfer twice (request, last byte), a
notification through a remote broker twice (the sender waits for the broker's publisher confirm);
tokens are assumed cached (steady state); parallel branches count their longest; a request made for
every server on the host counts `servers_on_host` times. The critical path ends where the client sees
the operation done (`Visible`). Both the count and `explain`'s table walk the workflow with the one
step interpreter (`steps.walk`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wanstack.scenario.build import Infrastructure
from wanstack.sim import workflows as wf
from wanstack.sim.bus import Buses
from wanstack.sim.message import Hop
from wanstack.sim.params import Params
from wanstack.sim.roles import Roles
from wanstack.sim.steps import Steps, Then, walk
from wanstack.sim.workflows import Role, Step
from wanstack.sim.world import build_world


def _crossing(hops: tuple[Hop, ...]) -> int:
    return sum(1 for hop in hops if hop.src != hop.dst)


@dataclass
class CrossingCounter:
    """`steps.StepHandler[int]`: the context is the count so far."""

    site: str
    roles: Roles
    buses: Buses
    servers_on_host: int = 1  # the operation's own server included
    visible_at: int | None = None  # the count when the client saw the operation done
    # Round trips from nova-api to the top site per quota claim (the scenario's quota mode).
    quota_round_trips: int = 0

    def at(self, role: Role) -> str:
        return self.roles.of(self.site)[role][0]

    def of(self, steps: Sequence[Step]) -> int:
        """The crossings on the critical path of `steps` alone, at this counter's site and settings."""
        return critical_crossings(
            steps,
            self.site,
            self.roles,
            self.buses,
            self.servers_on_host,
            quota_round_trips=self.quota_round_trips,
        )

    def stopped(self, ctx: int) -> bool:
        return False

    def requests(self, step: wf.Http) -> int:
        return self.servers_on_host if step.per_server else 1

    def http(self, step: wf.Http, ctx: int, then: Then[int]) -> None:
        each = 1 if step.answered_later else 2  # the answer of a request answered later is off the path
        then(ctx + each * self.requests(step) * (self.at(step.client) != self.at(step.server)))

    def db(self, step: wf.Db, ctx: int, then: Then[int]) -> None:
        then(ctx + 2 * step.queries * (self.at(step.client) != self.at(step.db)))

    def request(self, step: wf.Call | wf.Cast) -> int:
        return _crossing(self.buses.rpc.request_hops(self.at(step.client), self.at(step.server), None))

    def reply(self, step: wf.Call) -> int:
        return _crossing(self.buses.rpc.reply_hops(self.at(step.server), self.at(step.client)))

    def call(self, step: wf.Call, ctx: int, inner: Steps[int], then: Then[int]) -> None:
        inner(ctx + self.request(step), lambda after: then(after + self.reply(step)))

    def cast(self, step: wf.Cast, ctx: int, then: Then[int]) -> None:
        then(ctx + self.request(step))

    def notify(self, step: wf.Notify, ctx: int, then: Then[int]) -> None:
        # The sender waits for the broker's confirm (`Messaging.notify_confirm_ms`).
        notifications = self.buses.notifications
        sender = self.at(step.sender)
        then(ctx + 2 * (notifications.confirmed and sender != notifications.bus_for(sender)))

    def local(self, step: wf.Local, ctx: int, then: Then[int]) -> None:
        then(ctx)  # work on the host itself

    def authenticate(self, step: wf.Authenticate, ctx: int, then: Then[int]) -> None:
        then(ctx)  # a token still valid (steady state)

    def validate_token(self, step: wf.ValidateToken, ctx: int, then: Then[int]) -> None:
        then(ctx)  # cached by keystonemiddleware (steady state)

    def select_host(self, step: wf.SelectHost, ctx: int, then: Then[int]) -> None:
        then(ctx)  # the scheduler's own filtering

    def fetch_image(self, step: wf.FetchImage, ctx: int, then: Then[int]) -> None:
        then(ctx + 2 * (self.at(Role.GLANCE) != self.site) + 2 * (self.at(Role.IMAGE_STORE) != self.site))

    def migrate_memory(self, step: wf.MigrateMemory, ctx: int, then: Then[int]) -> None:
        then(ctx)  # between two hosts of the site

    def fork(self, step: wf.Parallel, branches: Sequence[Steps[int]], ctx: int, then: Then[int]) -> None:
        longest: list[int] = []
        for branch in branches:
            branch(0, longest.append)
        then(ctx + max(longest, default=0))

    def hold(self, step: wf.Hold, inner: Steps[int], ctx: int, then: Then[int]) -> None:
        inner(ctx, then)  # alone on its host: never waits for the lock

    def quota(self, step: wf.Quota, ctx: int, then: Then[int]) -> None:
        far = self.at(Role.API) != self.roles.placement.top_site
        then(ctx + (2 * self.quota_round_trips * far if step.claim else 0))

    def respond(self, step: wf.Respond, ctx: int, then: Then[int]) -> None:
        then(ctx)  # the answer travels beside the path

    def visible(self, step: wf.Visible, ctx: int, then: Then[int]) -> None:
        if self.visible_at is None:
            self.visible_at = ctx
        then(ctx)


def critical_crossings(
    steps: Sequence[Step],
    site: str,
    roles: Roles,
    buses: Buses,
    servers_on_host: int = 1,
    *,
    quota_round_trips: int = 0,
) -> int:
    """One-way WAN crossings on the critical path of `steps` at `site`, until the client sees the
    operation done, with `servers_on_host` servers on the host (the operation's own included) and
    `quota_round_trips` from nova-api to the top site per quota claim."""
    found: list[int] = []
    counter = CrossingCounter(site, roles, buses, servers_on_host, quota_round_trips=quota_round_trips)
    walk(steps, counter, 0, found.append)
    return found[0] if counter.visible_at is None else counter.visible_at


Row = tuple[str, str, int]  # (indented step description, "from → to" sites, one-way crossings)


@dataclass
class _Rows:
    """`steps.StepHandler[int]` writing `explain`'s table: the context is the indentation depth."""

    counter: CrossingCounter
    rows: list[Row] = field(default_factory=list)

    def _row(self, depth: int, label: str, a: str, b: str, crossings: int) -> None:
        self.rows.append(("  " * depth + label, f"{a} → {b}" if a != b else a, crossings))

    def _plain(self, depth: int, label: str, then: Then[int] | None = None) -> None:
        """A row of `label` that crosses nothing; then on at the same depth (`then`), if given."""
        self.rows.append(("  " * depth + label, "", 0))
        if then is not None:
            then(depth)

    def _own(self, s: Step) -> int:
        return self.counter.of((s,))

    def stopped(self, ctx: int) -> bool:
        return False

    def _exchange(self, s: wf.Http | wf.Call | wf.Cast, depth: int, own: int) -> None:
        at = self.counter.at
        label = f"{type(s).__name__.upper()} {s.client.value} → {s.server.value}: {s.what}"
        self._row(depth, label, at(s.client), at(s.server), own)

    def http(self, step: wf.Http, ctx: int, then: Then[int]) -> None:
        if step.per_server:
            at, n = self.counter.at, self.counter.servers_on_host
            label = f"HTTP ×{n} {step.client.value} → {step.server.value}: {step.what}"
            self._row(ctx, label, at(step.client), at(step.server), self._own(step))
        else:
            self._exchange(step, ctx, self._own(step))
        then(ctx)

    def db(self, step: wf.Db, ctx: int, then: Then[int]) -> None:
        at = self.counter.at
        label = f"DB ×{step.queries} {step.client.value} → {step.db.value}: {step.what}"
        self._row(ctx, label, at(step.client), at(step.db), self._own(step))
        then(ctx)

    def call(self, step: wf.Call, ctx: int, inner: Steps[int], then: Then[int]) -> None:
        self._exchange(step, ctx, self.counter.request(step) + self.counter.reply(step))
        if step.inner:
            inner(ctx + 1, lambda _: then(ctx))
        else:
            then(ctx)

    def cast(self, step: wf.Cast, ctx: int, then: Then[int]) -> None:
        self._exchange(step, ctx, self._own(step))
        then(ctx)

    def notify(self, step: wf.Notify, ctx: int, then: Then[int]) -> None:
        sender = self.counter.at(step.sender)
        bus = self.counter.buses.notifications.bus_for(sender)
        label = f"NOTIFY {step.sender.value} → notification bus: {step.what} (waits for the confirm)"
        self._row(ctx, label, sender, bus, self._own(step))
        then(ctx)

    def local(self, step: wf.Local, ctx: int, then: Then[int]) -> None:
        self._plain(ctx, f"Local: {step.what}", then)

    def authenticate(self, step: wf.Authenticate, ctx: int, then: Then[int]) -> None:
        self._plain(ctx, "Authenticate", then)

    def validate_token(self, step: wf.ValidateToken, ctx: int, then: Then[int]) -> None:
        self._plain(ctx, "ValidateToken", then)

    def select_host(self, step: wf.SelectHost, ctx: int, then: Then[int]) -> None:
        self._plain(ctx, "SelectHost", then)

    def fetch_image(self, step: wf.FetchImage, ctx: int, then: Then[int]) -> None:
        label = "image metadata from glance-api, data from the image store (unless cached)"
        site = self.counter.site
        self._row(ctx, label, site, self.counter.at(Role.IMAGE_STORE), self._own(step))
        then(ctx)

    def migrate_memory(self, step: wf.MigrateMemory, ctx: int, then: Then[int]) -> None:
        self._plain(ctx, "MigrateMemory", then)

    def fork(self, step: wf.Parallel, branches: Sequence[Steps[int]], ctx: int, then: Then[int]) -> None:
        self._plain(ctx, "in parallel (the longest branch counts):")
        for i, (steps, branch) in enumerate(zip(step.branches, branches, strict=True), start=1):
            self.rows.append(("  " * (ctx + 1) + f"branch {i}", "", self.counter.of(steps)))
            branch(ctx + 2, lambda _: None)
        then(ctx)

    def hold(self, step: wf.Hold, inner: Steps[int], ctx: int, then: Then[int]) -> None:
        self._plain(ctx, f"holding the host's {step.lock} (one of {step.slots}):")
        inner(ctx + 1, lambda _: then(ctx))

    def quota(self, step: wf.Quota, ctx: int, then: Then[int]) -> None:
        if step.claim:
            trips = self.counter.quota_round_trips
            label = (
                f"QUOTA claim: {trips} round trip(s) from nova-api to the top site"
                if trips
                else ("QUOTA claim: decided at the region (or no quotas)")
            )
            top = self.counter.roles.placement.top_site
            self._row(ctx, label, self.counter.at(Role.API), top, self._own(step))
            then(ctx)
        else:
            self._plain(ctx, "QUOTA release", then)

    def respond(self, step: wf.Respond, ctx: int, then: Then[int]) -> None:
        self._plain(ctx, "Respond: the user's request answered (beside the path, nobody waits)", then)

    def visible(self, step: wf.Visible, ctx: int, then: Then[int]) -> None:
        self._plain(
            ctx, "— done as the client sees it; what follows loads the links, off the critical path —", then
        )


def step_rows(steps: Sequence[Step], counter: CrossingCounter) -> list[Row]:
    """A row for every step of `steps` at `counter`'s site and settings, nested ones indented, for
    reading (its critical path: `counter.of(steps)`)."""
    writer = _Rows(counter)
    walk(steps, writer, 0, lambda _: None)
    return writer.rows


def layout(infra: Infrastructure, site: str, params: Params | None = None) -> tuple[Roles, Buses]:
    """Who plays each role for operations at `site` (on stations sized by `params` and the scenario),
    and its region's buses, as the deployment model places them: all that counting crossings or
    replaying a workflow needs (the world built, nothing run)."""
    world = build_world(infra, params)
    return world.roles, world.messaging.of(site).buses


def critical_steps(
    steps: Sequence[Step], site: str, roles: Roles, buses: Buses, servers_on_host: int = 1
) -> list[tuple[Step, int]]:
    """The steps on the critical path of `steps` at `site`, in order, each with its own one-way
    crossings, until the client sees the operation done: of parallel branches the one that crosses
    most, a call's inner steps after the call itself; a request made for every server on the host
    once per server."""
    counter = CrossingCounter(site, roles, buses, servers_on_host)

    def own(s: Step) -> int:
        return counter.of((s,))

    def path(seq: Sequence[Step]) -> tuple[list[tuple[Step, int]], bool]:
        out: list[tuple[Step, int]] = []
        for s in seq:
            if isinstance(s, wf.Visible):
                return out, True
            if isinstance(s, wf.Respond):
                continue  # beside the path
            if isinstance(s, wf.Hold):
                held, seen = path(s.steps)
                out += held
                if seen:
                    return out, True
                continue
            if isinstance(s, wf.Parallel):
                branches = [path(b)[0] for b in s.branches]
                out += max(branches, key=lambda b: sum(c for _, c in b), default=[])
            elif isinstance(s, wf.Call):
                inner, seen = path(s.inner)
                # A call whose server makes the state visible: its reply comes after.
                out.append((s, counter.request(s) + (0 if seen else counter.reply(s))))
                out += inner
                if seen:
                    return out, True
            elif isinstance(s, wf.Http) and s.per_server:
                out += [(s, own(s) // servers_on_host)] * servers_on_host
            else:
                out.append((s, own(s)))
        return out, False

    return path(steps)[0]
