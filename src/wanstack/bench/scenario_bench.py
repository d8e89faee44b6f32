"""`wanstack bench SCENARIO`: the scenario's messaging test cases run for real on this machine.

The brokers are the scenario's buses (`bench.buses`, one starter per backend, named as the
simulator's `sim.bus` modules). A role reaches a node at another site through a relay with the shape
of the route between the two sites (its links' delays each way, jitter, loss and bottleneck rate,
composed as the simulator composes a route: `lab.relay.LinkShape.of_path`). What a relay carried
each way (bytes and AMQP messages) counts on every backbone link of that route; so do the bytes
between cluster members (through the relays of their Erlang distribution). A router mesh runs as a
NATS server per rpc-bus site (`bench.nats`), its servers' route traffic counted the same way. One
machine hosts at most MAX_SITES sites (each a client or server process of ~40 MB and a relay) and
`buses.MAX_BROKERS` nodes, so larger topologies are refused with that reason, as are buses that
cannot run here (brokerless, Kafka: simulate those).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from wanstack.bench.buses import scenario_bus
from wanstack.bench.cases import run_case
from wanstack.results.cases import CaseRun, CasesTally, route_traffic
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.testplan import MessagingCase, Pattern, default_cases

MAX_SITES = 16


def edge_sites(infra: Infrastructure) -> list[str]:
    """The sites with compute hosts other than the top site: where the test cases' edge roles run."""
    top = infra.placement.top_site
    return [s for s, site in infra.sites.items() if s != top and site.host_count > 0]


def scenario_cases(infra: Infrastructure, messages: int = 20) -> list[MessagingCase]:
    """The test plan's cases (`scenario.testplan.default_cases`) on the scenario's top and edge sites,
    `messages` per client."""
    return default_cases(infra.placement.top_site, edge_sites(infra), messages=messages)


def bench_scenario(
    infra: Infrastructure, cases: list[MessagingCase], progress: Callable[[str], None] | None = None
) -> RunResult:
    """Run `cases` one after the other on the scenario's buses started on this machine, and tally them as the
    engine "bench"'s result: each case's latencies and failures, the traffic of each relay and between cluster
    members spread on the backbone links of its route, and the nodes' deliveries, CPU and memory. ValueError
    when the scenario has more than `MAX_SITES` sites to run roles at, or buses that cannot run here."""
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
                    duration_s=r.elapsed_s,
                )
            ]
            # A cluster's members talk over the WAN too (queues homed elsewhere, forwarded messages,
            # the cluster's own ticks): their bytes count on the links of their route, and their
            # messages where the relay can parse them (NATS routes; Erlang distribution: bytes only).
            for a, b in sorted({tuple(sorted(pair)) for pair in r.member_bytes}):
                sent = (r.member_bytes.get((a, b), 0.0), r.member_bytes.get((b, a), 0.0))
                forwarded = (r.member_messages.get((a, b), 0.0), r.member_messages.get((b, a), 0.0))
                links += route_traffic(topo, a, b, forwarded, sent, duration_s=r.elapsed_s)
            run = CaseRun(
                r.latencies_ms,
                r.failures,
                r.elapsed_s,
                links,
                r.broker_deliveries,
                r.broker_cpu_s,
                duplicates=r.duplicates,
                broker_memory_mb=r.broker_rss_mb,
            )
            tally.add(case, run)
    # The broker's Erlang VM runs one scheduler per core.
    return tally.result("bench", infra, time.perf_counter() - start, os.cpu_count() or 1)
