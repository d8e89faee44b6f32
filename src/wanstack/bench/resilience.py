"""The resilience case (ombt TC5, shared domain notes §5): casts flow while the broker restarts.

A client next to the broker casts numbered messages at a steady pace to a server across a WAN link;
mid-run the broker is restarted. Reported: casts that failed (an exception in the client), casts that
were acknowledged (cast() returned) but never delivered (lost), deliveries of one message more than
once (duplicates), how long the broker was down and how long deliveries stopped (recovery).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from wanstack.bench.controller import RoleProcess
from wanstack.bench.rabbit import RabbitNode
from wanstack.bench.relay import DelayRelay, LinkShape

# A topic of its own: a queue declared earlier on the same broker with other durability would clash.
TOPIC = "wanstack-resilience"


@dataclass
class Resilience:
    casts: int
    acknowledged: int
    failed: int
    lost: int
    duplicates: int
    broker_down_s: float
    delivery_gap_s: float  # longest time without a delivery (recovery, seen by the server)


def broker_restart(
    broker: RabbitNode,
    delay_ms: float = 10.0,
    casts: int = 300,
    pause_ms: float = 20.0,
    restart_after_s: float = 1.5,
    durable: bool = True,
) -> Resilience:
    with DelayRelay(broker.port, LinkShape(delay_ms=delay_ms)) as relay:
        far = f"rabbit://guest:guest@127.0.0.1:{relay.port}/"
        with (
            RoleProcess("rpc-server", far, topic=TOPIC, server="s1", durable=durable) as server,
            RoleProcess("rpc-client", broker.url, topic=TOPIC, server="s1", durable=durable) as client,
        ):
            client.ask({"calls": 5, "kind": "cast"})
            time.sleep(0.5)
            server.ask({"cmd": "reset"})
            client.tell({"calls": casts, "kind": "cast", "pause_ms": pause_ms, "timeout_s": 120})
            down: list[float] = []
            restarter = threading.Timer(restart_after_s, lambda: down.append(broker.restart()))
            restarter.start()
            answer = client.answer(timeout_s=300)
            restarter.join()
            time.sleep(2 * delay_ms / 1000 + 2.0)  # the last casts land
            stats = server.ask({"cmd": "stats"})
    acknowledged = set(answer["acknowledged"])
    received = set(stats["received"])
    times = sorted(stats["received_at"])
    gap = max((b - a for a, b in itertools.pairwise(times)), default=0.0)
    return Resilience(
        casts=casts,
        acknowledged=len(acknowledged),
        failed=sum(answer["failures"].values()),
        lost=len(acknowledged - received),
        duplicates=stats["duplicates"],
        broker_down_s=down[0] if down else float("nan"),
        delivery_gap_s=gap,
    )
