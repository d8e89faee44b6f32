"""Run messaging test cases for real: each role (one process per client and server) connects to the
node of its bus (`Bus`: one RabbitMQ, a node per cell or region, a cluster's nearest member, or its
site's NATS server), through a relay with the shape of the WAN path between the two sites (delay each
way, jitter, loss, bottleneck rate: `lab.relay.LinkShape.of_path`) when that node is at another site."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from wanstack.bench.controller import RoleProcess
from wanstack.lab.addresses import view_ip
from wanstack.lab.rabbit import RabbitNode
from wanstack.lab.relay import DelayRelay, DirectionStats, LinkShape, derived_seed
from wanstack.scenario.testplan import MessagingCase, Pattern

WARM_UP = 5
# Measured messages are numbered from here (client i from i × FIRST_SEQ), apart from late warm-ups.
FIRST_SEQ = 1_000_000


@dataclass
class CaseResult:
    """One messaging case run for real: the largest one-way delay of its relays (ms), each measured
    message's latency (calls: the caller's round trip; casts, fanouts, notifications: receive − send), the
    messages that failed and those delivered twice, what each relay carried and the shape it applied, the
    bus nodes' CPU (s) and deliveries during the case and their memory (MB) at its end, and what cluster
    members sent each other."""

    case: str
    delay_ms: float
    latencies_ms: list[float]
    failures: int
    duplicates: int = 0
    elapsed_s: float = 0.0  # first message sent -> last answer (calls) or last delivery (casts)
    # Per (role's site, node's site): (site -> node, node -> site) of the relay on the route between.
    links: dict[tuple[str, str], tuple[DirectionStats, DirectionStats]] = field(default_factory=dict)
    # ... and the shape that relay applied (its route's: `LinkShape.of_path`).
    shapes: dict[tuple[str, str], LinkShape] = field(default_factory=dict)
    broker_cpu_s: float = 0.0
    broker_deliveries: int = 0
    broker_rss_mb: float = 0.0
    # Between broker nodes (a cluster's members), per (from site, to site): bytes over the WAN relays.
    member_bytes: dict[tuple[str, str], float] = field(default_factory=dict)
    # ... and messages, where their protocol can be parsed (NATS routes; not Erlang distribution).
    member_messages: dict[tuple[str, str], float] = field(default_factory=dict)


class BusNode(Protocol):
    """A node of a bench bus: a RabbitMQ node (`lab.rabbit`) or a NATS server (`bench.nats`)."""

    port: int
    ip: str
    protocol: str  # what a relay parses to count messages: "amqp" or "nats"

    @property
    def url(self) -> str: ...

    def cpu_s(self) -> float: ...

    def deliveries(self) -> int: ...

    def rss_mb(self) -> float: ...


class ClusterNodes(Protocol):
    """A cluster of bus nodes: its members by site, the member nearest a site, the bytes between them."""

    @property
    def members(self) -> Mapping[str, BusNode]: ...

    def nearest(self, site: str) -> str: ...

    def peer_bytes(self) -> dict[tuple[str, str], float]: ...


@dataclass
class Bus:
    """The broker nodes of a bench run by site, and which node each role connects to.

    `serving(site)`: the node (by its site) of the bus a site belongs to — the one broker, the nearest
    member of a cluster, or the site's own cell's or region's broker. A cluster's members route any
    message to any queue, so a client stays on its own member (`shared`). Separate buses do not: as
    Nova's API and super-conductor reach a cell's computes through that cell's transport URL (its
    cell mapping, https://docs.openstack.org/nova/latest/admin/cells.html), a client talks to a
    server on the server's bus, and a fanout to servers on several buses is sent on each of them.
    `notifying(site)`: the node where a site's notifications go (default: its RPC bus)."""

    nodes: Mapping[str, BusNode]
    serving: Callable[[str], str]
    # The WAN path between two sites, for a relay from the first to the second (`LinkShape.of_path`).
    shape: Callable[[str, str], LinkShape]
    # Bytes sent so far between the nodes' sites (a cluster's `peer_bytes`); None: one node.
    peer_bytes: Callable[[], dict[tuple[str, str], float]] | None = None
    peer_messages: Callable[[], dict[tuple[str, str], float]] | None = None
    shared: bool = True
    notifying: Callable[[str], str] | None = None
    # Nodes of a separate notification bus (a routed RPC bus keeps notifications on a broker).
    notification_nodes: Mapping[str, BusNode] | None = None
    # Site numbers: site k's roles reach the node at site j at 127.0.k.(100 + j), an address of its
    # own range (a cluster's members already have theirs: `lab.addresses.site_ip`).
    numbers: dict[str, int] = field(default_factory=dict)

    def view(self, site: str, home: str) -> str:
        """The address where roles at `site` reach the node at `home` (a relay listens there)."""
        for s in (site, home):
            self.numbers.setdefault(s, max(self.numbers.values(), default=0) + 1)
        return view_ip(self.numbers[site], self.numbers[home])

    @classmethod
    def single(cls, broker: RabbitNode, top: str, delays_ms: dict[str, float]) -> Bus:
        """One broker at `top`; `delays_ms`: each site's one-way delay to it (and nothing else of a
        link: no jitter, loss or rate cap)."""

        def shape(a: str, b: str) -> LinkShape:
            return LinkShape(delay_ms=delays_ms[a if b == top else b], seed=derived_seed(0, a, b))

        return cls({top: broker}, lambda site: top, shape)

    @classmethod
    def of_cluster(cls, cluster: ClusterNodes, shape: Callable[[str, str], LinkShape], **more: Any) -> Bus:
        """A bus on `cluster` (RabbitMQ's or NATS's): each site's roles on the member nearest them, the
        members' traffic between each other counted; `more`: the Bus's other fields."""
        return cls(cluster.members, cluster.nearest, shape, cluster.peer_bytes, **more)

    def rpc_node(self, client: str, server: str) -> str:
        """The node a client at `client` sends to for a server at `server`."""
        return self.serving(client if self.shared else server)

    def notification_node(self, site: str) -> str:
        return (self.notifying or self.serving)(site)

    def all_nodes(self) -> list[BusNode]:
        nodes = [*self.nodes.values(), *(self.notification_nodes or {}).values()]
        return list({id(n): n for n in nodes}.values())

    def cpu_s(self) -> float:
        return sum(n.cpu_s() for n in self.all_nodes())

    def deliveries(self) -> int:
        # Asked of every node at once (a cluster's members, a bus per region).
        nodes = self.all_nodes()
        with ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
            return sum(pool.map(lambda n: n.deliveries(), nodes))

    def rss_mb(self) -> float:
        return sum(n.rss_mb() for n in self.all_nodes())


def run_case(bus: Bus, case: MessagingCase) -> CaseResult:
    """Run `case` for real on `bus`: a process per server and per client, each reaching its node directly or,
    from another site, through a relay shaped as the WAN path between the two sites; every client sends
    `WARM_UP` messages first, then the case's messages, all clients at once. Only what the case itself sent is
    counted (the warm-up's traffic and deliveries are taken off)."""
    with contextlib.ExitStack() as stack:
        # A case runs on one bus (its RPC bus, or for notifications the notification bus).
        relays: dict[tuple[str, str], DelayRelay] = {}

        def url(site: str, home: str, nodes: Mapping[str, BusNode] = bus.nodes) -> str:
            """A role at `site` reaches the node at `home`: directly, or through a relay with the
            shape of the WAN path between the two sites (one relay per pair, shared by its roles)."""
            node = nodes[home]
            if home == site:
                return node.url
            relay = relays.get((site, home))
            if relay is None:
                relay = DelayRelay(
                    node.port,
                    bus.shape(site, home),
                    host=bus.view(site, home),
                    target_host=node.ip,
                    protocol=node.protocol,
                )
                relays[site, home] = stack.enter_context(relay)
            return node.url.replace(f"{node.ip}:{node.port}", f"{relay.host}:{relay.port}")

        notify = case.pattern is Pattern.NOTIFY
        notification_nodes = bus.notification_nodes or bus.nodes
        server_role, client_role = ("listener", "notifier") if notify else ("rpc-server", "rpc-client")

        def homes(site: str) -> list[str]:
            """The nodes a server at `site` consumes from: its own bus's; a listener, every separate
            notification bus the case's notifiers publish to."""
            if not notify:
                return [bus.serving(site)]
            if bus.shared and bus.notification_nodes is None:
                return [bus.notification_node(site)]
            return sorted({bus.notification_node(c) for c in case.clients})

        servers = [
            stack.enter_context(
                RoleProcess(
                    server_role,
                    url(site, home, notification_nodes if notify else bus.nodes),
                    topic=topic,
                    server=f"{site}-{topic}",
                    wait=False,
                )
            )
            for site, topic in case.servers
            for home in homes(site)
        ]
        clients = []
        for site, topic in zip(case.clients, case.topic_of_client, strict=True):
            # A call or cast goes to the server of that topic; a fanout to every server of the topic,
            # on every bus they are on.
            targets = [s for s, t in case.servers if t == topic]
            server = None if case.pattern in (Pattern.FANOUT, Pattern.NOTIFY) else f"{targets[0]}-{topic}"
            nodes = (
                [bus.notification_node(site)] if notify else sorted({bus.rpc_node(site, s) for s in targets})
            )
            clients.append(
                stack.enter_context(
                    RoleProcess(
                        client_role,
                        [url(site, h, notification_nodes if notify else bus.nodes) for h in nodes],
                        topic=topic,
                        server=server,
                        wait=False,
                    )
                )
            )
        for role in (*servers, *clients):
            role.wait_ready()
        delays = [r.shape.delay_ms for r in relays.values()]
        # What a relay's slower way may take to carry a message, with its jitter and losses.
        settle_s = max((r.shape.settle_ms() for r in relays.values()), default=0.0) / 1000
        kind = "call" if case.pattern is Pattern.CALL else "cast"
        fanout = case.pattern is Pattern.FANOUT
        for c in clients:
            c.ask({"calls": WARM_UP, "kind": kind, "fanout": fanout})
        # The warm-up's last casts land (and leave the links' counters) before the case starts.
        time.sleep(2 * settle_s + 0.3)
        for s in servers:
            s.ask({"cmd": "reset"})
        # What the warm-up and set-up put on the links and the broker is not the case's.
        delivered0 = bus.deliveries()
        before = {pair: (r.forward.snapshot(), r.backward.snapshot()) for pair, r in relays.items()}
        peers0 = bus.peer_bytes() if bus.peer_bytes else {}
        forwarded0 = bus.peer_messages() if bus.peer_messages else {}
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
            time.sleep(2 * settle_s + 0.5)  # let the last casts land
            stats = [s.ask({"cmd": "stats", "min_seq": FIRST_SEQ}) for s in servers]
            latencies = [x for st in stats for x in st["one_way_ms"]]
            duplicates = sum(st["duplicates"] for st in stats)
            ended = max((t for st in stats for t in st["received_at"]), default=started)
        cpu = bus.cpu_s() - cpu0  # before the counters are read (erl_call: a remote call on the node)
        delivered = bus.deliveries() - delivered0
        links = {
            pair: (r.forward.since(before[pair][0]), r.backward.since(before[pair][1]))
            for pair, r in relays.items()
        }
        peers = bus.peer_bytes() if bus.peer_bytes else {}
        member_bytes = {pair: sent - peers0.get(pair, 0.0) for pair, sent in peers.items()}
        forwarded = bus.peer_messages() if bus.peer_messages else {}
        member_messages = {pair: n - forwarded0.get(pair, 0.0) for pair, n in forwarded.items()}
        for role in (*clients, *servers):
            role.stop_soon()  # all at once: an RPC server takes a second or more to stop
    delay = max(delays, default=0.0)
    return CaseResult(
        case.name,
        delay,
        latencies,
        failures,
        duplicates,
        elapsed_s=ended - started,
        links=links,
        shapes={pair: r.shape for pair, r in relays.items()},
        broker_cpu_s=cpu,
        broker_deliveries=delivered,
        broker_rss_mb=bus.rss_mb(),
        member_bytes=member_bytes,
        member_messages=member_messages,
    )
