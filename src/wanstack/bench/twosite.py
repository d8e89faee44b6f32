"""The simplest real bench: RPC calls between two sites, the broker at the client's site, the server
across one emulated WAN link. Used by the calibration and by the acceptance tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wanstack.bench.controller import RoleProcess
from wanstack.bench.rabbit import RabbitNode
from wanstack.bench.relay import DelayRelay, LinkShape

# The first calls of a client set up its reply queue (13–21 ms here, shared domain notes §9): warm up.
WARM_UP_CALLS = 10


@dataclass
class CallStats:
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
    with DelayRelay(broker.port, shape) as relay:
        far = f"rabbit://guest:guest@127.0.0.1:{relay.port}/"
        with (
            RoleProcess("rpc-server", far, server="s1") as _server,
            RoleProcess("rpc-client", broker.url, server="s1") as client,
        ):
            client.ask({"calls": WARM_UP_CALLS})
            result = client.ask(
                {"calls": calls, "payload": payload, "threads": threads, "pause_ms": pause_ms}
            )
    latencies = np.asarray(result["latencies_ms"], dtype=float)
    p50, p95 = (
        (float(x) for x in np.percentile(latencies, [50, 95])) if latencies.size else (float("nan"),) * 2
    )
    return CallStats(
        shape.delay_ms,
        len(latencies),
        p50,
        p95,
        float(latencies.mean()) if latencies.size else float("nan"),
        result["failures"],
        result["elapsed_s"],
    )
