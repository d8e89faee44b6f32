"""The scenario's buses on this machine, one starter per messaging backend, named as the simulator's
`sim.bus` modules:
- `broker`: one RabbitMQ node where each bus is — one at the top site (the centralized model's), or one
  per cell or region (cells, region per site), each at its bus's site: a server listens on its own
  site's bus, a client reaches it on that bus, a fanout goes out on every bus its servers are on, and a
  listener consumes from every notification bus the notifiers use (`bench.cases.Bus`);
- `broker_cluster`: a RabbitMQ cluster with a member at each rpc-bus site (`bench.cluster`), whose
  members talk to each other across the emulated WAN;
- `router_mesh`: a NATS server per rpc-bus site (`bench.nats`), NATS being the runnable counterpart of
  a router mesh here; notifications stay on RabbitMQ.
Brokerless RPC and Kafka notifications cannot run here (no driver left in oslo.messaging, no Debian
package): the simulator runs those.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from wanstack.bench.cases import Bus
from wanstack.bench.cluster import RabbitCluster
from wanstack.bench.nats import NatsCluster
from wanstack.lab.rabbit import RABBIT_MB, RabbitBrokers
from wanstack.lab.relay import LinkShape
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.services import NotificationBackend, RpcBackend, Service

# Idle RabbitMQ nodes at ~130 MB each (shared domain notes §9), and one Erlang VM per core each.
MAX_BROKERS = 12


@dataclass(frozen=True)
class BusSites:
    """Where a scenario's buses are: the WAN path between two sites, the site of the node serving a
    site for a service (its region's control site where the model places none)."""

    infra: Infrastructure

    def shape(self, a: str, b: str) -> LinkShape:
        """The path from a to b as a relay applies it (every field of its links), its draws seeded from
        the run's seed and the pair."""
        return LinkShape.of_path(self.infra.topology, a, b, seed=self.infra.scenario.run.seed)

    def home(self, service: Service, site: str) -> str:
        placement = self.infra.placement
        found = placement.serving(service, site)
        return (
            found if found is not None else placement.region_by_name[placement.region_of[site]].control_site
        )


Starter = Callable[[BusSites, bool], Iterator[Bus]]


def broker(sites: BusSites, notifications: bool) -> Iterator[Bus]:
    """RabbitMQ nodes where the model places the buses: one at each site serving an RPC bus (and, with
    `notifications`, each notification bus); a role talks to its own site's bus, a client to the server's.
    ValueError when a region's model wants another backend, or more nodes than `MAX_BROKERS`."""
    infra = sites.infra
    refused = [
        f"{plan.name}: rpc {plan.rpc.value}, notifications {plan.notifications.value}"
        for plan in infra.placement.regions
        if plan.rpc is not RpcBackend.BROKER or plan.notifications is not NotificationBackend.BROKER
    ]
    if refused:
        raise ValueError(
            f"model {infra.model.name} ({'; '.join(refused)}): the bench runs RabbitMQ brokers (one, "
            "one per cell or region) or one RabbitMQ cluster; simulate it (`wanstack bench --simulate`)"
        )
    rpc = {s: sites.home(Service.RPC_BUS, s) for s in infra.sites}
    notifying = {s: sites.home(Service.NOTIFICATION_BUS, s) for s in infra.sites}
    nodes = sorted({*rpc.values(), *(notifying.values() if notifications else ())})
    if len(nodes) > MAX_BROKERS:
        raise ValueError(
            f"{len(nodes)} brokers: one machine runs at most {MAX_BROKERS} RabbitMQ nodes "
            f"(~{RABBIT_MB} MB each); use a smaller topology or the simulator"
        )
    with RabbitBrokers(nodes, name="wanstack-bench") as brokers:
        yield Bus(brokers.nodes, rpc.__getitem__, sites.shape, shared=False, notifying=notifying.__getitem__)


def broker_cluster(sites: BusSites, notifications: bool) -> Iterator[Bus]:
    """One RabbitMQ cluster with a member at each rpc-bus site (the first region's control site where none is
    placed): every role uses its nearest member, notifications included, and the members' traffic between each
    other is counted."""
    placement = sites.infra.placement
    members = placement.sites_of(Service.RPC_BUS) or [placement.regions[0].control_site]
    with RabbitCluster(members, sites.shape, name="wanstack-bench") as cluster:
        numbers = {site: k for k, site in enumerate(cluster.sites, 1)}
        yield Bus.of_cluster(cluster, sites.shape, numbers=numbers)


def router_mesh(sites: BusSites, notifications: bool) -> Iterator[Bus]:
    """A router per rpc-bus site: NATS servers in a cluster; each site's roles use the nearest server.
    Notifications stay on the model's brokers (RabbitMQ)."""
    infra = sites.infra
    placement = infra.placement
    plan = placement.regions[0]
    if plan.notifications is not NotificationBackend.BROKER:
        raise ValueError(
            f"model {infra.model.name}: notifications on {plan.notifications.value} cannot run here "
            "(no Kafka in Debian); simulate it (`wanstack bench --simulate`)"
        )
    routers = placement.sites_of(Service.RPC_BUS) or [plan.control_site]
    notifying = {s: sites.home(Service.NOTIFICATION_BUS, s) for s in infra.sites}
    with (
        NatsCluster(routers, sites.shape, name="wanstack-bench") as cluster,
        RabbitBrokers(
            sorted(set(notifying.values())) if notifications else [], name="wanstack-bench"
        ) as brokers,
    ):
        on_brokers = {"notifying": notifying.__getitem__, "notification_nodes": brokers.nodes}
        yield Bus.of_cluster(cluster, sites.shape, peer_messages=cluster.peer_messages, **on_brokers)


# The backends one region's bus can run on here (a bus per cell or region only on single brokers).
STARTERS: dict[RpcBackend, Starter] = {
    RpcBackend.BROKER: broker,
    RpcBackend.BROKER_CLUSTER: broker_cluster,
    RpcBackend.ROUTER_MESH: router_mesh,
}


@contextlib.contextmanager
def scenario_bus(infra: Infrastructure, notifications: bool = True) -> Iterator[Bus]:
    """The scenario's buses, started on this machine (and stopped, whatever happens); without
    `notifications`, a separate notification bus is not started (no case needs it)."""
    plans = infra.placement.regions
    backend = plans[0].rpc if len(plans) == 1 else RpcBackend.BROKER
    start = STARTERS.get(backend, broker)  # `broker` refuses what it cannot run, saying why
    yield from start(BusSites(infra), notifications)
