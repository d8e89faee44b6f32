"""One operation on the testbed, traced by osprofiler across every service, as the exchanges it made
and the sites each crossed.

Every service traces into its own site's store (`config.profiler`): incoming REST requests
(`wsgi`), outgoing ones (`http`, osprofiler's `trace_requests`), the RPC methods a server runs
(`rpc`) and SQL statements (`db`). A REST exchange is an `http` span and the `wsgi` span it caused; it
crossed the WAN when the two ran at different sites (twice one way: request and response). An RPC is
a server's `rpc` span under a span of another process; a call crosses twice, a cast once (the caller
does not wait for an answer: `CASTS`). The root request's client is the user at the operation's site.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from wanstack.lab.redis import Redis
from wanstack.scenario.workload import OperationKind
from wanstack.testbed.config import TRACE_KEY
from wanstack.testbed.workload import Runner

# Nova's RPC methods that are casts, the caller going on without an answer (nova/compute/rpcapi.py,
# nova/conductor/rpcapi.py, nova/scheduler/rpcapi.py: `cctxt.cast` / `client.cast`); every other
# method traced on an RPC server is a call.
CASTS = frozenset(
    {
        "build_and_run_instance",
        "terminate_instance",
        "pause_instance",
        "unpause_instance",
        "external_instance_event",
        "update_instance_info",
        "delete_instance_info",
        "sync_instance_info",
        "schedule_and_build_instances",
        "live_migration",
        "rebuild_instance",
        "reboot_instance",
        "stop_instance",
        "start_instance",
        # neutron/api/rpc/handlers/resources_rpc.py `ResourcesPushRpcApi._push`: neutron-server's
        # updates of the agents' resource caches.
        "push",
    }
)


@dataclass
class Span:
    """One osprofiler span, from its start and stop points: its ids, the site whose store held it, its service
    and kind, osprofiler's `info` of its start (the request, the function), and its start and stop (s since
    the epoch; `stop` None when the stop point is missing)."""

    trace_id: str
    parent_id: str
    site: str
    service: str
    kind: str  # wsgi, http, rpc, db, or a function traced by name
    info: dict[str, Any]
    start: float = 0.0
    stop: float | None = None


@dataclass(frozen=True)
class Exchange:
    """One REST request or RPC of a traced operation: its kind, the sites of its caller (`src`) and server
    (`dst`), what it was (method, service and path; or service and RPC method), and when the server's span
    started (s since the epoch). `one_way`: the WAN crossings on the way to what the caller waits for."""

    kind: str  # "REST", "RPC call", "RPC cast"
    src: str
    dst: str
    what: str
    start: float
    # False for the exchanges the state's write happens inside (the user's request, the conductor's
    # `Instance.save`): their answers come after it, off the way to it.
    answered_before: bool = True

    @property
    def one_way(self) -> int:
        if self.src == self.dst:
            return 0
        return 1 if self.kind == "RPC cast" or not self.answered_before else 2


@dataclass
class Trace:
    """One traced operation, `op` by a user at `site`: its spans by id, the REST and RPC exchanges they show
    with their sites, the SQL statements per service@site, the exchanges on its critical path, and
    osprofiler's points; `crossings` counts its one-way WAN crossings."""

    op: str
    site: str
    spans: dict[str, Span]
    exchanges: list[Exchange] = field(default_factory=list)
    queries: dict[str, int] = field(default_factory=dict)  # SQL statements per (service@site)
    # The exchanges on the critical path until the state the client waits for was written; None when
    # the trace does not hold that write.
    critical: list[Exchange] | None = None
    points: list[dict[str, Any]] = field(default_factory=list)  # osprofiler's, each with its site

    @property
    def crossings(self) -> int:
        return sum(e.one_way for e in self.exchanges)

    @property
    def servers_on_host(self) -> int:
        """Servers on the compute's host, the operation's own included: those whose allocations the
        compute asked Placement for (the resource tracker asks for each)."""
        consumers = {
            e.what.rsplit("/", 1)[-1]
            for e in self.exchanges
            if e.what.startswith("GET placement /allocations/")
        }
        return max(1, len(consumers))

    @property
    def critical_crossings(self) -> int | None:
        return None if self.critical is None else sum(e.one_way for e in self.critical)

    @property
    def once_per_process(self) -> list[tuple[Exchange, str]]:
        """The exchanges on the critical path that a process makes once (or once per cache period),
        each with why (`ONCE_PER_PROCESS`): what a fresh testbed's first operations add to the count of
        the simulator, whose workflows are the steady state."""
        return [(e, why) for e in self.critical or [] if e.one_way and (why := once_per_process(e))]

    @property
    def steady_crossings(self) -> int | None:
        """The critical path's crossings less those of `once_per_process`: what the simulator counts."""
        total = self.critical_crossings
        return None if total is None else total - sum(e.one_way for e, _ in self.once_per_process)


# Exchanges a service makes once per process, or once per cache period, and not again while its cache
# holds (the simulator's workflows count the steady state: `sim.crossings`), by what the trace shows
# (`Exchange.what`), with why.
ONCE_PER_PROCESS = {
    "GET public /v3": "keystoneauth's version discovery before a service's first token (cached by "
    "its auth plugin: keystoneauth1/identity/base.py `BaseIdentityPlugin.get_discovery`)",
    "POST public /v3/auth/tokens": "a service's own Keystone token, kept until it nears expiry "
    "(keystoneauth1/identity/base.py `get_access`; nova/network/neutron.py `_load_auth_plugin`)",
    "GET neutron-server /v2.0/extensions": "Nova's list of Neutron's extensions, refreshed every "
    "`extension_sync_interval` = 600 s (nova/network/neutron.py `_refresh_neutron_extensions_cache`)",
    "neutron-rpc-server bulk_pull": "the L2 agent's resource cache asking for a resource it has not "
    "seen pushed, once per query (neutron/agent/resource_cache.py `_flood_cache_for_query`)",
}


def once_per_process(exchange: Exchange) -> str | None:
    """Why `exchange` happens once per process (`ONCE_PER_PROCESS`), None when it is an operation's own."""
    return ONCE_PER_PROCESS.get(exchange.what)


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def spans(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Span]:
    """Spans from the trace points of every store, `(site, event)`."""
    found: dict[str, Span] = {}
    for site, e in events:
        name: str = e["name"]
        kind, _, edge = name.rpartition("-")
        span = found.get(e["trace_id"])
        if span is None:
            span = found[e["trace_id"]] = Span(
                e["trace_id"], e["parent_id"], site, e.get("service", ""), kind.rpartition(".")[-1], {}
            )
        if edge == "start":
            span.info = e.get("info", {})
            span.start = _stamp(e["timestamp"])
        else:
            span.stop = _stamp(e["timestamp"])
    return found


# Each operation's own request: its method and what its path is.
_REQUEST: dict[str, tuple[str, Callable[[str], bool]]] = {
    "boot": ("POST", lambda path: path.endswith("/servers")),
    "delete": ("DELETE", lambda path: "/servers/" in path),
    "pause": ("POST", lambda path: path.endswith("/action")),
    "unpause": ("POST", lambda path: path.endswith("/action")),
}


def operation_spans(op: str, found: dict[str, Span]) -> dict[str, Span]:
    """The spans of the operation's own request and everything it caused: of the requests the user
    made (the roots: no parent among the spans), the one that is the operation's (POST /servers for a
    boot, DELETE /servers/{id} for a delete, POST /servers/{id}/action for a pause or an unpause), not
    the token's or the polls'."""
    request = _REQUEST.get(op)
    children: dict[str, list[Span]] = {}
    for span in found.values():
        children.setdefault(span.parent_id, []).append(span)
    roots = [s for s in found.values() if s.parent_id not in found and s.kind == "wsgi"]
    chosen = [
        s
        for s in roots
        if request is not None
        and s.info.get("request", {}).get("method") == request[0]
        and request[1](s.info.get("request", {}).get("path", "").rstrip("/"))
    ]
    if not chosen:
        return found
    kept: dict[str, Span] = {}
    todo = [min(chosen, key=lambda s: s.start)]
    while todo:
        span = todo.pop()
        kept[span.trace_id] = span
        todo += children.get(span.trace_id, [])
    return kept


def _exchange(span: Span, found: dict[str, Span], site: str) -> Exchange | None:
    """The REST call or RPC whose server side `span` is, None for any other span."""
    parent = found.get(span.parent_id)
    src = parent.site if parent is not None else site  # the root request: the user at `site`
    if span.kind == "wsgi":
        request = span.info.get("request", {})
        what = f"{request.get('method', '?')} {span.service} {request.get('path', '')}"
        return Exchange("REST", src, span.site, what, span.start)
    if span.kind == "rpc":
        function = span.info.get("function", {}).get("name", "")
        if ".rpcapi." in function:
            return None  # the client's side of an RPC: the server's span counts it
        method = function.rpartition(".")[-1]
        detail = _object_method(span.info)
        kind = "RPC cast" if method in CASTS else "RPC call"
        what = f"{span.service} {detail or method}"
        return Exchange(kind, src, span.site, what, span.start)
    return None


def analyse(op: str, site: str, found: dict[str, Span]) -> Trace:
    """The operation's exchanges (REST and RPC, with the sites they ran between), SQL counts, and the
    exchanges on its critical path (`critical_path`)."""
    trace = Trace(op, site, found)
    kept = operation_spans(op, found)
    for span in sorted(kept.values(), key=lambda s: s.start):
        exchange = _exchange(span, found, site)
        if exchange is not None:
            trace.exchanges.append(exchange)
        elif span.kind == "db":
            key = f"{span.service}@{span.site}"
            trace.queries[key] = trace.queries.get(key, 0) + 1
    target = visible_change(op, kept)
    if target is not None:
        path = critical_path(target, kept)
        around = _ancestors(target, kept)
        trace.critical = [
            e if s.trace_id not in around else replace(e, answered_before=False)
            for s in path
            if (e := _exchange(s, found, site)) is not None
        ]
    return trace


def _ancestors(span: Span, found: dict[str, Span]) -> set[str]:
    out: set[str] = set()
    while span.parent_id in found:
        span = found[span.parent_id]
        out.add(span.trace_id)
    return out


# The state a client waits for (Rally's `_boot_server` until ACTIVE, `_delete_server` until DELETED or
# gone): the conductor's UPDATE of the instance row that writes it (`Instance.save` in
# nova/compute/manager.py `_build_and_run_instance` and `_delete_instance`).
_VISIBLE_STATE = {"boot": "active", "delete": "deleted", "pause": "paused", "unpause": "active"}


def visible_change(op: str, found: dict[str, Span]) -> Span | None:
    """The SQL statement that wrote the state the client waits for, None when the trace has none."""
    state = _VISIBLE_STATE.get(op)
    for span in sorted(found.values(), key=lambda s: s.start):
        db = span.info.get("db", {}) if span.kind == "db" else {}
        if str(db.get("statement", "")).startswith("UPDATE instances") and (
            db.get("params", {}).get("vm_state") == state
        ):
            return span
    return None


def critical_path(target: Span, found: dict[str, Span]) -> list[Span]:
    """The spans the operation waited on until `target`: from `target` up through its ancestors, and in
    each ancestor the children that ended before the one on the path began, latest first (the
    critical-path walk of Jaeger's trace view), and what released a wait on the way (`_released`).
    Work running beside the path (another branch, a cast's receiver: its caller goes on without
    waiting) is left out."""
    children: dict[str, list[Span]] = {}
    for span in found.values():
        children.setdefault(span.parent_id, []).append(span)

    def stop(span: Span) -> float:
        return span.stop if span.stop is not None else span.start

    def before(parent: Span, cursor: float) -> list[Span]:
        path: list[Span] = []
        for child in sorted(children.get(parent.trace_id, []), key=stop, reverse=True):
            if stop(child) <= cursor and not _cast_receiver(child):
                path += [child, *before(child, stop(child))]
                cursor = child.start
        return path

    def up(node: Span, kept: set[str]) -> list[Span]:
        """`node`'s ancestors until one already on the path, each with what it waited on before."""
        path: list[Span] = []
        while node.parent_id in found and node.parent_id not in kept:
            parent = found[node.parent_id]
            path += [parent, *before(parent, node.start)]
            node = parent
        return path

    path = [target, *before(target, stop(target)), *up(target, set())]
    for event in _released(target, found):
        kept = {s.trace_id for s in path}
        if event.trace_id not in kept:
            path += [event, *before(event, stop(event)), *up(event, kept)]
    return sorted({s.trace_id: s for s in path}.values(), key=lambda s: s.start)


def _cast_receiver(span: Span) -> bool:
    return span.kind == "rpc" and span.info.get("function", {}).get("name", "").rpartition(".")[-1] in CASTS


def _released(target: Span, found: dict[str, Span]) -> list[Span]:
    """The deliveries of `network-vif-plugged` that an L2 agent's report caused before `target`: Nova's
    libvirt driver spawns a guest waiting for that event of each port not yet active
    (nova/virt/libvirt/driver.py `_create_guest_with_network`, `_get_neutron_events`,
    `wait_for_instance_event`), Neutron sends it once the agent has reported the device up
    (neutron/db/provisioning_blocks.py, neutron/notifiers/nova.py), and nova-compute's
    `external_instance_event` releases the wait (nova/compute/manager.py `_process_instance_event`).
    No span of the waiting thread is the delivery's parent, so the walk up from `target` misses it.
    A port bound active at once (no agent in the chain) has nothing waiting for its event."""

    def through_agent(span: Span) -> bool:
        while span.parent_id in found:
            span = found[span.parent_id]
            if span.kind == "agent":
                return True
        return False

    return [
        s
        for s in sorted(found.values(), key=lambda s: s.start)
        if s.kind == "rpc"
        and s.start < target.start
        and s.info.get("function", {}).get("name", "").endswith("ComputeManager.external_instance_event")
        and "network-vif-plugged" in str(s.info.get("function", {}).get("kwargs", ""))
        and through_agent(s)
    ]


def _object_method(info: dict[str, Any]) -> str:
    """For the conductor's object indirection (nova/conductor/manager.py `object_action` on an
    instance, `object_class_action_versions` on a class), which object method it ran."""
    kwargs = str(info.get("function", {}).get("kwargs", ""))
    if "'objmethod': '" not in kwargs:
        return ""
    method = kwargs.split("'objmethod': '", 1)[1].split("'", 1)[0]
    if "'objname': '" in kwargs:
        obj = kwargs.split("'objname': '", 1)[1].split("'", 1)[0]
    else:
        obj = kwargs.split("'objinst': ", 1)[-1].split("(", 1)[0]
    return f"{obj}.{method}"


def read(stores: dict[str, str], base_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every trace point of `base_id`, from each site's store (`{site: redis://ip:port}`)."""
    events = []
    for site, url in stores.items():
        ip, _, port = url.removeprefix("redis://").partition(":")
        for line in Redis(ip=ip, port=int(port)).lrange(f"osprofiler_opt:{base_id}"):
            events.append((site, json.loads(line)))
    return events


def traced(
    runner: Runner,
    stores: dict[str, str],
    op: str,
    site: str,
    *,
    settle_s: float = 3.0,
    say: Callable[[str], None] | None = None,
) -> Trace:
    """Run `op` (boot, delete, pause, unpause) at `site` with the request traced, wait until it is done
    and its last points are written (`settle_s`), read and analyse. The server a delete, a pause or an
    unpause acts on is made first, untraced (`say` tells), and every server the trace made is deleted
    afterwards: the host is left as it was found."""
    kind = OperationKind(op)
    # The server it acts on, made untraced: booted (and paused, for an unpause).
    before = {
        OperationKind.DELETE: [OperationKind.BOOT],
        OperationKind.PAUSE: [OperationKind.BOOT],
        OperationKind.UNPAUSE: [OperationKind.BOOT, OperationKind.PAUSE],
    }.get(kind, [])
    try:
        return _traced(runner, stores, kind, site, before=before, settle_s=settle_s, say=say)
    finally:
        left = runner.discard(site)
        if left and say is not None:
            say(f"deleted the {left} server{'s' * (left > 1)} the trace made at {site}")


def _traced(
    runner: Runner,
    stores: dict[str, str],
    kind: OperationKind,
    site: str,
    *,
    before: list[OperationKind],
    settle_s: float,
    say: Callable[[str], None] | None,
) -> Trace:
    op = kind.value
    for first in before:
        if say is not None:
            say(f"{op} needs a server: {first.value} at {site} first, untraced")
        done = runner.run(first, site)
        if done.api_ms is None:
            raise RuntimeError(f"could not {first.value} the server to {op}: {done.error}")
    from osprofiler import profiler, web

    base_id = str(uuid.uuid4())
    profiler.init(TRACE_KEY, base_id=base_id, parent_id=base_id)
    try:
        # With a profiler active in this thread keystoneauth signs every request of the iteration (the
        # token's, the polls): `analyse` keeps the operation's own request and what it caused. (With
        # the operation's request alone signed, Nova 34's cast to the conductor lost the trace here.)
        outcome = runner.run(kind, site, extra=web.get_trace_id_headers())
    finally:
        profiler.clean()
    if outcome.api_ms is None:
        raise RuntimeError(f"{op} failed: {outcome.error}")
    if say is not None:
        say(f"{op} at {site}: {outcome.api_ms:.0f} ms as the API saw it; reading its trace")
    time.sleep(settle_s)
    points = read(stores, base_id)
    trace = analyse(op, site, spans(points))
    trace.points = [{**event, "site": where} for where, event in points]
    return trace
