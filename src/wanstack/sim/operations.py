"""Run workflows: one `Operation` per user request, walking its steps with continuations.

Failures follow OpenStack's behaviour: a lost RPC call raises MessagingTimeout after
rpc_response_timeout (the operation fails then); an HTTP request with no route fails at once
(connection refused/unreachable); a lost cast leaves the operation hanging until the client's own
timeout (Rally's 300 s), counted as a time-out. The scheduler fails with NoValidHost when every
compute service of the target site is seen as down or has no room.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wanstack.scenario.services import Service
from wanstack.scenario.workload import Operation as OperationSpec
from wanstack.scenario.workload import OperationKind
from wanstack.sim.chain import round_trip
from wanstack.sim.flows import LAN_MBPS
from wanstack.sim.workflows import (
    WORKFLOWS,
    Authenticate,
    Call,
    Cast,
    Db,
    FetchImage,
    Http,
    Local,
    MigrateMemory,
    Notify,
    Parallel,
    Role,
    SelectHost,
    Step,
    ValidateToken,
)

if TYPE_CHECKING:
    from wanstack.sim.engine import Engine


@dataclass(slots=True)
class Operation:
    kind: OperationKind
    site: str
    spec: OperationSpec
    start: float
    done: Callable[[Operation], None]
    outcome: str = ""  # "", "ok", "failed", "timeout"
    reason: str = ""
    end: float = 0.0
    host: int = -1
    instance: int = -1


class Runner:
    def __init__(self, engine: Engine) -> None:
        self.e = engine

    def start(
        self, kind: OperationKind, site: str, spec: OperationSpec, done: Callable[[Operation], None]
    ) -> None:
        e = self.e
        op = Operation(kind, site, spec, e.sim.now, done)
        if not self._prepare(op):
            return
        e.sim.after(e.params.operation_timeout_ms, self._timeout, op)
        self._seq(WORKFLOWS[kind], 0, op, lambda: self._finish(op, "ok", ""))

    # --- bookkeeping -------------------------------------------------------------------------------
    def _prepare(self, op: Operation) -> bool:
        """Pick the instance an operation acts on (delete, pause, unpause, migrate need one)."""
        inv = self.e.inventory
        if op.kind in (
            OperationKind.DELETE,
            OperationKind.PAUSE,
            OperationKind.UNPAUSE,
            OperationKind.LIVE_MIGRATE,
        ):
            wanted = {OperationKind.UNPAUSE: "paused"}.get(op.kind, "active")
            instance = inv.take(op.site, wanted)
            if instance is None:
                self._finish(op, "failed", f"no {wanted} instance at the site")
                return False
            op.instance = instance
        return True

    def _finish(self, op: Operation, outcome: str, reason: str) -> None:
        if op.outcome:
            return
        op.outcome, op.reason, op.end = outcome, reason, self.e.sim.now
        self.e.inventory.settle(op)
        op.done(op)

    def _fail(self, op: Operation, reason: str) -> None:
        self._finish(op, "failed", reason)

    def _timeout(self, op: Operation) -> None:
        self._finish(op, "timeout", "no answer within the client's timeout")

    # --- steps -------------------------------------------------------------------------------------
    def _seq(self, steps: tuple[Step, ...], i: int, op: Operation, then: Callable[[], None]) -> None:
        if op.outcome:
            return
        if i == len(steps):
            then()
            return
        self._step(steps[i], op, lambda: self._seq(steps, i + 1, op, then))

    def _step(self, step: Step, op: Operation, then: Callable[[], None]) -> None:
        e = self.e
        roles = e.roles.of(op.site)
        p = e.params
        tag = op.kind.value
        cont: Callable[[Any], None] = lambda _: then()  # noqa: E731

        if isinstance(step, Http):
            (client, _), (server, station) = roles[step.client], roles[step.server]
            e.chains.run(
                round_trip(client, server, station),
                p.http_request_bytes,
                1.0,
                cont,
                lambda _: self._fail(op, f"{step.what}: {step.server.value} unreachable"),
                None,
                0.0,
                tag,
            )
        elif isinstance(step, Db):
            (client, _), (db, station) = roles[step.client], roles[step.db]
            e.chains.run(
                round_trip(client, db, station) * step.queries,
                p.rpc_small_bytes,
                1.0,
                cont,
                lambda _: self._fail(op, f"{step.what}: {step.db.value} unreachable"),
                None,
                0.0,
                tag,
            )
        elif isinstance(step, Call):
            (client, _), (server, station) = roles[step.client], roles[step.server]

            m = e.messaging_for(op.site)
            start = e.sim.now

            def timeout(_: Any) -> None:
                e.sim.at(start + e.rpc_timeout_ms, lambda _: self._fail(op, f"{step.what}: MessagingTimeout"))

            def reply() -> None:
                hops = m.reply_hops(server, client)
                m.chains.run(hops, p.rpc_small_bytes, 1.0, cont, timeout, None, p.rpc_client_ms, tag)

            def served(_: Any) -> None:
                self._seq(step.inner, 0, op, reply)  # the server's own work happens before it replies

            hops = m.request_hops(client, server, station)
            m.chains.run(hops, p.rpc_object_bytes, 1.0, served, timeout, None, p.rpc_client_ms, tag)
        elif isinstance(step, Cast):
            (client, _), (server, station) = roles[step.client], roles[step.server]
            # A lost cast is silent: the operation hangs until its timeout.
            e.messaging_for(op.site).cast(
                client, server, station, p.rpc_object_bytes, cont, None, None, 1.0, tag
            )
        elif isinstance(step, Notify):
            m, sender = e.messaging_for(op.site), roles[step.sender][0]
            m.notify(sender, p.notification_bytes, 1.0, tag)
            # The service's thread sends it inline and waits for the broker's confirm (nova's
            # notify_about_instance_action; `Messaging.notify_confirm_ms`); an unreachable bus does not
            # hold the operation here (the notification is lost).
            wait = m.notify_confirm_ms(sender, p.notification_bytes)
            if 0.0 < wait < math.inf:
                e.sim.after(wait, cont)
            else:
                then()
        elif isinstance(step, Local):
            e.sim.after(float(getattr(p, step.param)), cont)
        elif isinstance(step, Authenticate):
            self._authenticate(op, then)
        elif isinstance(step, ValidateToken):
            self._validate(op, step.server, then)
        elif isinstance(step, SelectHost):
            self._select_host(op, then)
        elif isinstance(step, FetchImage):
            self._fetch_image(op, then)
        elif isinstance(step, MigrateMemory):
            # Between two hosts of the site: what pre-copy sends for a guest of the flavor's memory
            # with the fleet's median dirty rate, over the site's LAN (`migration.cost`).
            e.flows.start(
                op.site,
                op.site,
                _lan_migration_bytes(op.spec.flavor.ram_mb, e.params.lan_delay_ms),
                cont,
                lambda _: self._fail(op, "migration stream cut"),
                None,
                tag,
            )
        elif isinstance(step, Parallel):
            self._parallel(step, op, then)
        else:  # pragma: no cover - exhaustive
            raise TypeError(step)

    def _parallel(self, step: Parallel, op: Operation, then: Callable[[], None]) -> None:
        left = [len(step.branches)]

        def branch_done() -> None:
            left[0] -= 1
            if left[0] == 0:
                then()

        for branch in step.branches:
            self._seq(branch, 0, op, branch_done)

    def _authenticate(self, op: Operation, then: Callable[[], None]) -> None:
        e = self.e
        if e.sim.now < e.token_expiry.get(op.site, -1.0):
            then()
            return
        keystone, station = e.roles.of(op.site)[Role.KEYSTONE]

        def issued(_: Any) -> None:
            e.token_expiry[op.site] = e.sim.now + e.params.token_lifetime_ms
            then()

        e.chains.run(
            round_trip(op.site, keystone, station),
            e.params.http_request_bytes,
            1.0,
            issued,
            lambda _: self._fail(op, "keystone unreachable (token)"),
            None,
            0.0,
            op.kind.value,
        )

    def _validate(self, op: Operation, server_role: Role, then: Callable[[], None]) -> None:
        e = self.e
        roles = e.roles.of(op.site)
        server = roles[server_role][0]
        key = (server, op.site)
        if e.sim.now < e.token_cache.get(key, -1.0):
            then()
            return
        keystone, station = roles[Role.KEYSTONE]

        def validated(_: Any) -> None:
            e.token_cache[key] = e.sim.now + e.params.token_cache_ms
            then()

        e.chains.run(
            round_trip(server, keystone, station),
            e.params.http_request_bytes,
            1.0,
            validated,
            lambda _: self._fail(op, "keystone unreachable (token validation)"),
            None,
            0.0,
            op.kind.value,
        )

    def _select_host(self, op: Operation, then: Callable[[], None]) -> None:
        e = self.e
        if not e.liveness.compute_up(op.site, e.sim.now):
            self._fail(op, "NoValidHost: compute services at the site are down")
            return
        if op.kind is OperationKind.BOOT:
            host = e.inventory.claim(op.site, op.spec.flavor.vcpus)
            if host < 0:
                self._fail(op, "NoValidHost: no room at the site")
                return
            op.host = host
        then()

    def _fetch_image(self, op: Operation, then: Callable[[], None]) -> None:
        e = self.e
        image = op.spec.image
        if e.inventory.host_has_image(op.site, op.host, image):
            then()
            return
        size = e.image_bytes[image]
        roles = e.roles.of(op.site)
        glance, gst = roles[Role.GLANCE]
        cache_site = e.placement.serving(Service.IMAGE_CACHE, op.site)
        if cache_site is not None and e.inventory.cache_has_image(cache_site, image):
            source = cache_site
        else:
            source = roles[Role.IMAGE_STORE][0]

        def landed(_: Any) -> None:
            e.inventory.host_cached(op.site, op.host, image)
            if cache_site is not None:
                e.inventory.cache_stored(cache_site, image)
            then()

        def meta(_: Any) -> None:
            e.flows.start(
                source,
                op.site,
                size,
                landed,
                lambda _: self._fail(op, "image download cut"),
                None,
                op.kind.value,
            )

        e.chains.run(
            round_trip(op.site, glance, gst),
            e.params.http_request_bytes,
            1.0,
            meta,
            lambda _: self._fail(op, "glance unreachable"),
            None,
            0.0,
            op.kind.value,
        )


@functools.cache
def _lan_migration_bytes(ram_mb: int, lan_delay_ms: float) -> float:
    from wanstack.migration.cost import Guest, Path, live_migration
    from wanstack.migration.fleet import DIRTY_MEDIAN_MBPS

    guest = Guest(float(ram_mb), DIRTY_MEDIAN_MBPS)
    return live_migration(guest, Path(LAN_MBPS, 2 * lan_delay_ms)).wan_bytes
