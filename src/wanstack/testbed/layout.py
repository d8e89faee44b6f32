"""Where every process of the testbed runs, and how each site reaches every other.

The deployment model's placement (`scenario.placement`) says which site serves each service for each
site; the testbed starts one process (or server) per service instance, on its site's loopback address
(`127.0.k.1` for the k-th site, as the bench's brokers), and a relay with the WAN path's shape (its
links' delays each way, jitter, loss and bottleneck rate, composed as the simulator composes a route:
`lab.relay.LinkShape.of_path`) for every (client site, instance at another site) pair, listening in
the client site's own address range (`127.0.k.(100 + j)`, `lab.addresses.view_ip`) on the instance's
port. A process is configured
with the address it sees each instance at, so every REST request, AMQP connection and SQL query from
one site to another crosses a relay: cutting a link's relays cuts them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wanstack.lab.addresses import site_ip, view_ip
from wanstack.lab.ports import free_port
from wanstack.lab.relay import DelayRelay, LinkShape
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.openstack import NeutronBackend
from wanstack.scenario.services import NotificationBackend, RpcBackend, Service

# One machine of this kind runs a top site and this many compute sites (../shared/real-openstack.md:
# a full site ~1.75 GB resident, each extra site 20-30 CPU-seconds of imports at start).
MAX_EDGES = 4
# The models the testbed runs: their services, per site, are OpenStack's own processes.
MODELS = ("centralized", "cells-shared")
# Services behind an HTTP API (WSGI applications) and the API they answer on.
APIS = (Service.KEYSTONE, Service.PLACEMENT, Service.GLANCE_API, Service.NEUTRON_SERVER, Service.NOVA_API)


@dataclass(frozen=True)
class Instance:
    """One server of the testbed: a service (or `mariadb` / `rabbitmq` for a site's databases and
    bus) at a site, on a port of its own."""

    kind: str
    site: str
    port: int


@dataclass(frozen=True)
class WanRelay:
    """One relay of the testbed: how processes at site `client` reach `instance` at another site —
    listening at `host`:`port` (the client site's view of the instance), relaying to `target_host`
    through `shape`, the WAN path from the client's site to the instance's."""

    client: str
    instance: Instance
    host: str
    port: int
    target_host: str
    shape: LinkShape

    def relay(self) -> DelayRelay:
        """The relay, not started."""
        return DelayRelay(
            self.instance.port, self.shape, port=self.port, host=self.host, target_host=self.target_host
        )


@dataclass
class Layout:
    """Where the testbed's processes run for a scenario (`plan`): the top site first and the compute sites,
    each site's number (the k of its `127.0.k.1`), and every service instance by (kind, site) on a port of its
    own. `at` and `url` give the address a site's processes reach an instance at."""

    infra: Infrastructure
    sites: list[str]  # the top site first, then the compute sites
    computes: list[str]
    number: dict[str, int] = field(default_factory=dict)
    instances: dict[tuple[str, str], Instance] = field(default_factory=dict)  # (kind, site) -> instance

    @property
    def top(self) -> str:
        return self.sites[0]

    def ip(self, site: str) -> str:
        return site_ip(self.number[site])

    def serving(self, service: Service, site: str) -> str:
        """The site whose instance of `service` serves `site` (the model's placement)."""
        found = self.infra.placement.serving(service, site)
        return found if found is not None else self.top

    def instance(self, kind: str, site: str) -> Instance:
        return self.instances[kind, site]

    def at(self, client: str, kind: str, site: str) -> tuple[str, int]:
        """The address at which processes of site `client` reach the `kind` instance of `site`."""
        found = self.instances[kind, site]
        host = self.ip(client) if client == site else view_ip(self.number[client], self.number[site])
        return host, found.port

    def url(self, client: str, kind: str, site: str, scheme: str = "http") -> str:
        host, port = self.at(client, kind, site)
        return f"{scheme}://{host}:{port}"

    def cells(self) -> list[str]:
        """Sites that run a cell of their own (conductor, database, bus): the cell database's sites."""
        return sorted({self.serving(Service.CELL_DATABASE, s) for s in self.sites}, key=self.sites.index)

    def relays(self) -> list[WanRelay]:
        """Every (client site, instance at another site) pair: a relay each (trace stores are only
        reached from their own site), with the shape of the path from the client's site to the
        instance's, its draws seeded from the run's seed, the pair of sites and the instance."""
        seed, topology = self.infra.scenario.run.seed, self.infra.topology
        return [
            WanRelay(
                client,
                i,
                *self.at(client, i.kind, i.site),
                self.ip(i.site),
                LinkShape.of_path(topology, client, i.site, seed=seed).reseeded(i.kind),
            )
            for client in self.sites
            for i in self.instances.values()
            if i.site != client and i.kind != "redis"
        ]


def plan(infra: Infrastructure, edges: int | None = None) -> Layout:
    """The testbed's layout for the scenario: its top site and up to MAX_EDGES sites with hosts, each
    running a nova-compute (the first `edges` of them when given). Raises ValueError, saying why, for
    what one machine cannot run."""
    model = infra.model.name
    if model not in MODELS:
        raise ValueError(f"the testbed runs the {' and '.join(MODELS)} models, not {model}: simulate it")
    plans = infra.placement.regions
    if (
        len(plans) != 1
        or plans[0].rpc is not RpcBackend.BROKER
        or plans[0].notifications is not NotificationBackend.BROKER
    ):
        raise ValueError("the testbed runs one region on RabbitMQ brokers")
    if infra.scenario.openstack.neutron is NeutronBackend.ML2_OVN:
        raise ValueError(
            "the testbed runs neutron ml2-ovs or bind-all, not ml2-ovn (no OVN here): simulate it"
        )
    top = infra.placement.top_site
    computes = [s for s, site in infra.sites.items() if s != top and site.host_count > 0]
    if edges is not None:
        computes = computes[:edges]
    if not computes:
        raise ValueError("the scenario has no site with hosts besides the top one: nothing to boot on")
    if len(computes) > MAX_EDGES:
        raise ValueError(
            f"{len(computes)} compute sites: one machine runs the top site and at most {MAX_EDGES} "
            "(pass --edges N, or simulate it)"
        )
    layout = Layout(infra, [top, *computes], computes)
    layout.number = {site: k for k, site in enumerate(layout.sites, 1)}
    ports: dict[str, int] = {}

    def add(kind: str, site: str) -> None:
        if (kind, site) not in layout.instances:
            layout.instances[kind, site] = Instance(kind, site, ports.setdefault(kind, free_port()))

    for site in layout.sites:
        for service in APIS:
            add(service.value, layout.serving(service, site))
        add("mariadb", layout.serving(Service.API_DATABASE, site))
        add("mariadb", layout.serving(Service.CELL_DATABASE, site))
        add("rabbitmq", layout.serving(Service.RPC_BUS, site))
        add("rabbitmq", layout.serving(Service.NOTIFICATION_BUS, site))
        add("redis", site)  # the site's own trace store
    return layout
