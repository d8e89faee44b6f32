"""What the real control plane spends on each request, from traced operations: the simulator's
station service times as the testbed's machine gives them.

A server span's own time is its duration less the time it waited on exchanges of its own (the
intervals of its REST requests' and RPCs' client spans, merged: a thread waiting on two at once waits
once); what is left is the service's work, its SQL on its own site's database included. Taken on the
operation's critical path only, per station kind, it is what the simulator's stations should take for
the same operation (`wanstack testbed trace`'s critical path; the workflows match it call for call).
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import mean

from wanstack.testbed.trace import Span, critical_path, visible_change

# The simulator's station kind of each traced service (osprofiler's service names: the WSGI
# applications' names for the APIs).
STATION = {
    "osapi_compute": "nova-api",
    "neutron-server": "neutron-server",
    "placement": "placement",
    "nova-conductor": "nova-conductor",
    "nova-scheduler": "nova-scheduler",
    "public": "keystone",
    "api": "glance-api",
}
# The conductor's method that runs as the simulator's superconductor (nova/conductor/manager.py).
SUPERCONDUCTOR_METHODS = frozenset({"schedule_and_build_instances"})


def _stop(span: Span) -> float:
    return span.stop if span.stop is not None else span.start


def _is_client(span: Span) -> bool:
    """A span of the calling side of an exchange: an outgoing REST request or an RPC client method."""
    return span.kind == "http" or (
        span.kind == "rpc" and ".rpcapi." in span.info.get("function", {}).get("name", "")
    )


def own_ms(span: Span, children: dict[str, list[Span]]) -> float:
    """`span`'s duration less the merged intervals of the exchanges it made (their client spans,
    however deep under it), in ms."""
    waits: list[tuple[float, float]] = []
    todo = list(children.get(span.trace_id, []))
    while todo:
        child = todo.pop()
        if _is_client(child):
            waits.append((max(child.start, span.start), min(_stop(child), _stop(span))))
        else:
            todo += children.get(child.trace_id, [])
    waited, end = 0.0, span.start
    for start, stop in sorted(waits):
        begin = max(start, end)
        if stop > begin:
            waited += stop - begin
            end = stop
    return max(0.0, (_stop(span) - span.start - waited) * 1000.0)


def station_kind(span: Span) -> str | None:
    """The simulator's station kind of a traced service's span (`STATION`; the conductor's
    `schedule_and_build_instances` is the superconductor's work), or None for a service it has no station
    for."""
    method = span.info.get("function", {}).get("name", "").rpartition(".")[-1]
    if span.service == "nova-conductor" and method in SUPERCONDUCTOR_METHODS:
        return "nova-superconductor"
    return STATION.get(span.service)


def service_times(op: str, found: dict[str, Span]) -> dict[str, list[float]]:
    """Own times (ms) of the server spans on `op`'s critical path, per station kind."""
    target = visible_change(op, found)
    if target is None:
        return {}
    children: dict[str, list[Span]] = {}
    for span in found.values():
        children.setdefault(span.parent_id, []).append(span)
    out: dict[str, list[float]] = {}
    for span in critical_path(target, found):
        if span.kind not in ("wsgi", "rpc") or _is_client(span):
            continue
        kind = station_kind(span)
        if kind is not None:
            out.setdefault(kind, []).append(own_ms(span, children))
    return out


def mean_service_ms(samples: Iterable[dict[str, list[float]]]) -> dict[str, float]:
    """Per station kind, the mean own time over every sample's requests."""
    pooled: dict[str, list[float]] = {}
    for sample in samples:
        for kind, values in sample.items():
            pooled.setdefault(kind, []).extend(values)
    return {kind: mean(values) for kind, values in sorted(pooled.items()) if values}
