"""`wanstack bench SCENARIO`: the scenario's messaging test cases run for real on this machine.

The brokers are those of the scenario's RPC bus: one RabbitMQ node where every site's bus is (the
centralized model's, at the top site), or, with `messaging: {rpc: broker-cluster}`, a RabbitMQ cluster
with a member at each rpc-bus site (`bench.cluster`), whose members talk to each other across the
emulated WAN. Every site's roles reach their node (its own, or the nearest member) through a relay
with the one-way delay of the route between the two sites. What a relay carried each way (bytes and
AMQP messages) counts on every backbone link of that route; so do the bytes between cluster members
(through the relays of their Erlang distribution). One machine hosts at most MAX_SITES sites (each a
client or server process of ~40 MB and a relay), so larger topologies are refused with that reason;
so are models with a bus per cell or region, whose test cases would need a server per bus (simulate
those).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator

from wanstack.bench.cases import Bus, run_case
from wanstack.bench.cluster import RabbitCluster
from wanstack.bench.rabbit import RabbitNode
from wanstack.results.cases import CasesTally, route_traffic
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.services import RpcBackend, Service
from wanstack.scenario.testplan import MessagingCase, default_cases

MAX_SITES = 16


def edge_sites(infra: Infrastructure) -> list[str]:
    top = infra.placement.top_site
    return [s for s, site in infra.sites.items() if s != top and site.host_count > 0]


def scenario_cases(infra: Infrastructure, messages: int = 20) -> list[MessagingCase]:
    return default_cases(infra.placement.top_site, edge_sites(infra), messages=messages)


@contextlib.contextmanager
def scenario_bus(infra: Infrastructure) -> Iterator[Bus]:
    """The scenario's RPC bus, started on this machine (and stopped, whatever happens)."""
    placement = infra.placement
    plan = placement.regions[0]

    def delay(a: str, b: str) -> float:
        return infra.topology.path_delay_ms(a, b)

    if plan.rpc is RpcBackend.BROKER_CLUSTER:
        members = placement.sites_of(Service.RPC_BUS) or [plan.control_site]
        with RabbitCluster(members, delay, name="wanstack-bench") as cluster:
            yield Bus(cluster.members, cluster.nearest, delay, cluster.peer_bytes)
        return
    buses = {placement.serving(Service.RPC_BUS, s) or plan.control_site for s in infra.sites}
    if plan.rpc is not RpcBackend.BROKER or len(placement.regions) > 1 or len(buses) > 1:
        raise ValueError(
            f"model {infra.model.name} ({plan.rpc.value}, {len(buses)} RPC buses): the bench runs the test "
            "cases on one broker or one broker cluster; simulate it (`wanstack bench --simulate`)"
        )
    (top,) = buses
    with RabbitNode(name="wanstack-bench") as broker:
        yield Bus({top: broker}, lambda site: top, delay)


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
    with scenario_bus(infra) as bus:
        for case in cases:
            if progress:
                progress(case.name)
            r = run_case(bus, case)
            topo = infra.topology
            links = [
                x
                for site, (forth, back) in r.links.items()
                for x in route_traffic(
                    topo,
                    bus.serving(site),
                    site,
                    (back.messages, forth.messages),
                    (back.bytes, forth.bytes),
                    r.elapsed_s,
                )
            ]
            # A cluster's members talk over the WAN too (queues homed elsewhere, the cluster's own
            # ticks): their bytes count on the links of their route; they carry no AMQP frames.
            for a, b in sorted({tuple(sorted(pair)) for pair in r.member_bytes}):
                sent = (r.member_bytes.get((a, b), 0.0), r.member_bytes.get((b, a), 0.0))
                links += route_traffic(topo, a, b, (0.0, 0.0), sent, r.elapsed_s)
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
