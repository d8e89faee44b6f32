"""The simulated deployment of a scenario, built once: the clock, the network, the chain runner, the
stations, who plays each role, and each region's messaging.

Every use of the simulator starts here: the engine (`engine.Engine`, which adds the workload, the
background, the faults and the quotas), the messaging test cases (`cases.simulate_case`), and the
layout that counting crossings and replaying a workflow need (`crossings.layout`). Building is
cheap: stations, roles and a region's buses are made on first use, so a layout that asks for one
site's roles makes only theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wanstack.scenario.build import Infrastructure
from wanstack.scenario.placement import Placement
from wanstack.sim.chain import ChainRunner
from wanstack.sim.flows import FlowNetwork
from wanstack.sim.host import BenchHost, shared_host
from wanstack.sim.kernel import Simulator
from wanstack.sim.messaging import EndCosts, RegionMessaging
from wanstack.sim.network import Network
from wanstack.sim.params import Params
from wanstack.sim.roles import Roles
from wanstack.sim.stations import Stations


@dataclass(frozen=True)
class World:
    """One scenario's deployment in simulated time, nothing started: see `build_world`."""

    infra: Infrastructure
    params: Params  # the options' parameters with the scenario's `stations:` sizes applied
    sim: Simulator
    net: Network
    flows: FlowNetwork  # bulk transfers (images, migrations) sharing the links
    chains: ChainRunner  # carries every message hop by hop (on the bench's host when one is given)
    stations: Stations
    roles: Roles
    messaging: RegionMessaging


@dataclass(kw_only=True)
class OnWorld:
    """A part of a run wired onto its world (the workload's runner, the background, the faults, the
    quotas, the watches): `world`'s clock, network, flows, chains, stations, roles, messaging,
    parameters and placement as its own attributes, taken once (the event path reads them on every step)."""

    world: World
    sim: Simulator = field(init=False, repr=False)
    net: Network = field(init=False, repr=False)
    params: Params = field(init=False, repr=False)
    flows: FlowNetwork = field(init=False, repr=False)
    chains: ChainRunner = field(init=False, repr=False)
    stations: Stations = field(init=False, repr=False)
    roles: Roles = field(init=False, repr=False)
    messaging: RegionMessaging = field(init=False, repr=False)
    placement: Placement = field(init=False, repr=False)  # where each service runs (the scenario's)

    def __post_init__(self) -> None:
        w = self.world
        self.sim, self.net, self.params, self.flows, self.chains = w.sim, w.net, w.params, w.flows, w.chains
        self.stations, self.roles, self.messaging = w.stations, w.roles, w.messaging
        self.placement = w.infra.placement


def build_world(infra: Infrastructure, params: Params | None = None, host: BenchHost | None = None) -> World:
    """`infra`'s deployment on a clock seeded with the scenario's seed: the network over its
    topology, the chain runner (the bench-host plug-in's when `host` is given, for predicting this
    repository's own bench: `sim.host`), the stations sized by `params` (default `Params()`) with
    the scenario's `stations:` overrides, the roles as the deployment model places them, and each
    region's messaging on its buses.

    The order of construction is the engine's since its first version (the network draws from its
    own random stream, the host's CPU from another: `Simulator.stream`), so a run's numbers do not
    depend on who built its world."""
    scenario = infra.scenario
    p = (params or Params()).with_overrides(scenario.stations)
    sim = Simulator(scenario.run.seed)
    late_ms = host.relay_late_ms if host is not None else 0.0
    net = Network(sim, infra.topology, p.lan_delay_ms, late_ms, p.bulk_queue_ms)
    flows = FlowNetwork(sim, net)
    chains = ChainRunner(net, shared_host(host, net, p.rpc_client_ms) if host is not None else None)
    stations = Stations(sim, p.station, net.site_up)
    roles = Roles(infra.placement, stations.get)
    messaging = RegionMessaging(
        infra.placement,
        net,
        chains,
        stations,
        EndCosts(p.rpc_client_ms, p.cast_end_ms, p.notify_end_ms),
        scenario.messaging.rpc_response_timeout_s * 1000.0,
    )
    return World(infra, p, sim, net, flows, chains, stations, roles, messaging)
