"""The resilience case (ombt TC5, shared domain notes §5): traffic flows while the bus breaks.

Two faults, after TC5 ("restart each bus component, cut each bus link for 60 s"):
- broker restart: a client next to the broker casts numbered messages at a steady pace to a server
  across a WAN link; mid-run the broker is restarted;
- link cut: a caller and a caster next to the broker talk to a server across a WAN link, and that link
  is cut for a while (the relay holds every byte, as a dead link does, and refuses new connections).
Reported: casts that failed (an exception in the client), casts that were acknowledged (cast()
returned) but never delivered (lost), deliveries of one message more than once (duplicates), how long
the fault lasted and how long deliveries stopped; for the cut also calls that failed and the time from
the link's return to the first delivered cast and the first answered call (recovery after reconnect).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any

from wanstack.bench.controller import RoleProcess
from wanstack.lab.rabbit import RabbitNode
from wanstack.lab.relay import DelayRelay, LinkShape

# A topic of its own: a queue declared earlier on the same broker with other durability would clash.
TOPIC = "wanstack-resilience"
# The WAN link the server is across unless told otherwise (any shape: jitter, loss and rate apply).
LINK = LinkShape(delay_ms=10.0)


@dataclass
class Resilience:
    """What became of the casts sent through a fault: sent, acknowledged by the broker, failed in the client,
    lost (acknowledged, never delivered), delivered more than once; how long the fault lasted, and the
    longest time the server went without a delivery."""

    casts: int
    acknowledged: int
    failed: int
    lost: int
    duplicates: int
    outage_s: float  # how long the broker was down, or the link cut
    delivery_gap_s: float  # longest time without a delivery (recovery, seen by the server)


@dataclass
class LinkCut:
    """TC5's link cut: how long the link was cut (s), what became of the casts, the calls made and those that
    failed, and how long after the link came back the first cast was delivered and the first call answered
    (inf: none)."""

    cut_s: float
    casts: Resilience
    calls: int
    calls_failed: dict[str, int]  # by exception (MessagingTimeout while the link is down)
    cast_recovery_s: float  # link restored -> first cast delivered after it
    call_recovery_s: float  # link restored -> first call answered after it


def broker_restart(
    broker: RabbitNode,
    *,
    link: LinkShape = LINK,
    casts: int = 300,
    pause_ms: float = 20.0,
    restart_after_s: float = 1.5,
    durable: bool = True,
) -> Resilience:
    """TC5's broker restart: a client next to `broker` casts `casts` numbered messages `pause_ms` apart to a
    server across `link`, and the broker is restarted `restart_after_s` into the run; `durable`: durable
    queues and persistent messages (`--durable`). The result's `outage_s` is how long the broker was down."""
    with DelayRelay(broker.port, link) as relay:
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
            time.sleep(2 * link.settle_ms() / 1000 + 2.0)  # the last casts land
            stats = server.ask({"cmd": "stats"})
    return _casts_outcome(casts, answer, stats, down[0] if down else float("nan"))


def _casts_outcome(casts: int, answer: dict[str, Any], stats: dict[str, Any], outage_s: float) -> Resilience:
    """What became of the casts a client sent (its answer) as the server saw them (its stats)."""
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
        outage_s=outage_s,
        delivery_gap_s=gap,
    )


def link_cut(
    broker: RabbitNode,
    *,
    link: LinkShape = LINK,
    cut_for_s: float = 60.0,
    cut_after_s: float = 2.0,
    after_s: float = 10.0,
    pause_ms: float = 100.0,
    call_timeout_s: float = 10.0,
) -> LinkCut:
    """TC5's link cut: the server's WAN link goes dead for `cut_for_s` while calls (each waiting at
    most `call_timeout_s`) and casts flow to it; traffic goes on `after_s` after the link is back.

    oslo.messaging's defaults decide what a long cut does: the broker and the client each miss
    heartbeats after `heartbeat_timeout_threshold` = 60 s ([oslo_messaging_rabbit], impl_rabbit.py)
    and drop the connection; the server reconnects (rabbit_retry_interval 1 s, backoff 2 s, at most
    30 s) and its topic queue, which is not auto-deleted, still holds the casts sent meanwhile."""
    duration_s = cut_after_s + cut_for_s + after_s
    most = int(duration_s * 1000 / pause_ms) + 1
    with DelayRelay(broker.port, link) as relay:
        far = f"rabbit://guest:guest@127.0.0.1:{relay.port}/"
        with (
            RoleProcess("rpc-server", far, topic=TOPIC, server="s1") as server,
            RoleProcess("rpc-client", broker.url, topic=TOPIC, server="s1") as caller,
            RoleProcess("rpc-client", broker.url, topic=TOPIC, server="s1") as caster,
        ):
            caller.ask({"calls": 5})
            caster.ask({"calls": 5, "kind": "cast"})
            time.sleep(0.5)
            server.ask({"cmd": "reset"})
            common = {"calls": most, "pause_ms": pause_ms, "duration_s": duration_s}
            caller.tell({**common, "timeout_s": call_timeout_s})
            caster.tell({**common, "kind": "cast", "first_seq": 1_000_000})
            time.sleep(cut_after_s)
            relay.cut()
            time.sleep(cut_for_s)
            relay.restore()
            restored = time.time()
            calls, casts = (
                caller.answer(timeout_s=duration_s + 120),
                caster.answer(timeout_s=duration_s + 120),
            )
            time.sleep(2 * link.settle_ms() / 1000 + 2.0)  # the last casts land
            stats = server.ask({"cmd": "stats"})
    after = [t for t in stats["received_at"] if t >= restored]
    answered = [t for t in calls["done_at"] if t >= restored]
    return LinkCut(
        cut_s=cut_for_s,
        casts=_casts_outcome(
            len(casts["acknowledged"]) + sum(casts["failures"].values()), casts, stats, cut_for_s
        ),
        calls=len(calls["latencies_ms"]) + sum(calls["failures"].values()),
        calls_failed=calls["failures"],
        cast_recovery_s=min(after) - restored if after else float("inf"),
        call_recovery_s=min(answered) - restored if answered else float("inf"),
    )
