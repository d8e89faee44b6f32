"""`wanstack bench SCENARIO`: the scenario's messaging test cases run for real on this machine.

The brokers are the scenario's buses:
- one RabbitMQ node where every site's bus is (the centralized model's, at the top site);
- one node per cell or region (cells, region per site), each at its bus's site: a server listens on
  its own site's bus, a client reaches it on that bus, a fanout goes out on every bus its servers are
  on, and a listener consumes from every notification bus the notifiers use (`bench.cases.Bus`);
- with `messaging: {rpc: broker-cluster}`, a RabbitMQ cluster with a member at each rpc-bus site
  (`bench.cluster`), whose members talk to each other across the emulated WAN.
A role reaches a node at another site through a relay with the one-way delay of the route between the
two sites. What a relay carried each way (bytes and AMQP messages) counts on every backbone link of
that route; so do the bytes between cluster members (through the relays of their Erlang
distribution). A router mesh runs as a NATS server per rpc-bus site (`bench.nats`), its servers'
route traffic counted the same way. One machine hosts at most MAX_SITES sites (each a client or server
process of ~40 MB and a relay) and MAX_BROKERS nodes, so larger topologies are refused with that
reason, as are buses that cannot run here (brokerless, Kafka: simulate those).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator

from wanstack.bench.cases import Bus, run_case
from wanstack.bench.cluster import RabbitCluster
from wanstack.bench.nats import NatsCluster
from wanstack.bench.rabbit import RABBIT_MB, RabbitBrokers
from wanstack.results.cases import CasesTally, route_traffic
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.services import NotificationBackend, RpcBackend, Service
from wanstack.scenario.testplan import MessagingCase, Pattern, default_cases

MAX_SITES = 16
# Idle RabbitMQ nodes at ~130 MB each (shared domain notes §9), and one Erlang VM per core each.
MAX_BROKERS = 12


def edge_sites(infra: Infrastructure) -> list[str]:
    top = infra.placement.top_site
    return [s for s, site in infra.sites.items() if s != top and site.host_count > 0]


def scenario_cases(infra: Infrastructure, messages: int = 20) -> list[MessagingCase]:
    return default_cases(infra.placement.top_site, edge_sites(infra), messages=messages)


@contextlib.contextmanager
def scenario_bus(infra: Infrastructure, notifications: bool = True) -> Iterator[Bus]:
    """The scenario's buses, started on this machine (and stopped, whatever happens); without
    `notifications`, a separate notification bus is not started (no case needs it)."""
    placement = infra.placement
    plans = placement.regions

    def delay(a: str, b: str) -> float:
        return infra.topology.path_delay_ms(a, b)

    def home(service: Service, site: str) -> str:
        found = placement.serving(service, site)
        return (
            found if found is not None else placement.region_by_name[placement.region_of[site]].control_site
        )

    if len(plans) == 1 and plans[0].rpc is RpcBackend.ROUTER_MESH:
        yield from _routed_bus(infra, delay, home, notifications)
        return
    if len(plans) == 1 and plans[0].rpc is RpcBackend.BROKER_CLUSTER:
        members = placement.sites_of(Service.RPC_BUS) or [plans[0].control_site]
        with RabbitCluster(members, delay, name="wanstack-bench") as cluster:
            numbers = {site: k for k, site in enumerate(cluster.sites, 1)}
            yield Bus(cluster.members, cluster.nearest, delay, cluster.peer_bytes, numbers=numbers)
        return
    refused = [
        f"{plan.name}: rpc {plan.rpc.value}, notifications {plan.notifications.value}"
        for plan in plans
        if plan.rpc is not RpcBackend.BROKER or plan.notifications is not NotificationBackend.BROKER
    ]
    if refused:
        raise ValueError(
            f"model {infra.model.name} ({'; '.join(refused)}): the bench runs RabbitMQ brokers (one, "
            "one per cell or region) or one RabbitMQ cluster; simulate it (`wanstack bench --simulate`)"
        )
    rpc = {s: home(Service.RPC_BUS, s) for s in infra.sites}
    notifying = {s: home(Service.NOTIFICATION_BUS, s) for s in infra.sites}
    sites = sorted({*rpc.values(), *(notifying.values() if notifications else ())})
    if len(sites) > MAX_BROKERS:
        raise ValueError(
            f"{len(sites)} brokers: one machine runs at most {MAX_BROKERS} RabbitMQ nodes "
            f"(~{RABBIT_MB} MB each); use a smaller topology or the simulator"
        )
    with RabbitBrokers(sites, name="wanstack-bench") as brokers:
        yield Bus(brokers.nodes, rpc.__getitem__, delay, shared=False, notifying=notifying.__getitem__)


def _routed_bus(
    infra: Infrastructure,
    delay: Callable[[str, str], float],
    home: Callable[[Service, str], str],
    notifications: bool,
) -> Iterator[Bus]:
    """A router per rpc-bus site: NATS servers in a cluster (`bench.nats`); each site's roles use the
    nearest server. Notifications stay on the model's brokers (RabbitMQ)."""
    placement = infra.placement
    plan = placement.regions[0]
    if plan.notifications is not NotificationBackend.BROKER:
        raise ValueError(
            f"model {infra.model.name}: notifications on {plan.notifications.value} cannot run here "
            "(no Kafka in Debian); simulate it (`wanstack bench --simulate`)"
        )
    routers = placement.sites_of(Service.RPC_BUS) or [plan.control_site]
    notifying = {s: home(Service.NOTIFICATION_BUS, s) for s in infra.sites}
    with (
        NatsCluster(routers, delay, name="wanstack-bench") as cluster,
        RabbitBrokers(
            sorted(set(notifying.values())) if notifications else [], name="wanstack-bench"
        ) as brokers,
    ):
        yield Bus(
            cluster.members,
            cluster.nearest,
            delay,
            cluster.peer_bytes,
            peer_messages=cluster.peer_messages,
            notifying=notifying.__getitem__,
            notification_nodes=brokers.nodes,
        )


def bench_scenario(
    infra: Infrastructure, cases: list[MessagingCase], progress: Callable[[str], None] | None = None
) -> RunResult:
    sites = edge_sites(infra)
    if len(sites) + 1 > MAX_SITES:
        raise ValueError(
            f"{len(sites) + 1} sites: one machine benches at most {MAX_SITES}; "
            "use a smaller topology or the simulator"
        )
    start = time.perf_counter()
    tally = CasesTally()
    with scenario_bus(infra, any(c.pattern is Pattern.NOTIFY for c in cases)) as bus:
        for case in cases:
            if progress:
                progress(case.name)
            r = run_case(bus, case)
            topo = infra.topology
            links = [
                x
                for (site, node), (forth, back) in r.links.items()
                for x in route_traffic(
                    topo,
                    node,
                    site,
                    (back.messages, forth.messages),
                    (back.bytes, forth.bytes),
                    r.elapsed_s,
                )
            ]
            # A cluster's members talk over the WAN too (queues homed elsewhere, forwarded messages,
            # the cluster's own ticks): their bytes count on the links of their route, and their
            # messages where the relay can parse them (NATS routes; Erlang distribution: bytes only).
            for a, b in sorted({tuple(sorted(pair)) for pair in r.member_bytes}):
                sent = (r.member_bytes.get((a, b), 0.0), r.member_bytes.get((b, a), 0.0))
                forwarded = (r.member_messages.get((a, b), 0.0), r.member_messages.get((b, a), 0.0))
                links += route_traffic(topo, a, b, forwarded, sent, r.elapsed_s)
            tally.add(
                case,
                r.latencies_ms,
                r.failures,
                r.elapsed_s,
                links,
                r.broker_deliveries,
                r.broker_cpu_s,
                r.duplicates,
                r.broker_rss_mb,
            )
    # The broker's Erlang VM runs one scheduler per core.
    return tally.result("bench", infra, time.perf_counter() - start, os.cpu_count() or 1)
