"""A simulated run's figures in the common result schema (`results.schema`): one function per table."""

from __future__ import annotations

from wanstack.results.cases import link_traffic
from wanstack.results.schema import LinkTraffic, OperationResult, Samples, SiteTraffic, StationStats
from wanstack.results.stats import latency_stats
from wanstack.scenario.placement import Placement
from wanstack.scenario.services import Service
from wanstack.scenario.workload import OperationKind
from wanstack.sim.network import Network
from wanstack.sim.operation import Operation
from wanstack.sim.stations import Stations


def operations(finished: list[Operation], submitted: dict[str, int], net: Network) -> list[OperationResult]:
    """Per kind of operation submitted: outcomes, latencies of those that succeeded, WAN bytes each."""
    ops: dict[str, list[Operation]] = {}
    for op in finished:
        ops.setdefault(op.kind.value, []).append(op)
    out = []
    for kind in OperationKind:
        name = kind.value
        if name not in submitted:
            continue
        done = ops.get(name, [])
        ok = [o for o in done if o.outcome == "ok"]
        reasons: dict[str, int] = {}
        for o in done:
            if o.outcome != "ok":
                reasons[o.reason] = reasons.get(o.reason, 0) + 1
        wan = net.wan_bytes_by_tag.get(name, 0.0)
        out.append(
            OperationResult(
                op=name,
                submitted=submitted[name],
                succeeded=len(ok),
                failed=sum(o.outcome == "failed" for o in done),
                timed_out=sum(o.outcome == "timeout" for o in done),
                latency_ms=latency_stats([o.end - o.start for o in ok]),
                wan_bytes_per_op=wan / len(ok) if ok else None,
                failure_reasons=reasons,
            )
        )
        rally = [o for o in ok if o.rally_end >= 0]
        if rally:  # observer rally: the same operations as Rally reports them
            out.append(
                OperationResult(
                    op=f"{name} (rally)",
                    submitted=submitted[name],
                    succeeded=len(rally),
                    failed=sum(o.outcome == "failed" for o in done),
                    timed_out=sum(o.outcome == "timeout" for o in done),
                    latency_ms=latency_stats([o.rally_end - o.start for o in rally]),
                    wan_bytes_per_op=wan / len(ok),
                    failure_reasons=reasons,
                )
            )
    return out


def samples(finished: list[Operation]) -> Samples:
    """Each finished operation in the order it finished (the simulator's clock is in ms)."""
    return Samples(
        op=[o.kind.value for o in finished],
        site=[o.site for o in finished],
        start_s=[o.start / 1000.0 for o in finished],
        latency_ms=[o.end - o.start for o in finished],
        outcome=[o.outcome for o in finished],
    )


def links(net: Network, duration_s: float) -> list[LinkTraffic]:
    """What each backbone link carried each way, and its load over `duration_s`."""
    net.flush()
    return [
        link_traffic(
            link.a,
            link.b,
            net.link_messages[i],
            net.link_bytes[i],
            bandwidth_mbps=link.bandwidth_mbps,
            duration_s=duration_s,
            bulk=net.link_bulk_bytes[i],
        )
        for i, link in enumerate(net.links)
    ]


def sites(net: Network, names: list[str]) -> list[SiteTraffic]:
    """Per site of `names`: the bytes it sent and received over the WAN and those that stayed on its LAN."""
    return [
        SiteTraffic(
            site=s,
            wan_bytes_out=net.wan_bytes_out.get(s, 0.0),
            wan_bytes_in=net.wan_bytes_in.get(s, 0.0),
            local_bytes=net.local_bytes.get(s, 0.0),
        )
        for s in names
    ]


def stations(
    all_stations: Stations, duration_ms: float, connections: dict[tuple[str, str], int]
) -> list[StationStats]:
    """Every station's size, jobs served, utilisation, mean and largest queue over `duration_ms`, and its
    connections where `connections` counts them (by kind and site)."""
    return [
        StationStats(
            kind=kind,
            site=site,
            workers=st.workers,
            service_ms=st.service_ms,
            jobs=st.jobs,
            utilisation=st.utilisation(duration_ms),
            mean_queue=st.mean_queue(duration_ms),
            max_queue=st.max_queue,
            connections=connections.get((kind, site)),
        )
        for (kind, site), st in sorted(all_stations.by_key.items())
    ]


def broker_connections(
    hosts: dict[str, int], placement: Placement, all_stations: Stations
) -> dict[tuple[str, str], int]:
    """AMQP connections per broker: each host's nova-compute and neutron agent hold one (at least)."""
    out: dict[tuple[str, str], int] = {}
    for site, count in hosts.items():
        bus = placement.serving(Service.RPC_BUS, site)
        if bus is not None and ("rpc-broker", bus) in all_stations.by_key:
            out[("rpc-broker", bus)] = out.get(("rpc-broker", bus), 0) + 2 * count
    return out
