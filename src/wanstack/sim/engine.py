"""`simulate(infrastructure)`: wire the kernel, network, stations, messaging, workload, background
traffic and faults for one scenario, run it, and return a `RunResult`.

The engine never prints; `progress` (a callable taking the fraction done) is how views follow it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wanstack.results.cases import link_traffic
from wanstack.results.schema import (
    LinkTraffic,
    OperationResult,
    RunResult,
    SiteTraffic,
    StationStats,
    TimeSeries,
)
from wanstack.results.stats import latency_stats
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.placement import RegionPlan
from wanstack.scenario.services import RpcBackend, Service
from wanstack.scenario.workload import Operation as OperationSpec
from wanstack.scenario.workload import OperationKind
from wanstack.sim.background import Background, Liveness
from wanstack.sim.chain import ChainRunner, SharedHostChains
from wanstack.sim.context import Roles
from wanstack.sim.faults import Faults
from wanstack.sim.flows import FlowNetwork
from wanstack.sim.inventory import Inventory
from wanstack.sim.kernel import Simulator
from wanstack.sim.messaging import Messaging
from wanstack.sim.network import Network
from wanstack.sim.operations import Operation, Runner
from wanstack.sim.params import Params
from wanstack.sim.stations import Station


@dataclass(frozen=True)
class SimOptions:
    params: Params = field(default_factory=Params)
    background: bool | None = None  # None: as the scenario says
    # Background traffic as per-site batches plus fluid station load (True), every host on its own
    # (False), or None: fluid from FLUID_ABOVE_HOSTS hosts up, where exact runs get slow.
    fluid_background: bool | None = None


FLUID_ABOVE_HOSTS = 5_000


class Engine:
    def __init__(self, infra: Infrastructure, options: SimOptions | None = None) -> None:
        options = options or SimOptions()
        self.infra = infra
        self.scenario = infra.scenario
        self.placement = infra.placement
        self.params = options.params.with_overrides(self.scenario.stations)
        self.options = options
        self.sim = Simulator(self.scenario.run.seed)
        p = self.params
        self.net = Network(self.sim, infra.topology, p.lan_delay_ms, p.wan_overhead_ms, p.bulk_queue_ms)
        self.flows = FlowNetwork(self.sim, self.net)
        self.chains: ChainRunner = ChainRunner(self.net)
        if p.host_cores:
            cpu = Station(self.sim, ("host-cpu", "bench"), p.host_cores, 1.0)
            end_cpu = p.rpc_client_ms if p.rpc_client_cpu_ms is None else p.rpc_client_cpu_ms
            self.chains = SharedHostChains(
                self.net,
                cpu,
                end_cpu,
                p.relay_cpu_ms,
                p.poll_wake_cpu_ms,
                p.rpc_client_cv,
                p.end_warmth,
                p.end_crowding,
                p.end_crowding_spread,
            )
        self.stations: dict[tuple[str, str], Station] = {}
        self.brokers_down: set[tuple[str, str]] = set()
        self.roles = Roles(self.placement, self.station)
        self.rpc_timeout_ms = self.scenario.messaging.rpc_response_timeout_s * 1000.0
        self._messaging: dict[str, Messaging] = {}
        bg = self.scenario.background
        enabled = bg.enabled if options.background is None else options.background
        self.liveness = Liveness(
            bg.nova_service_down_time_s * 1000.0, bg.neutron_agent_down_time_s * 1000.0, enabled
        )
        self.inventory = Inventory(infra.sites)
        fluid = options.fluid_background
        if fluid is None:
            fluid = sum(s.host_count for s in infra.sites.values()) > FLUID_ABOVE_HOSTS
        self.background = Background(self, fluid) if enabled else None
        self.faults = Faults(self, self.scenario.faults)
        self.runner = Runner(self)
        self.token_expiry: dict[str, float] = {}
        self.token_cache: dict[tuple[str, str], float] = {}
        self.image_bytes = {img.name: img.size_mb * 1e6 for img in self.scenario.workload.images}
        self.finished: list[Operation] = []
        self.submitted: dict[str, int] = {}
        self.in_flight = 0

    # --- wiring --------------------------------------------------------------------------------
    def station(self, kind: str, site: str) -> Station:
        key = (kind, site)
        found = self.stations.get(key)
        if found is None:
            spec = self.params.station(kind)
            found = Station(self.sim, key, spec.workers, spec.service_ms)
            # Created on first use: born down if a fault already took its site or broker.
            found.up = self.net.site_up[site] and key not in self.brokers_down
            self.stations[key] = found
        return found

    def stations_at(self, site: str) -> list[Station]:
        return [s for (kind, where), s in self.stations.items() if where == site]

    def messaging_for(self, site: str) -> Messaging:
        region = self.placement.region_of[site]
        found = self._messaging.get(region)
        if found is None:
            plan = self.placement.region_by_name[region]
            found = self._make_messaging(plan)
            self._messaging[region] = found
        return found

    def _make_messaging(self, plan: RegionPlan) -> Messaging:
        placement = self.placement

        def rpc_bus(site: str) -> str:
            bus = placement.serving(Service.RPC_BUS, site)
            return bus if bus is not None else plan.control_site

        def notification_bus(site: str) -> str:
            bus = placement.serving(Service.NOTIFICATION_BUS, site)
            return bus if bus is not None else plan.control_site

        nodes = [
            i.site for i in placement.instances if i.service is Service.RPC_BUS and i.region == plan.name
        ]
        if plan.rpc is RpcBackend.BROKER_CLUSTER and not nodes:
            nodes = [plan.control_site]
        return Messaging(
            self.net,
            self.chains,
            self.station,
            plan.rpc,
            plan.notifications,
            rpc_bus,
            nodes,
            notification_bus,
            (self.params.rpc_client_ms, self.params.cast_end_ms, self.params.notify_end_ms),
            self.rpc_timeout_ms,
        )

    # --- workload ------------------------------------------------------------------------------
    def _targets(self, spec: OperationSpec) -> list[str]:
        if spec.sites:
            return list(spec.sites)
        return [name for name, count in self.inventory.hosts.items() if count > 0]

    def _start_closed(self, spec: OperationSpec) -> None:
        """Rally's constant runner: `times` operations, `concurrency` at a time."""
        sites = self._targets(spec)
        state = {"next": 0}

        def launch(_: object = None) -> None:
            i = state["next"]
            if i >= (spec.times or 0):
                return
            state["next"] = i + 1
            self._launch(spec, sites[i % len(sites)], launch)

        for _ in range(min(spec.concurrency, spec.times or 0)):
            self.sim.at(spec.start_s * 1000.0, launch)

    def _start_open(self, spec: OperationSpec) -> None:
        """Poisson arrivals at `rate_per_s` from `start_s` to the end of the run."""
        sites = self._targets(spec)
        rng = self.sim.stream(f"arrivals:{spec.op.value}:{spec.start_s}:{spec.rate_per_s}")
        rate = (spec.rate_per_s or 0.0) / 1000.0
        state = {"n": 0}

        def arrive(_: object = None) -> None:
            self._launch(spec, sites[state["n"] % len(sites)], None)
            state["n"] += 1
            self.sim.after(rng.expovariate(rate), arrive)

        self.sim.at(spec.start_s * 1000.0 + rng.expovariate(rate), arrive)

    def _launch(self, spec: OperationSpec, site: str, then: Callable[[object], None] | None) -> None:
        self.submitted[spec.op.value] = self.submitted.get(spec.op.value, 0) + 1
        self.in_flight += 1

        def done(op: Operation) -> None:
            self.in_flight -= 1
            self.finished.append(op)
            if then is not None:
                then(None)

        self.runner.start(spec.op, site, spec, done)

    # --- running -------------------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None) -> RunResult:
        wall = time.perf_counter()
        duration = self.scenario.run.duration_s * 1000.0
        for spec in self.scenario.workload.operations:
            if spec.times is not None:
                self._start_closed(spec)
            else:
                self._start_open(spec)
        if self.background is not None:
            self.background.start()
        self.faults.start()
        series = _SeriesRecorder(self, self.scenario.run.resolution_s * 1000.0)
        series.start()
        self.sim.run(duration, None if progress is None else (lambda now: progress(now / duration)))
        self.net.flush()
        if progress is not None:
            progress(1.0)
        return self._result(time.perf_counter() - wall, series.series)

    def _result(self, wall_s: float, series: TimeSeries) -> RunResult:
        duration = self.sim.now
        ops: dict[str, list[Operation]] = {}
        for op in self.finished:
            ops.setdefault(op.kind.value, []).append(op)
        operations = []
        for kind in OperationKind:
            name = kind.value
            if name not in self.submitted:
                continue
            done = ops.get(name, [])
            ok = [o for o in done if o.outcome == "ok"]
            reasons: dict[str, int] = {}
            for o in done:
                if o.outcome != "ok":
                    reasons[o.reason] = reasons.get(o.reason, 0) + 1
            wan = self.net.wan_bytes_by_tag.get(name, 0.0)
            operations.append(
                OperationResult(
                    op=name,
                    submitted=self.submitted[name],
                    succeeded=len(ok),
                    failed=sum(o.outcome == "failed" for o in done),
                    timed_out=sum(o.outcome == "timeout" for o in done),
                    latency_ms=latency_stats([o.end - o.start for o in ok]),
                    wan_bytes_per_op=wan / len(ok) if ok else None,
                    failure_reasons=reasons,
                )
            )
        links = self.link_traffic(duration / 1000.0)
        sites = [
            SiteTraffic(
                site=s,
                wan_bytes_out=self.net.wan_bytes_out.get(s, 0.0),
                wan_bytes_in=self.net.wan_bytes_in.get(s, 0.0),
                local_bytes=self.net.local_bytes.get(s, 0.0),
            )
            for s in self.infra.sites
        ]
        connections = self._broker_connections()
        stations = [
            StationStats(
                kind=kind,
                site=site,
                workers=st.workers,
                service_ms=st.service_ms,
                jobs=st.jobs,
                utilisation=st.utilisation(duration),
                mean_queue=st.mean_queue(duration),
                max_queue=st.max_queue,
                connections=connections.get((kind, site)),
            )
            for (kind, site), st in sorted(self.stations.items())
        ]
        boots = [(o.site, o.start, o.outcome) for o in ops.get(OperationKind.BOOT.value, [])]
        plan = self.placement.regions[0]
        return RunResult(
            engine="sim",
            scenario=self.scenario.name,
            model=self.infra.model.name,
            rpc_backend=plan.rpc.value,
            notification_backend=plan.notifications.value,
            seed=self.scenario.run.seed,
            duration_s=duration / 1000.0,
            wall_time_s=wall_s,
            events=self.sim.events,
            operations=operations,
            links=links,
            sites=sites,
            stations=stations,
            outages=list(self.liveness.outages),
            faults=self.faults.impacts(boots),
            timeseries=series,
            totals={
                "wan_bytes": self.net.wan_bytes_total,
                "wan_bytes_background": self.net.wan_bytes_by_tag.get("background", 0.0),
                "messages_dropped": float(self.net.dropped),
                "instances_active_at_end": float(self.inventory.count("active")),
                "hosts": float(sum(self.inventory.hosts.values())),
            },
        )

    def link_traffic(self, duration_s: float) -> list[LinkTraffic]:
        net = self.net
        net.flush()
        return [
            link_traffic(
                link.a,
                link.b,
                net.link_messages[i],
                net.link_bytes[i],
                link.bandwidth_mbps,
                duration_s,
                bulk=net.link_bulk_bytes[i],
            )
            for i, link in enumerate(net.links)
        ]

    def _broker_connections(self) -> dict[tuple[str, str], int]:
        """AMQP connections per broker: each host's nova-compute and neutron agent hold one (at least)."""
        out: dict[tuple[str, str], int] = {}
        for site, hosts in self.inventory.hosts.items():
            bus = self.placement.serving(Service.RPC_BUS, site)
            if bus is not None and ("rpc-broker", bus) in self.stations:
                out[("rpc-broker", bus)] = out.get(("rpc-broker", bus), 0) + 2 * hosts
        return out


class _SeriesRecorder:
    """Samples the run every `resolution` ms: WAN throughput, operations, busiest broker."""

    def __init__(self, engine: Engine, resolution: float) -> None:
        self.e = engine
        self.resolution = resolution
        self.series = TimeSeries(
            resolution_s=resolution / 1000.0,
            series={
                "wan_mbps": [],
                "ops_in_flight": [],
                "ops_finished": [],
                "busiest_broker_utilisation": [],
                "compute_sites_down": [],
            },
        )
        self._wan = 0.0
        self._finished = 0
        self._busy: dict[tuple[str, str], float] = {}

    def start(self) -> None:
        self.e.sim.after(self.resolution, self._sample)

    def _sample(self, _: object = None) -> None:
        e = self.e
        s = self.series.series
        self.series.t_s.append(e.sim.now / 1000.0)
        wan = e.net.wan_bytes_total
        s["wan_mbps"].append((wan - self._wan) * 8 / 1e6 / (self.resolution / 1000.0))
        self._wan = wan
        s["ops_in_flight"].append(float(e.in_flight))
        s["ops_finished"].append(float(len(e.finished) - self._finished))
        self._finished = len(e.finished)
        busiest = 0.0
        for key, st in e.stations.items():
            if key[0] in ("rpc-broker", "router"):
                area = st.busy_area()
                busiest = max(busiest, (area - self._busy.get(key, 0.0)) / (self.resolution * st.workers))
                self._busy[key] = area
        s["busiest_broker_utilisation"].append(busiest)
        down = sum(
            1 for site, n in e.inventory.hosts.items() if n and not e.liveness.compute_up(site, e.sim.now)
        )
        s["compute_sites_down"].append(float(down))
        e.sim.after(self.resolution, self._sample)


def simulate(
    infra: Infrastructure, options: SimOptions | None = None, progress: Callable[[float], None] | None = None
) -> RunResult:
    return Engine(infra, options).run(progress)
