"""`simulate(infrastructure)`: wire the workload, background traffic, faults, quotas and inventory
onto the scenario's simulated deployment (`world.build_world`: the kernel, network, stations and
messaging), run it, and return a `RunResult`.

The engine only wires: each component gets what it uses (the clock, the network, the stations, the
messaging of each region, ...) and none reaches back into the engine. It never prints; `progress` (a
callable taking the fraction done) is how views follow it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wanstack.results.header import run_header
from wanstack.results.schema import RunResult
from wanstack.results.sla import with_sla
from wanstack.scenario.build import Infrastructure
from wanstack.sim import collect
from wanstack.sim.background import Background, Liveness
from wanstack.sim.faults import Faults
from wanstack.sim.host import BenchHost
from wanstack.sim.inventory import Inventory
from wanstack.sim.inventory_watch import InventoryWatch
from wanstack.sim.kernel import collector_out_of_the_way
from wanstack.sim.openstack import local_delete, workflows
from wanstack.sim.operations import Runner
from wanstack.sim.params import Params
from wanstack.sim.quotas import SYNC_TAG, QuotaKeeper
from wanstack.sim.series import SeriesRecorder
from wanstack.sim.workload import Users
from wanstack.sim.world import build_world


@dataclass(frozen=True)
class SimOptions:
    """How to simulate a scenario beyond what its file says: the simulator's parameters (a
    calibration's, or the defaults), whether its background traffic runs and how, and the bench-host
    plug-in."""

    params: Params = field(default_factory=Params)
    background: bool | None = None  # None: as the scenario says
    # Background traffic as per-site batches plus fluid station load (True), every host on its own
    # (False), or None: fluid from FLUID_ABOVE_HOSTS hosts up, where exact runs get slow.
    fluid_background: bool | None = None
    # The bench-host plug-in, to predict this repository's own bench (`sim.host`); None for a WAN study.
    host: BenchHost | None = None


FLUID_ABOVE_HOSTS = 5_000


class Engine:
    """One scenario's simulated run, wired and ready to `run`: its world (`world`, with the clock
    `sim`, the network `net`, the stations and each region's messaging), the users who submit the
    workload (`users`, through the operations' `runner`), the background traffic (`background`, None
    when off), the faults, the quotas and the inventory watch. Tests reach these to look inside a
    run; `simulate` is the way to get its result."""

    def __init__(self, infra: Infrastructure, options: SimOptions | None = None) -> None:
        options = options or SimOptions()
        self.infra = infra
        scenario = infra.scenario
        self.placement = infra.placement
        self.world = w = build_world(infra, options.params, options.host)
        self.params = w.params
        self.sim, self.net, self.flows, self.chains = w.sim, w.net, w.flows, w.chains
        self.stations, self.roles, self.messaging = w.stations, w.roles, w.messaging
        bg = scenario.background
        enabled = bg.enabled if options.background is None else options.background
        self.liveness = Liveness(
            bg.nova_service_down_time_s * 1000.0, bg.neutron_agent_down_time_s * 1000.0, enabled
        )
        self.inventory = Inventory(infra.sites)
        fluid = options.fluid_background
        if fluid is None:
            fluid = sum(s.host_count for s in infra.sites.values()) > FLUID_ABOVE_HOSTS
        self.background = (
            Background(world=w, config=bg, liveness=self.liveness, hosts=self.inventory.hosts, fluid=fluid)
            if enabled
            else None
        )
        self.faults = Faults(
            world=w,
            faults=scenario.faults,
            top=self.placement.top_site,
            sites=list(infra.sites),
            changed=self._network_changed,
            agents_down=self.background.agents_down if self.background is not None else set(),
        )
        self.quotas = QuotaKeeper(
            world=w,
            projects=list(scenario.quotas.projects),
            compute_sites=[site for site, n in self.inventory.hosts.items() if n],
        )
        self.runner = Runner(
            world=w,
            inventory=self.inventory,
            liveness=self.liveness,
            image_bytes={img.name: img.size_mb * 1e6 for img in scenario.workload.images},
            workflows=workflows(scenario.openstack),
            local_delete=local_delete(scenario.openstack),
            quotas=self.quotas,
        )
        self.inventory_watch = InventoryWatch(world=w, servers=self.inventory)
        self.users = Users(sim=self.sim, runner=self.runner, inventory=self.inventory)

    def _network_changed(self) -> None:
        self.inventory_watch.network_changed()
        self.flows.reroute_or_fail()
        if self.background is not None:
            self.background.refresh_rates()  # hosts cut off or gone stop loading the stations

    def run(self, progress: Callable[[float], None] | None = None) -> RunResult:
        """Run the scenario for its duration and collect its result (without the SLA verdicts:
        `simulate` adds them); `progress(fraction done)` now and then."""
        wall = time.perf_counter()
        scenario = self.infra.scenario
        duration = scenario.run.duration_s * 1000.0
        self.users.start(scenario.workload.operations)
        if self.background is not None:
            self.background.start()
        self.faults.start()
        self.quotas.start()
        self.inventory_watch.start()
        series = SeriesRecorder(
            world=self.world,
            users=self.users,
            inventory=self.inventory,
            liveness=self.liveness,
            resolution_ms=scenario.run.resolution_s * 1000.0,
        )
        series.start()
        with collector_out_of_the_way():
            self.sim.run(duration, None if progress is None else (lambda now: progress(now / duration)))
        self.net.flush()
        if progress is not None:
            progress(1.0)
        return self._result(time.perf_counter() - wall, series)

    def _result(self, wall_s: float, series: SeriesRecorder) -> RunResult:
        duration = self.sim.now
        infra = self.infra
        boots = [(o.site, o.start, o.outcome) for o in self.users.finished if o.kind.value == "boot"]
        connections = collect.broker_connections(self.inventory.hosts, self.placement, self.stations)
        return RunResult(
            **run_header(infra, "sim"),
            duration_s=duration / 1000.0,
            wall_time_s=wall_s,
            events=self.sim.events,
            operations=collect.operations(self.users.finished, self.users.submitted, self.net),
            links=collect.links(self.net, duration / 1000.0),
            sites=collect.sites(self.net, list(infra.sites)),
            stations=collect.stations(self.stations, duration, connections),
            outages=list(self.liveness.outages),
            faults=self.faults.impacts(boots),
            quotas=self.quotas.results(),
            inventory=self.inventory_watch.results(),
            timeseries=series.series,
            samples=collect.samples(self.users.finished),
            totals={
                "wan_bytes": self.net.wan_bytes_total,
                "wan_bytes_background": self.net.wan_bytes_by_tag.get("background", 0.0),
                "messages_dropped": float(self.net.dropped),
                "instances_active_at_end": float(self.inventory.count("active")),
                "hosts": float(sum(self.inventory.hosts.values())),
                # The quota modes' periodic exchanges (only where the scenario sets quotas).
                **(
                    {"wan_bytes_quota_sync": self.net.wan_bytes_by_tag.get(SYNC_TAG, 0.0)}
                    if self.quotas.books
                    else {}
                ),
            },
        )


def simulate(
    infra: Infrastructure, options: SimOptions | None = None, progress: Callable[[float], None] | None = None
) -> RunResult:
    """Simulate `infra`'s scenario with `options` (default: the default parameters, the scenario's
    own background) and return its result with the scenario's SLA verdicts; `progress(fraction
    done)` is called as it runs. Same scenario, seed and options: the same result, byte for byte
    (but for `wall_time_s`)."""
    return with_sla(Engine(infra, options).run(progress), infra.scenario.sla)
