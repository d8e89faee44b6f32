"""Run messaging test cases for real: one RabbitMQ at the top site, every other site behind its own
delay relay (its WAN link), one role process per client and per server."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

from wanstack.bench.controller import RoleProcess
from wanstack.bench.rabbit import RabbitNode
from wanstack.bench.relay import DelayRelay, DirectionStats, LinkShape
from wanstack.scenario.testplan import MessagingCase, Pattern

WARM_UP = 5
# Measured messages are numbered from here (client i from i × FIRST_SEQ), apart from late warm-ups.
FIRST_SEQ = 1_000_000


@dataclass
class CaseResult:
    case: str
    delay_ms: float
    latencies_ms: list[float]
    failures: int
    duplicates: int = 0
    elapsed_s: float = 0.0  # first message sent -> last answer (calls) or last delivery (casts)
    # Per site: (site -> broker, broker -> site) of its relay, the route to the broker's site.
    links: dict[str, tuple[DirectionStats, DirectionStats]] = field(default_factory=dict)
    broker_cpu_s: float = 0.0
    broker_deliveries: int = 0
    broker_rss_mb: float = 0.0


def run_case(broker: RabbitNode, top: str, case: MessagingCase, delays_ms: dict[str, float]) -> CaseResult:
    """`delays_ms`: one-way delay between each site and the top site (where the broker runs)."""
    with contextlib.ExitStack() as stack:
        urls: dict[str, str] = {top: broker.url}
        relays: dict[str, DelayRelay] = {}
        for site in sorted({*case.clients, *(s for s, _ in case.servers)} - {top}):
            relay = DelayRelay(broker.port, LinkShape(delay_ms=delays_ms[site]), count_amqp=True)
            relays[site] = stack.enter_context(relay)
            urls[site] = f"rabbit://guest:guest@127.0.0.1:{relay.port}/"
        notify = case.pattern is Pattern.NOTIFY
        server_role, client_role = ("listener", "notifier") if notify else ("rpc-server", "rpc-client")
        servers = [
            stack.enter_context(
                RoleProcess(server_role, urls[site], topic=topic, server=f"{site}-{topic}", wait=False)
            )
            for site, topic in case.servers
        ]
        clients = []
        for site, topic in zip(case.clients, case.topic_of_client, strict=True):
            # A call or cast goes to the server of that topic; a fanout to every server of the topic.
            target = (
                None
                if case.pattern in (Pattern.FANOUT, Pattern.NOTIFY)
                else next(f"{s}-{t}" for s, t in case.servers if t == topic)
            )
            clients.append(
                stack.enter_context(
                    RoleProcess(client_role, urls[site], topic=topic, server=target, wait=False)
                )
            )
        for role in (*servers, *clients):
            role.wait_ready()
        kind = "call" if case.pattern is Pattern.CALL else "cast"
        fanout = case.pattern is Pattern.FANOUT
        for c in clients:
            c.ask({"calls": WARM_UP, "kind": kind, "fanout": fanout})
        # The warm-up's last casts land (and leave the links' counters) before the case starts.
        time.sleep(2 * max(delays_ms.values(), default=0.0) / 1000 + 0.3)
        for s in servers:
            s.ask({"cmd": "reset"})
        # What the warm-up and set-up put on the links and the broker is not the case's. Reading the
        # broker's counters starts an Erlang VM (rabbitmqctl): let its work on the node settle first.
        delivered0 = broker.deliveries()
        time.sleep(0.3)
        before = {site: (r.forward.snapshot(), r.backward.snapshot()) for site, r in relays.items()}
        cpu0 = broker.cpu_s()
        started = time.time()
        # All clients run at once: send the commands, then collect the answers.
        offsets = case.start_offsets_ms()
        for i, c in enumerate(clients):
            # Sequence numbers of their own per client, after the warm-up's, so that only a message
            # really delivered twice counts as a duplicate.
            c.tell(
                {
                    "calls": case.messages,
                    "kind": kind,
                    "fanout": fanout,
                    "payload": case.payload,
                    "pause_ms": case.pause_ms,
                    "first_seq": FIRST_SEQ * (i + 1),
                    "start_delay_ms": offsets[i],
                }
            )
        answers = [c.answer() for c in clients]
        failures = sum(sum(a["failures"].values()) for a in answers)
        if case.pattern is Pattern.CALL:
            latencies = [x for a in answers for x in a["latencies_ms"]]
            duplicates = 0
            ended = max((t for a in answers for t in a["done_at"]), default=started)
        else:
            time.sleep(max(delays_ms.values(), default=0.0) / 1000 * 2 + 0.5)  # let the last casts land
            stats = [s.ask({"cmd": "stats", "min_seq": FIRST_SEQ}) for s in servers]
            latencies = [x for st in stats for x in st["one_way_ms"]]
            duplicates = sum(st["duplicates"] for st in stats)
            ended = max((t for st in stats for t in st["received_at"]), default=started)
        cpu = broker.cpu_s() - cpu0  # before rabbitmqctl's own work on the node
        delivered = broker.deliveries() - delivered0
        links = {
            site: (r.forward.since(before[site][0]), r.backward.since(before[site][1]))
            for site, r in relays.items()
        }
    delay = max(delays_ms.values(), default=0.0)
    return CaseResult(
        case.name,
        delay,
        latencies,
        failures,
        duplicates,
        elapsed_s=ended - started,
        links=links,
        broker_cpu_s=cpu,
        broker_deliveries=delivered,
        broker_rss_mb=broker.rss_mb(),
    )
