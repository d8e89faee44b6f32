"""Messaging test-case results in the common schema: each case becomes one `OperationResult`; what the
cases put on the WAN links and on the broker adds up into the run's `links` and `stations`."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from wanstack.results.schema import LinkTraffic, OperationResult, RunResult, StationStats
from wanstack.results.stats import latency_stats
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.testplan import MessagingCase
from wanstack.topology import Topology


def backends(per_region: Iterable[StrEnum]) -> str:
    """The backend the cases ran on, as the regions' plans say (the bench starts a NATS server per
    rpc-bus site for `router-mesh`, a RabbitMQ cluster for `broker-cluster`: `bench.buses`): one
    name, or the distinct ones joined by '+' when regions differ (the simulator runs each its own)."""
    return "+".join(sorted({b.value for b in per_region}))


def case_result(
    name: str,
    latencies_ms: Sequence[float],
    submitted: int,
    failures: int,
    *,
    duplicates: int = 0,
    elapsed_s: float | None = None,
    wan_bytes: float | None = None,
) -> OperationResult:
    """`elapsed_s`: from the case's start to its last delivery; `wan_bytes`: what crossed the WAN."""
    reasons = {"duplicates": duplicates} if duplicates else {}
    ok = len(latencies_ms)
    return OperationResult(
        op=name,
        submitted=submitted,
        succeeded=ok,
        failed=failures,
        timed_out=0,
        latency_ms=latency_stats(latencies_ms),
        wan_bytes_per_op=wan_bytes / ok if wan_bytes is not None and ok else None,
        rate_per_s=ok / elapsed_s if elapsed_s else None,
        failure_reasons=reasons,
    )


def link_traffic(
    a: str,
    b: str,
    messages: Sequence[float],
    nbytes: Sequence[float],
    *,
    bandwidth_mbps: float,
    duration_s: float,
    bulk: Sequence[float] = (0.0, 0.0),
) -> LinkTraffic:
    """One link's traffic per direction (a→b, b→a); utilisation of its busiest direction."""
    capacity = bandwidth_mbps * 1e6 / 8 * duration_s
    return LinkTraffic(
        a=a,
        b=b,
        messages_ab=messages[0],
        messages_ba=messages[1],
        bytes_ab=nbytes[0],
        bytes_ba=nbytes[1],
        bulk_bytes_ab=bulk[0],
        bulk_bytes_ba=bulk[1],
        bandwidth_mbps=bandwidth_mbps,
        mean_utilisation=max(nbytes) / capacity if capacity else 0.0,
    )


def route_traffic(
    topology: Topology,
    a: str,
    b: str,
    messages: Sequence[float],
    nbytes: Sequence[float],
    *,
    duration_s: float,
) -> list[LinkTraffic]:
    """What flowed between two sites (a→b, b→a) as traffic on every backbone link of their route,
    each link oriented as the topology defines it."""
    out = []
    for u, v in itertools.pairwise(topology.path(a, b)):
        link = topology.link(u, v)
        assert link is not None  # consecutive sites of a route
        forward = (link.a, link.b) == (u, v)
        m = (messages[0], messages[1]) if forward else (messages[1], messages[0])
        n = (nbytes[0], nbytes[1]) if forward else (nbytes[1], nbytes[0])
        out.append(
            link_traffic(link.a, link.b, m, n, bandwidth_mbps=link.bandwidth_mbps, duration_s=duration_s)
        )
    return out


def add_links(per_case: Iterable[LinkTraffic], duration_s: float) -> list[LinkTraffic]:
    """The links of several cases run one after the other, as one run of `duration_s`."""
    total: dict[tuple[str, str], list[float]] = {}
    bandwidth: dict[tuple[str, str], float] = {}
    for x in per_case:
        counts = total.setdefault((x.a, x.b), [0.0] * 4)
        for i, value in enumerate((x.messages_ab, x.messages_ba, x.bytes_ab, x.bytes_ba)):
            counts[i] += value
        bandwidth[x.a, x.b] = x.bandwidth_mbps
    return [
        link_traffic(a, b, counts[:2], counts[2:], bandwidth_mbps=bandwidth[a, b], duration_s=duration_s)
        for (a, b), counts in total.items()
    ]


def broker_stats(
    site: str, workers: int, jobs: int, busy_s: float, duration_s: float, *, memory_mb: float | None = None
) -> StationStats:
    """The broker over the whole run: `busy_s` of its `workers` (CPU seconds in the bench)."""
    return StationStats(
        kind="rpc-broker",
        site=site,
        workers=workers,
        service_ms=busy_s * 1000.0 / jobs if jobs else 0.0,
        jobs=jobs,
        utilisation=busy_s / (workers * duration_s) if duration_s else 0.0,
        mean_queue=None,
        max_queue=None,
        memory_mb=memory_mb,
    )


@dataclass
class CaseRun:
    """One case's run in either engine: its latencies and failures, its own time (first message sent
    to last answer or delivery), what it put on the links and on the broker (`broker_busy_s`: CPU
    seconds in the bench, busy workers × time in the simulator)."""

    latencies_ms: Sequence[float]
    failures: int
    elapsed_s: float
    links: list[LinkTraffic]
    broker_jobs: int
    broker_busy_s: float
    duplicates: int = 0
    broker_memory_mb: float | None = None


@dataclass
class CasesTally:
    """What the messaging cases of one run add up to, case after case, in either engine."""

    operations: list[OperationResult] = field(default_factory=list)
    links: list[LinkTraffic] = field(default_factory=list)
    broker_jobs: int = 0
    broker_busy_s: float = 0.0
    broker_memory_mb: float | None = None
    duration_s: float = 0.0

    def add(self, case: MessagingCase, run: CaseRun) -> None:
        wan = sum(x.bytes_ab + x.bytes_ba for x in run.links)
        self.operations.append(
            case_result(
                case.name,
                run.latencies_ms,
                case.deliveries,
                run.failures,
                duplicates=run.duplicates,
                elapsed_s=run.elapsed_s,
                wan_bytes=wan,
            )
        )
        self.links += run.links
        self.broker_jobs += run.broker_jobs
        self.broker_busy_s += run.broker_busy_s
        self.duration_s += run.elapsed_s
        if run.broker_memory_mb is not None:
            self.broker_memory_mb = max(self.broker_memory_mb or 0.0, run.broker_memory_mb)

    def result(self, engine: str, infra: Infrastructure, wall_s: float, broker_workers: int) -> RunResult:
        """The cases as one run of the cases' own time, one after the other (not the set-up between)."""
        links = add_links(self.links, self.duration_s)
        broker = broker_stats(
            infra.placement.top_site,
            broker_workers,
            self.broker_jobs,
            self.broker_busy_s,
            self.duration_s,
            memory_mb=self.broker_memory_mb,
        )
        return RunResult(
            engine=engine,
            scenario=infra.scenario.name,
            model=infra.model.name,
            rpc_backend=backends(r.rpc for r in infra.placement.regions),
            notification_backend=backends(r.notifications for r in infra.placement.regions),
            seed=infra.scenario.run.seed,
            duration_s=self.duration_s,
            wall_time_s=wall_s,
            operations=self.operations,
            links=links,
            stations=[broker],
            totals={"wan_bytes": sum(x.bytes_ab + x.bytes_ba for x in links)},
        )
