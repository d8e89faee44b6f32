"""The simplest real bench: RPC calls between two sites, the broker at the client's site, the server
across one emulated WAN link. Used by the calibration and by the acceptance tests."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wanstack.bench.controller import RoleProcess
from wanstack.lab.rabbit import RabbitNode
from wanstack.lab.relay import DelayRelay, LinkShape

# The first calls of a client set up its reply queue (13–21 ms here, shared domain notes §9): warm up.
WARM_UP_CALLS = 10


@dataclass
class CallStats:
    """A run of calls across one link: its one-way delay (ms), the calls answered, their latency's median,
    95th percentile and mean (ms), the failures by exception name, and the run's time (s)."""

    delay_ms: float
    calls: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    failures: dict[str, int]
    elapsed_s: float


def rpc_across_link(
    broker: RabbitNode,
    shape: LinkShape,
    *,
    calls: int = 100,
    payload: int = 100,
    threads: int = 1,
    pause_ms: float = 0.0,
) -> CallStats:
    """Calls from a client next to the broker to a server that reaches the broker through `shape`,
    `pause_ms` apart."""
    (stats,) = rpc_across_links(broker, [(shape, pause_ms)], calls=calls, payload=payload, threads=threads)
    return stats


def rpc_across_links(
    broker: RabbitNode,
    runs: Sequence[tuple[LinkShape, float]],
    *,
    calls: int = 100,
    payload: int = 100,
    threads: int = 1,
    turns: int = 1,
) -> list[CallStats]:
    """`rpc_across_link` for each (link, pause between calls) in `runs`, every pair of processes in
    place from the start and the runs taking `turns` turns (`calls / turns` calls each time), so that
    a slow spell of this machine falls on all of them alike: one CI run of 2026-12-03, each run's
    calls in a row, measured the cost at 0 ms at 17 ms (4-5 ms on other runs)."""
    with contextlib.ExitStack() as stack:
        clients = []
        for n, (shape, _) in enumerate(runs, 1):
            relay = stack.enter_context(DelayRelay(broker.port, shape))
            far = f"rabbit://guest:guest@127.0.0.1:{relay.port}/"
            server = stack.enter_context(RoleProcess("rpc-server", far, server=f"s{n}", wait=False))
            client = stack.enter_context(RoleProcess("rpc-client", broker.url, server=f"s{n}", wait=False))
            clients.append((server, client))
        for server, client in clients:
            server.wait_ready()
            client.wait_ready().ask({"calls": WARM_UP_CALLS})
        answers: list[list[dict[str, Any]]] = [[] for _ in runs]
        each = {"calls": calls // turns, "payload": payload, "threads": threads}
        for _ in range(turns):
            for (_, client), (_, pause_ms), got in zip(clients, runs, answers, strict=True):
                got.append(client.ask({**each, "pause_ms": pause_ms}))
    return [_stats(shape.delay_ms, got) for (shape, _), got in zip(runs, answers, strict=True)]


def _stats(delay_ms: float, answers: list[dict[str, Any]]) -> CallStats:
    """A run's figures from its client's answers, pooled."""
    latencies = np.asarray([x for a in answers for x in a["latencies_ms"]], dtype=float)
    p50, p95 = (
        (float(x) for x in np.percentile(latencies, [50, 95])) if latencies.size else (float("nan"),) * 2
    )
    failures: Counter[str] = Counter()
    for a in answers:
        failures.update(a["failures"])
    return CallStats(
        delay_ms,
        len(latencies),
        p50,
        p95,
        float(latencies.mean()) if latencies.size else float("nan"),
        dict(failures),
        sum(a["elapsed_s"] for a in answers),
    )
