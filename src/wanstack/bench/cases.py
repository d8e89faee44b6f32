"""Run messaging test cases for real: the roles of every site connect to the broker node serving their
site (one RabbitMQ at the top site, or the nearest member of a cluster), through a delay relay with
the WAN path's one-way delay when that node is at another site; one process per client and server."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
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
    # Per site: (site -> broker, broker -> site) of its relay, the route to its broker node's site.
    links: dict[str, tuple[DirectionStats, DirectionStats]] = field(default_factory=dict)
    broker_cpu_s: float = 0.0
    broker_deliveries: int = 0
    broker_rss_mb: float = 0.0
    # Between broker nodes (a cluster's members), per (from site, to site): bytes over the WAN relays.
    member_bytes: dict[tuple[str, str], float] = field(default_factory=dict)


@dataclass
class Bus:
    """The broker nodes of a bench run by site, and which node's site serves each site's roles."""

    nodes: dict[str, RabbitNode]
    serving: Callable[[str], str]
    delay_ms: Callable[[str, str], float]  # one-way WAN delay between two sites
    # Bytes sent so far between the nodes' sites (a cluster's `peer_bytes`); None: one node.
    peer_bytes: Callable[[], dict[tuple[str, str], float]] | None = None

    @classmethod
    def single(cls, broker: RabbitNode, top: str, delays_ms: dict[str, float]) -> Bus:
        """One broker at `top`; `delays_ms`: each site's one-way delay to it."""
        return cls({top: broker}, lambda site: top, lambda a, b: delays_ms[a if b == top else b])

    def cpu_s(self) -> float:
        return sum(n.cpu_s() for n in self.nodes.values())

    def deliveries(self) -> int:
        return sum(n.deliveries() for n in self.nodes.values())

    def rss_mb(self) -> float:
        return sum(n.rss_mb() for n in self.nodes.values())


def run_case(bus: Bus, case: MessagingCase) -> CaseResult:
    with contextlib.ExitStack() as stack:
        urls: dict[str, str] = {}
        relays: dict[str, DelayRelay] = {}
        for site in sorted({*case.clients, *(s for s, _ in case.servers)}):
            home = bus.serving(site)
            node = bus.nodes[home]
            if home == site:
                urls[site] = node.url
                continue
            shape = LinkShape(delay_ms=bus.delay_ms(site, home))
            relay = DelayRelay(node.port, shape, target_host=node.ip, count_amqp=True)
            relays[site] = stack.enter_context(relay)
            urls[site] = f"rabbit://guest:guest@127.0.0.1:{relay.port}/"
        delays = [r.shape.delay_ms for r in relays.values()]
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
        time.sleep(2 * max(delays, default=0.0) / 1000 + 0.3)
        for s in servers:
            s.ask({"cmd": "reset"})
        # What the warm-up and set-up put on the links and the broker is not the case's. Reading the
        # broker's counters starts an Erlang VM (rabbitmqctl): let its work on the node settle first.
        delivered0 = bus.deliveries()
        time.sleep(0.3)
        before = {site: (r.forward.snapshot(), r.backward.snapshot()) for site, r in relays.items()}
        peers0 = bus.peer_bytes() if bus.peer_bytes else {}
        cpu0 = bus.cpu_s()
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
            time.sleep(max(delays, default=0.0) / 1000 * 2 + 0.5)  # let the last casts land
            stats = [s.ask({"cmd": "stats", "min_seq": FIRST_SEQ}) for s in servers]
            latencies = [x for st in stats for x in st["one_way_ms"]]
            duplicates = sum(st["duplicates"] for st in stats)
            ended = max((t for st in stats for t in st["received_at"]), default=started)
        cpu = bus.cpu_s() - cpu0  # before rabbitmqctl's own work on the node
        delivered = bus.deliveries() - delivered0
        links = {
            site: (r.forward.since(before[site][0]), r.backward.since(before[site][1]))
            for site, r in relays.items()
        }
        peers = bus.peer_bytes() if bus.peer_bytes else {}
        member_bytes = {pair: sent - peers0.get(pair, 0.0) for pair, sent in peers.items()}
    delay = max(delays, default=0.0)
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
        broker_rss_mb=bus.rss_mb(),
        member_bytes=member_bytes,
    )
