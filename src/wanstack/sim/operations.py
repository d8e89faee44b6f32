"""Run workflows in the simulator: one `Operation` per user request, its steps walked by the one
step interpreter (`steps.walk`) with this module's meaning of each step (`Runner`).

Failures follow OpenStack's behaviour: a lost RPC call raises MessagingTimeout after
rpc_response_timeout (the operation fails then); an HTTP request with no route fails at once
(connection refused/unreachable); a lost cast leaves the operation hanging until the client's own
timeout (Rally's 300 s), counted as a time-out. The scheduler fails with NoValidHost when every
compute service of the target site is seen as down or has no room.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wanstack.migration.cost import Guest, Path, live_migration
from wanstack.migration.fleet import DIRTY_MEDIAN_MBPS
from wanstack.scenario.rally import RALLY, RallyObservation, rally_sees
from wanstack.scenario.services import Service
from wanstack.scenario.workload import Observer, OperationKind
from wanstack.scenario.workload import Operation as OperationSpec
from wanstack.sim import workflows as wf
from wanstack.sim.background import Liveness
from wanstack.sim.inventory import Inventory
from wanstack.sim.locks import HostLock
from wanstack.sim.message import Done, Hop, Message, round_trip
from wanstack.sim.operation import Operation
from wanstack.sim.quotas import QuotaKeeper
from wanstack.sim.steps import Steps, Then, walk
from wanstack.sim.workflows import Role, Step
from wanstack.sim.world import OnWorld
from wanstack.topology.tcp import LAN_MBPS

# A workflow's steps in the simulator, for the operation they belong to.
Next = Then[Operation]


@dataclass(kw_only=True)
class Runner(OnWorld):
    """Starts operations and gives each step its meaning in simulated time (`steps.StepHandler`)."""

    inventory: Inventory
    liveness: Liveness
    image_bytes: dict[str, float]
    # The operations as the scenario's release and settings run them (`sim.openstack.workflows`).
    workflows: dict[OperationKind, tuple[Step, ...]]
    # A delete nova-api does itself when it sees the compute service down (`openstack.local_delete`).
    local_delete: tuple[Step, ...] = ()
    # Tokens the users at a site hold (until), and those keystonemiddleware caches per (server, site).
    token_expiry: dict[str, float] = field(default_factory=dict)
    token_cache: dict[tuple[str, str], float] = field(default_factory=dict)
    # The scenario's quotas (a keeper of no project when it sets none).
    quotas: QuotaKeeper
    _holds: random.Random | None = None  # how long bare claims keep their servers (`op: claim`)
    # Each compute host's locks, by (site, host, lock).
    locks: dict[tuple[str, int, str], HostLock] = field(default_factory=dict)

    def start(
        self, kind: OperationKind, site: str, spec: OperationSpec, done: Callable[[Operation], None]
    ) -> None:
        op = Operation(kind, site, spec, self.sim.now, done)
        if not self._prepare(op):
            return
        self.sim.after(self.params.operation_timeout_ms, self._timeout, op)
        steps = self.workflows[kind]
        if (
            kind is OperationKind.DELETE
            and self.local_delete
            and not self.liveness.compute_up(op.site, op.start)
        ):
            steps = self.local_delete  # nova-api sees the compute down: no cast, it deletes at once
        walk(steps, self, op, lambda op: self._finish(op, "ok", ""))

    # --- bookkeeping -------------------------------------------------------------------------------
    def _prepare(self, op: Operation) -> bool:
        """Pick the instance an operation acts on (delete, pause, unpause, migrate need one)."""
        if op.kind in (
            OperationKind.DELETE,
            OperationKind.PAUSE,
            OperationKind.UNPAUSE,
            OperationKind.LIVE_MIGRATE,
        ):
            wanted = {OperationKind.UNPAUSE: "paused"}.get(op.kind, "active")
            if op.site:
                instance = self.inventory.take(op.site, wanted)
            else:  # no sites given: the oldest such server wherever it is
                found = self.inventory.take_oldest(wanted)
                op.site, instance = found if found is not None else ("", None)
            if instance is None:
                where = "at the site" if op.site else "at any site"
                self._finish(op, "failed", f"no {wanted} instance {where}")
                return False
            op.instance = instance
            op.host = self.inventory.host_of(instance)
        return True

    def _finish(self, op: Operation, outcome: str, reason: str) -> None:
        if outcome != "ok" and op.holding:
            # Its steps stop here (before or after its client saw it done): the host's locks it held
            # are let go, as nova's `with` blocks do on an exception.
            for lock in op.holding:
                lock.release()
            op.holding = None
        if op.outcome:
            return
        op.outcome, op.reason, op.end = outcome, reason, self.sim.now
        self.inventory.settle(op)
        if outcome == "ok" and op.kind is OperationKind.CLAIM and op.spec.hold_s is not None:
            self._release_later(op, op.spec.hold_s)
        if outcome == "ok" and op.spec.observer is Observer.RALLY and op.kind in RALLY:
            self._rally_poll(op)  # Rally's loop goes on once its poll has seen it
        else:
            op.done(op)

    def _release_later(self, op: Operation, hold_s: float) -> None:
        """A bare claim's server kept an exponential time of mean `hold_s`, then released."""
        keeper = self.quotas
        book = keeper.book_of(op.spec)
        if book is None:
            return
        if self._holds is None:
            self._holds = self.sim.stream("claim-holds")
        kept_ms = self._holds.expovariate(1.0 / (hold_s * 1000.0))
        self.sim.after(kept_ms, lambda _: keeper.release(book, op.site, op.spec))

    def _rally_poll(self, op: Operation) -> None:
        """Rally's first poll that sees the operation done: a GET from the user's site to nova-api,
        started when Rally's pre-poll delay and poll interval have it start (`scenario.rally`)."""
        seconds = RALLY[op.kind]
        every = RallyObservation(seconds.prepoll_s * 1000.0, seconds.interval_s * 1000.0)
        returned = op.returned if op.returned >= 0 else op.start
        roles = self.roles.of(op.site)
        hops = round_trip(roles[Role.USER][0], *roles[Role.API])

        def seen(_: Any) -> None:
            op.rally_end = self.sim.now
            op.done(op)

        def poll(_: Any = None) -> None:
            # An unreachable API: Rally would go on polling until its timeout; the operation is done.
            self._exchange(op, hops, self.params.http_request_bytes, seen, lambda _: op.done(op))

        self.sim.after(rally_sees(every, returned, self.sim.now) - self.sim.now, poll)

    def _fail(self, op: Operation, reason: str) -> Callable[[Any], None]:
        """What fails `op` with `reason` when it is called (a message's `lost`)."""
        return lambda _: self._finish(op, "failed", reason)

    def _timeout(self, op: Operation) -> None:
        if not op.outcome:  # (one done already may still be running its tail)
            self._finish(op, "timeout", "no answer within the client's timeout")

    def _exchange(self, op: Operation, hops: tuple[Hop, ...], nbytes: float, done: Done, lost: Done) -> None:
        """A request and its response (REST, database, tokens) for `op`, its bytes counted as `op`'s."""
        self.chains.run(Message(hops=hops, nbytes=nbytes, done=done, lost=lost, tag=op.kind.value))

    # --- the steps (steps.StepHandler[Operation]) ----------------------------------------------
    def stopped(self, op: Operation) -> bool:
        # After `Visible` the operation has ended for its client; its remaining steps still run.
        return bool(op.outcome) and not op.tail

    def http(self, step: wf.Http, op: Operation, then: Next) -> None:
        roles = self.roles.of(op.site)
        (client, _), (server, station) = roles[step.client], roles[step.server]
        hops = round_trip(client, server, station)
        lost = self._fail(op, f"{step.what}: {step.server.value} unreachable")
        nbytes = self.params.http_request_bytes
        if step.answered_later:
            # The request only; its answer leaves at `Respond`.
            op.answer = hops[1]
            self._exchange(op, hops[:1], nbytes, lambda _: then(op), lost)
            return
        user = step.client is Role.USER and op.returned < 0

        # One request, for the operation's own server, also where a step asks per server (`Http.
        # per_server`): in a run the resource tracker tracks every other server on the host.
        def answered(_: Any) -> None:
            if user:
                op.returned = self.sim.now
            if step.needs_agent and not self.liveness.agent_up(op.site):
                self._finish(op, "failed", "PortBindingFailed: the host's L2 agent is seen dead")
                return
            then(op)

        self._exchange(op, hops, nbytes, answered, lost)

    def hold(self, step: wf.Hold, inner: Steps[Operation], op: Operation, then: Next) -> None:
        key = (op.site, op.host, step.lock)
        lock = self.locks.get(key)
        if lock is None:
            slots = step.slots if isinstance(step.slots, int) else int(getattr(self.params, step.slots))
            lock = self.locks[key] = HostLock(self.sim, slots)

        def held(_: Operation) -> None:
            if op.holding is not None and lock in op.holding:
                op.holding.remove(lock)
                lock.release()
                then(op)

        def granted() -> None:
            if self.stopped(op):  # failed while it waited
                lock.release()
                return
            op.holding = [*(op.holding or ()), lock]
            inner(op, held)

        lock.acquire(granted)

    def quota(self, step: wf.Quota, op: Operation, then: Next) -> None:
        keeper = self.quotas
        book = keeper.book_of(op.spec)
        if book is None:
            then(op)
        elif not step.claim:
            keeper.release(book, op.site, op.spec)
            then(op)
        else:
            roles = self.roles.of(op.site)
            keeper.request(
                book,
                op.spec,
                op.site,
                api=roles[Role.API][0],
                keystone=roles[Role.KEYSTONE],
                tag=op.kind.value,
                granted=lambda: then(op),
                refused=lambda why: self._finish(op, "failed", why),
            )

    def respond(self, step: wf.Respond, op: Operation, then: Next) -> None:
        answer, op.answer = op.answer, None
        if answer is not None:

            def answered(_: Any) -> None:
                if op.returned < 0:
                    op.returned = self.sim.now

            # A lost answer leaves the operation going: the client just never hears back.
            self._exchange(op, (answer,), self.params.http_response_bytes, answered, lambda _: None)
        then(op)

    def visible(self, step: wf.Visible, op: Operation, then: Next) -> None:
        self._finish(op, "ok", "")
        op.tail = True
        then(op)

    def db(self, step: wf.Db, op: Operation, then: Next) -> None:
        roles = self.roles.of(op.site)
        (client, _), (db, station) = roles[step.client], roles[step.db]
        hops = round_trip(client, db, station) * step.queries
        lost = self._fail(op, f"{step.what}: {step.db.value} unreachable")
        nbytes = self.params.rpc_small_bytes
        self._exchange(op, hops, nbytes, lambda _: then(op), lost)

    def call(self, step: wf.Call, op: Operation, inner: Steps[Operation], then: Next) -> None:
        roles = self.roles.of(op.site)
        (client, _), (server, station) = roles[step.client], roles[step.server]
        p = self.params
        self.messaging.of(op.site).call(
            client,
            server,
            station,
            request_bytes=p.rpc_object_bytes,
            reply_bytes=p.rpc_small_bytes,
            done=lambda _: then(op),
            failed=self._fail(op, f"{step.what}: MessagingTimeout"),
            tag=op.kind.value,
            # The server's own work happens before it replies.
            inner=lambda reply: inner(op, lambda _: reply()),
        )

    def cast(self, step: wf.Cast, op: Operation, then: Next) -> None:
        roles = self.roles.of(op.site)
        (client, _), (server, station) = roles[step.client], roles[step.server]
        # A lost cast is silent: the operation hangs until its timeout.
        self.messaging.of(op.site).cast(
            client,
            server,
            station,
            nbytes=self.params.rpc_object_bytes,
            done=lambda _: then(op),
            tag=op.kind.value,
        )

    def notify(self, step: wf.Notify, op: Operation, then: Next) -> None:
        m, sender = self.messaging.of(op.site), self.roles.of(op.site)[step.sender][0]
        size = self.params.notification_bytes
        m.notify(sender, size, tag=op.kind.value)
        # The service's thread sends it inline and waits for the broker's confirm (nova's
        # notify_about_instance_action; `Messaging.notify_confirm_ms`); an unreachable bus does not
        # hold the operation here (the notification is lost).
        wait = m.notify_confirm_ms(sender, size)
        if 0.0 < wait < math.inf:
            self.sim.after(wait, lambda _: then(op))
        else:
            then(op)

    def local(self, step: wf.Local, op: Operation, then: Next) -> None:
        self.sim.after(float(getattr(self.params, step.param)), lambda _: then(op))

    def authenticate(self, step: wf.Authenticate, op: Operation, then: Next) -> None:
        rally = op.spec.observer is Observer.RALLY  # Rally's new clients each iteration: a new token
        if not rally and self.sim.now < self.token_expiry.get(op.site, -1.0):
            then(op)
            return
        keystone, station = self.roles.of(op.site)[Role.KEYSTONE]

        def issued(_: Any) -> None:
            self.token_expiry[op.site] = self.sim.now + self.params.token_lifetime_ms
            if rally:
                op.start = self.sim.now  # Rally times its action from the request, its clients made
            then(op)

        hops = round_trip(op.site, keystone, station)
        lost = self._fail(op, "keystone unreachable (token)")
        self._exchange(op, hops, self.params.http_request_bytes, issued, lost)

    def validate_token(self, step: wf.ValidateToken, op: Operation, then: Next) -> None:
        roles = self.roles.of(op.site)
        server = roles[step.server][0]
        key = (server, op.site)
        fresh = op.spec.observer is Observer.RALLY  # a token keystonemiddleware has not seen yet
        if not fresh and self.sim.now < self.token_cache.get(key, -1.0):
            then(op)
            return
        keystone, station = roles[Role.KEYSTONE]

        def validated(_: Any) -> None:
            self.token_cache[key] = self.sim.now + self.params.token_cache_ms
            then(op)

        hops = round_trip(server, keystone, station)
        lost = self._fail(op, "keystone unreachable (token validation)")
        self._exchange(op, hops, self.params.http_request_bytes, validated, lost)

    def select_host(self, step: wf.SelectHost, op: Operation, then: Next) -> None:
        if not self.liveness.compute_up(op.site, self.sim.now):
            self._finish(op, "failed", "NoValidHost: compute services at the site are down")
            return
        if op.kind is OperationKind.BOOT:
            host = self.inventory.claim(op.site, op.spec.flavor.vcpus)
            if host < 0:
                self._finish(op, "failed", "NoValidHost: no room at the site")
                return
            op.host = host
        then(op)

    def fetch_image(self, step: wf.FetchImage, op: Operation, then: Next) -> None:
        inv = self.inventory
        image = op.spec.image
        if inv.host_has_image(op.site, op.host, image):
            then(op)
            return
        roles = self.roles.of(op.site)
        glance, gst = roles[Role.GLANCE]
        cache_site = self.placement.serving(Service.IMAGE_CACHE, op.site)
        if cache_site is not None and inv.cache_has_image(cache_site, image):
            source = cache_site
        else:
            source = roles[Role.IMAGE_STORE][0]

        def landed(_: Any) -> None:
            inv.host_cached(op.site, op.host, image)
            if cache_site is not None:
                inv.cache_stored(cache_site, image)
            then(op)

        def meta(_: Any) -> None:
            size = self.image_bytes[image]
            cut = self._fail(op, "image download cut")
            self.flows.start(source, op.site, size, landed, cut, tag=op.kind.value)

        hops = round_trip(op.site, glance, gst)
        lost = self._fail(op, "glance unreachable")
        self._exchange(op, hops, self.params.http_request_bytes, meta, lost)

    def migrate_memory(self, step: wf.MigrateMemory, op: Operation, then: Next) -> None:
        # Between two hosts of the site: what pre-copy sends for a guest of the flavor's memory with
        # the fleet's median dirty rate, over the site's LAN (`migration.cost`).
        nbytes = _lan_migration_bytes(op.spec.flavor.ram_mb, self.params.lan_delay_ms)
        stream_cut = self._fail(op, "migration stream cut")
        self.flows.start(op.site, op.site, nbytes, lambda _: then(op), stream_cut, tag=op.kind.value)

    def fork(
        self, step: wf.Parallel, branches: Sequence[Steps[Operation]], op: Operation, then: Next
    ) -> None:
        left = [len(branches)]

        def branch_done(_: Operation) -> None:
            left[0] -= 1
            if left[0] == 0:
                then(op)

        for branch in branches:
            branch(op, branch_done)


@functools.cache
def _lan_migration_bytes(ram_mb: int, lan_delay_ms: float) -> float:
    guest = Guest(float(ram_mb), DIRTY_MEDIAN_MBPS)
    return live_migration(guest, Path(LAN_MBPS, 2 * lan_delay_ms)).wan_bytes
