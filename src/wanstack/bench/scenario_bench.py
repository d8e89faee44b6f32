"""`wanstack bench SCENARIO`: the scenario's messaging test cases run for real on this machine.

The broker runs at the scenario's top site (the centralized model's RPC bus); every other site reaches
it through its own relay with the one-way delay of its route to the top site. A link in the result is
that route (top site, site): what its relay carried each way, in bytes and AMQP messages. One machine
hosts at most MAX_SITES sites (each a client or server process of ~40 MB and a relay), so larger
topologies are refused with that reason.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from wanstack.bench.cases import run_case
from wanstack.bench.rabbit import RabbitNode
from wanstack.results.cases import CasesTally, link_traffic
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.testplan import MessagingCase, default_cases

MAX_SITES = 16


def edge_sites(infra: Infrastructure) -> list[str]:
    top = infra.placement.top_site
    return [s for s, site in infra.sites.items() if s != top and site.host_count > 0]


def scenario_cases(infra: Infrastructure, messages: int = 20) -> list[MessagingCase]:
    return default_cases(infra.placement.top_site, edge_sites(infra), messages=messages)


def bench_scenario(
    infra: Infrastructure, cases: list[MessagingCase], progress: Callable[[str], None] | None = None
) -> RunResult:
    top = infra.placement.top_site
    sites = edge_sites(infra)
    if len(sites) + 1 > MAX_SITES:
        raise ValueError(
            f"{len(sites) + 1} sites: one machine benches at most {MAX_SITES}; "
            "use a smaller topology or the simulator"
        )
    delays = {s: infra.topology.path_delay_ms(s, top) for s in sites}
    start = time.perf_counter()
    tally = CasesTally()
    with RabbitNode(name="wanstack-bench") as broker:
        for case in cases:
            if progress:
                progress(case.name)
            r = run_case(broker, top, case, delays)
            links = [
                link_traffic(
                    top,
                    site,
                    (back.messages, forth.messages),
                    (back.bytes, forth.bytes),
                    infra.topology.bottleneck_mbps(top, site),
                    r.elapsed_s,
                )
                for site, (forth, back) in r.links.items()
            ]
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
