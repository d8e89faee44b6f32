"""A real OpenStack control plane spread over the scenario's sites on this machine (`Testbed`).

Phases, in the order ../shared/real-openstack.md found to work on 2 cores (all at once, imports took
up to 20 s each and nova-compute died):
1. databases and buses: a MariaDB at each site holding databases, a RabbitMQ at each bus site, and
   (with `openstack: neutron: ml2-ovs`, the default) an Open vSwitch at each compute site;
2. relays: one per (client site, instance at another site), with the WAN path's shape (`layout`);
3. schemas: every service's migrations and Keystone's bootstrap, two at a time (each at its
   database's own site: setting up is not what the testbed measures);
4. keystone, then its catalog;
5. the APIs: Placement, Glance, Neutron, nova-api (ready when they answer HTTP);
6. Nova's conductors and scheduler, then one nova-compute per compute site (ready when the API
   lists it up: it has reported its state); with ml2-ovs, Neutron's RPC server and an OVS agent per
   compute site (ready when Neutron lists it alive);
7. host discovery (`nova-manage cell_v2 discover_hosts`), then a flavor, an image and a network.
Everything started is stopped on exit, whatever happens (SIGINT and SIGTERM unwind like an error).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wanstack.lab import keystone
from wanstack.lab import openstack_env as environment
from wanstack.lab.keystone import setup as keystone_setup
from wanstack.lab.mariadb import MariaDB
from wanstack.lab.openstack_env import ADMIN_PASSWORD, REGION, ini
from wanstack.lab.ovs import OvsSwitch
from wanstack.lab.ports import answers, free_port
from wanstack.lab.processes import Commands, ServiceProcess, exit_on_sigterm, together
from wanstack.lab.rabbit import RabbitNode
from wanstack.lab.redis import Redis
from wanstack.lab.relay import DelayRelay
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.openstack import NeutronBackend, VirtDriver
from wanstack.scenario.services import Service
from wanstack.sim.params import Params
from wanstack.testbed import config
from wanstack.testbed.clients import connect
from wanstack.testbed.layout import Instance, Layout, plan

# Databases of the services at the top site; every cell has a `nova` database of its own.
TOP_DATABASES = ("keystone", "placement", "glance", "neutron", "nova_api", "nova_cell0")
WSGI_APPS = {
    Service.KEYSTONE: "keystone.wsgi.api:application",
    Service.PLACEMENT: "placement.wsgi.api:application",
    Service.GLANCE_API: "glance.wsgi.api:application",
    Service.NEUTRON_SERVER: "neutron.wsgi.api:application",
    Service.NOVA_API: "nova.wsgi.osapi_compute:application",
}
FLAVOR = "m1.tiny"
IMAGE = "cirros"
NETWORK = "private"
Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Testbed:
    """Use as a context manager: `with Testbed(infra) as tb: ...` starts it, and stops it on exit."""

    infra: Infrastructure
    edges: int | None = None
    root: Path | None = None
    say: Say = _quiet
    layout: Layout = field(init=False)
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    databases: dict[str, MariaDB] = field(default_factory=dict)
    brokers: dict[str, RabbitNode] = field(default_factory=dict)
    traces: dict[str, Redis] = field(default_factory=dict)  # site -> its trace store
    switches: dict[str, OvsSwitch] = field(default_factory=dict)  # compute site -> its Open vSwitch
    relays: dict[tuple[str, Instance], DelayRelay] = field(default_factory=dict)
    processes: list[ServiceProcess] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # flavor, image, network ids
    _own_root: bool = False
    _of_ports: dict[str, int] = field(default_factory=dict)  # compute site -> its agent's OpenFlow port
    # The one-off commands (migrations, bootstrap, host discovery): an interrupted start stops them.
    _commands: Commands = field(default_factory=Commands)

    def __post_init__(self) -> None:
        self.layout = plan(self.infra, self.edges)

    @property
    def neutron_backend(self) -> NeutronBackend:
        """How Neutron wires ports: the scenario's `openstack: neutron` (default ml2-ovs)."""
        return self.infra.scenario.openstack.neutron

    @property
    def virt(self) -> VirtDriver:
        """Nova's virt driver: the scenario's `openstack: virt` (default libvirt, guestless)."""
        return self.infra.scenario.openstack.virt

    # --- addresses -----------------------------------------------------------------------------
    def url_for(self, client: str) -> config.Url:
        """How processes at site `client` reach each API (through a relay unless it is their own)."""

        def url(service: Service) -> str:
            return self.layout.url(client, service.value, self.layout.serving(service, client))

        return url

    def transport(self, client: str, bus_site: str) -> str:
        host, port = self.layout.at(client, "rabbitmq", bus_site)
        return f"rabbit://guest:guest@{host}:{port}/"

    def database(self, client: str, db_site: str, name: str) -> str:
        host, port = self.layout.at(client, "mariadb", db_site)
        return self.databases[db_site].database_url(name, host, port)

    def folder(self, *parts: str) -> Path:
        assert self.root is not None
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- life cycle ----------------------------------------------------------------------------
    def __enter__(self) -> Testbed:
        exit_on_sigterm()
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        self.say(f"{name} …")
        start = time.monotonic()
        yield
        self.phases[name] = time.monotonic() - start
        self.say(f"{name}: {self.phases[name]:.1f} s")

    def start(self) -> None:
        if not environment.available():
            raise RuntimeError(environment.MISSING)
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="wanstack-testbed-"))
            self._own_root = True
        with self._phase("databases and buses"):
            self._start_servers()
        with self._phase("relays"):
            for planned in self.layout.relays():
                self.relays[planned.client, planned.instance] = planned.relay().start()
        with self._phase("schemas"):
            self._migrate()
        with self._phase("keystone"):
            self._start_api(Service.KEYSTONE)
            self._wait_http([Service.KEYSTONE])
            self._catalog()
        with self._phase("APIs"):
            apis = [Service.PLACEMENT, Service.GLANCE_API, Service.NEUTRON_SERVER, Service.NOVA_API]
            for service in apis:
                self._start_api(service)
            self._wait_http(apis)
        with self._phase("nova services"):
            self._start_nova_services()
        with self._phase("host discovery and resources"):
            self._discover_hosts()
            self._resources()

    def stop(self) -> None:
        """Stop everything started, in reverse: commands, processes, relays, buses and databases."""
        self._commands.stop()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda p: p.stop(), reversed(self.processes)))
        self.processes.clear()
        for relay in self.relays.values():
            relay.stop()
        self.relays.clear()
        with ThreadPoolExecutor(max_workers=8) as pool:
            servers = [
                *self.brokers.values(),
                *self.databases.values(),
                *self.traces.values(),
                *self.switches.values(),
            ]
            list(pool.map(lambda s: s.stop(), servers))
        self.brokers.clear()
        self.databases.clear()
        self.traces.clear()
        self.switches.clear()
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    # --- phases --------------------------------------------------------------------------------
    def _start_servers(self) -> None:
        layout = self.layout
        for (kind, site), instance in layout.instances.items():
            if kind == "mariadb":
                self.databases[site] = MariaDB(
                    ip=layout.ip(site), port=instance.port, root=self.folder("db", site)
                )
            elif kind == "redis":
                self.traces[site] = Redis(
                    ip=layout.ip(site), port=instance.port, root=self.folder("traces", site)
                )
            elif kind == "rabbitmq":
                # On the site's address, under a host name of the site's that Erlang resolves to it
                # (as the bench's cluster members, `bench.cluster`).
                host = f"wanstack-site-{layout.number[site]}"
                self.brokers[site] = RabbitNode(
                    name="wanstack-testbed",
                    root=self.folder("rabbit", site),
                    port=instance.port,
                    ip=layout.ip(site),
                    host=host,
                    hosts={host: layout.ip(site)},
                )
        if self.neutron_backend is NeutronBackend.ML2_OVS:
            for site in layout.computes:
                self.switches[site] = OvsSwitch(name=site, root=self.folder("ovs", site))
        servers: list[MariaDB | RabbitNode | Redis | OvsSwitch] = [
            *self.databases.values(),
            *self.brokers.values(),
            *self.traces.values(),
            *self.switches.values(),
        ]
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            for failure in pool.map(_try_start, servers):
                if failure is not None:
                    raise failure
        top = layout.top
        self.databases[layout.serving(Service.API_DATABASE, top)].create(*TOP_DATABASES)
        for cell in layout.cells():
            self.databases[cell].create("nova")

    def _config(self, name: str, text: str, site: str) -> Path:
        """Write a process's configuration file; every process at `site` traces into its site's store."""
        path = self.folder("etc", name.rsplit("/", 1)[0]) / name.rsplit("/", 1)[-1]
        store = self.traces[site].url if site in self.traces else None
        path.write_text(text + (ini({"profiler": config.profiler(store)}) if store else ""), encoding="utf-8")
        return path

    def _keystone_config(self) -> Path:
        site = self.layout.serving(Service.KEYSTONE, self.layout.top)
        db_site = self.layout.serving(Service.API_DATABASE, site)
        return self._config(
            "keystone/keystone.conf",
            keystone.conf_text(
                self.folder("state", "keystone"),
                self.database(site, db_site, "keystone"),
                self.folder("log") / "keystone.log",
            ),
            site,
        )

    def _placement_dir(self) -> Path:
        site = self.layout.serving(Service.PLACEMENT, self.layout.top)
        db_site = self.layout.serving(Service.API_DATABASE, site)
        text = config.placement(
            self.database(site, db_site, "placement"),
            self.url_for(site)(Service.KEYSTONE),
            self.folder("log") / "placement.log",
        )
        return self._config("placement/placement.conf", text, site).parent

    def _glance_dir(self) -> Path:
        site = self.layout.serving(Service.GLANCE_API, self.layout.top)
        db_site = self.layout.serving(Service.API_DATABASE, site)
        folder = self.folder("etc", "glance")
        shutil.copy(environment.etc("glance") / "glance-api-paste.ini", folder / "glance-api-paste.ini")
        text = config.glance(
            self.folder("state", "glance"),
            self.database(site, db_site, "glance"),
            self.url_for(site)(Service.KEYSTONE),
            folder / "glance-api-paste.ini",
            self.folder("log") / "glance.log",
        )
        return self._config("glance/glance-api.conf", text, site).parent

    def _neutron_config(self) -> Path:
        site = self.layout.serving(Service.NEUTRON_SERVER, self.layout.top)
        db_site = self.layout.serving(Service.API_DATABASE, site)
        text = config.neutron(
            self.folder("state", "neutron"),
            self.database(site, db_site, "neutron"),
            transport=self.transport(site, self.layout.serving(Service.RPC_BUS, site)),
            url=self.url_for(site),
            paste=environment.etc("neutron") / "api-paste.ini",
            log=self.folder("log") / "neutron-server.log",
            backend=self.neutron_backend,
        )
        return self._config("neutron/neutron.conf", text, site)

    def _nova_config(self, name: str, site: str, *, api: bool, cell: bool, compute: bool = False) -> Path:
        """The configuration of a Nova process at `site`: with the API database (`api`: nova-api, the
        scheduler, the super-conductor) and its cell's database (`cell`: a conductor; the API-level
        processes without one have cell0's, as devstack configures them)."""
        layout = self.layout
        cell_site = layout.serving(Service.CELL_DATABASE, site)
        api_site = layout.serving(Service.API_DATABASE, site)
        if cell:
            database: str | None = self.database(site, cell_site, "nova")
        elif api:
            database = self.database(site, api_site, "nova_cell0")
        else:
            database = None  # nova-compute: no database access
        conf = self.folder("etc", name) / "nova.conf"
        guest = Params()  # the guest's times, as the simulator has them
        text = config.nova(
            self.folder("state", name),
            self.folder("log") / f"{name}.log",
            self.url_for(site),
            transport=self.transport(site, layout.serving(Service.RPC_BUS, site)),
            host=site,
            my_ip=layout.ip(site),
            api_database=self.database(site, api_site, "nova_api") if api else None,
            database=database,
            # The guest's define-and-start, power-off and pause: the simulator's spawn_ms, shutdown_ms
            # and pause_ms (sim/params.py; assumptions there too, no KVM on this machine to measure
            # libvirt's), so both engines agree.
            compute=config.Compute(
                self.virt,
                self.switch_view(site),
                conf,
                guest.spawn_ms / 1000,
                guest.shutdown_ms / 1000,
                guest.pause_ms / 1000,
            )
            if compute
            else None,
        )
        return self._config(f"{name}/nova.conf", text, site)

    def switch_view(self, site: str) -> config.Switch | None:
        """The site's Open vSwitch as its nova-compute and OVS agent reach it (None without one). The
        agent's OpenFlow controller listens on the veth's root end, on a port of its own."""
        switch = self.switches.get(site)
        if switch is None:
            return None
        if site not in self._of_ports:
            self._of_ports[site] = free_port()
        return config.Switch(
            switch.ovsdb_connection, switch.namespace, switch.controller_ip, self._of_ports[site]
        )

    def _migrate(self) -> None:
        bin_ = environment.script
        logs = self.folder("log")
        keystone = str(self._keystone_config())
        top = self.layout.top
        keystone_url = self.url_for(top)(Service.KEYSTONE)
        run = self._commands.run

        def keystone_schema() -> None:
            keystone_setup(Path(keystone), keystone_url, logs / "keystone-setup.log", self._commands)

        def placement_schema() -> None:
            log = logs / "placement-setup.log"
            conf = self._placement_dir() / "placement.conf"
            run(
                "placement db sync",
                [str(bin_("placement-manage")), "--config-file", str(conf), "db", "sync"],
                log,
            )

        def glance_schema() -> None:
            log = logs / "glance-setup.log"
            conf = self._glance_dir() / "glance-api.conf"
            run("glance db_sync", [str(bin_("glance-manage")), "--config-file", str(conf), "db_sync"], log)

        def neutron_schema() -> None:
            log = logs / "neutron-setup.log"
            argv = [str(bin_("neutron-db-manage")), "--config-file", str(self._neutron_config())]
            run("neutron upgrade", [*argv, "upgrade", "heads"], log)

        def nova_schema() -> None:
            log = logs / "nova-setup.log"
            # At the top, with the top's own addresses; each cell's database migrated at its site.
            conf = str(self._nova_config("nova-manage", top, api=True, cell=True))
            manage = [str(bin_("nova-manage")), "--config-file", conf]
            run("nova api_db sync", [*manage, "api_db", "sync"], log)
            cell0 = self.database(top, self.layout.serving(Service.API_DATABASE, top), "nova_cell0")
            run("nova map_cell0", [*manage, "cell_v2", "map_cell0", "--database_connection", cell0], log)
            for cell in self.layout.cells():
                # The cell's mapping: its database and bus as the top's services reach them.
                run(
                    f"nova create_cell {cell}",
                    [
                        *manage,
                        "cell_v2",
                        "create_cell",
                        "--name",
                        cell,
                        "--transport-url",
                        self.transport(top, cell),
                        "--database_connection",
                        self.database(top, cell, "nova"),
                    ],
                    log,
                )
                local = str(self._nova_config(f"nova-manage-{cell}", cell, api=False, cell=True))
                run(
                    f"nova db sync {cell}",
                    [str(bin_("nova-manage")), "--config-file", local, "db", "sync", "--local_cell"],
                    log,
                )
            run("nova db sync cell0", [*manage, "db", "sync"], log)

        # Two at a time: each command spends seconds importing its service on 2 cores
        # (../shared/real-openstack.md); an interrupt or a failure stops the others' commands.
        jobs = [keystone_schema, nova_schema, neutron_schema, placement_schema, glance_schema]
        together(jobs, self._commands, workers=2)

    def _start_api(self, service: Service) -> None:
        site = self.layout.serving(service, self.layout.top)
        host, port = self.layout.at(site, service.value, site)
        env = {
            "WANSTACK_WSGI_APP": WSGI_APPS[service],
            "WANSTACK_WSGI_HOST": host,
            "WANSTACK_WSGI_PORT": str(port),
        }
        if service is Service.KEYSTONE:
            env["OS_KEYSTONE_CONFIG_FILES"] = str(self._keystone_config())
        elif service is Service.PLACEMENT:
            env["OS_PLACEMENT_CONFIG_DIR"] = str(self._placement_dir())
        elif service is Service.GLANCE_API:
            env["OS_GLANCE_CONFIG_DIR"] = str(self._glance_dir())
        elif service is Service.NEUTRON_SERVER:
            conf = self._neutron_config()
            env["OS_NEUTRON_CONFIG_DIR"] = str(conf.parent)
            env["OS_NEUTRON_CONFIG_FILES"] = conf.name
        elif service is Service.NOVA_API:
            conf = self._nova_config("nova-api", site, api=True, cell=False)
            shutil.copy(environment.etc("nova") / "api-paste.ini", conf.parent / "api-paste.ini")
            env["OS_NOVA_CONFIG_DIR"] = str(conf.parent)
        argv = [str(environment.python()), "-m", "wanstack_openstack.serve"]
        log = self.folder("log") / f"{service.value}.out"
        self.processes.append(ServiceProcess(f"{service.value}@{site}", argv, log, env).start())

    def _wait_http(self, services: list[Service], timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        for service in services:
            site = self.layout.serving(service, self.layout.top)
            url = self.layout.url(site, service.value, site) + "/"
            process = next(p for p in self.processes if p.name == f"{service.value}@{site}")
            ready = functools.partial(answers, url)
            process.wait_until(ready, deadline - time.monotonic(), 0.25, f"answering on {url}")

    def _catalog(self) -> None:
        """Services and endpoints (the top site's addresses) for clients that read the catalog; and
        the `service` role for the administrator, whose tokens the services also send as service
        tokens (nova's clients add an X-Service-Token, which keystonemiddleware accepts only with a
        role of `service_token_roles`, ['service'] by default)."""
        cloud = self.cloud(self.layout.top)
        admin, project = cloud.identity.find_user("admin"), cloud.identity.find_project("admin")
        cloud.identity.assign_project_role_to_user(project, admin, cloud.identity.find_role("service"))
        top = self.layout.top
        for service, kind in (
            (Service.NOVA_API, "compute"),
            (Service.PLACEMENT, "placement"),
            (Service.GLANCE_API, "image"),
            (Service.NEUTRON_SERVER, "network"),
        ):
            created = cloud.identity.create_service(name=service.value, type=kind)
            url = self.url_for(top)(service)
            if kind == "compute":
                url += "/v2.1"
            for interface in ("public", "internal", "admin"):
                cloud.identity.create_endpoint(
                    service_id=created.id, interface=interface, url=url, region_id=REGION
                )

    def _start_nova_services(self) -> None:
        layout = self.layout
        top = layout.top
        super_site = layout.serving(Service.NOVA_SUPERCONDUCTOR, top)
        started: list[str] = []
        for cell in layout.cells():
            both = cell == super_site  # one conductor serves as super and cell conductor
            conf = self._nova_config(f"nova-conductor-{cell}", cell, api=both, cell=True)
            self._daemon("nova-conductor", cell, conf)
            started.append(cell)
        if super_site not in started:
            conf = self._nova_config("nova-conductor-super", super_site, api=True, cell=False)
            self._daemon("nova-conductor", super_site, conf)
        scheduler_site = layout.serving(Service.NOVA_SCHEDULER, top)
        self._daemon(
            "nova-scheduler",
            scheduler_site,
            self._nova_config("nova-scheduler", scheduler_site, api=True, cell=False),
        )
        # nova-compute exits if Keystone or Placement do not answer when it starts: they do by now.
        for site in layout.computes:
            conf = self._nova_config(f"nova-compute-{site}", site, api=False, cell=False, compute=True)
            switch = self.switches.get(site)
            self._daemon("nova-compute", site, conf, switch.environment if switch else None)
        if self.neutron_backend is NeutronBackend.ML2_OVS:
            self._start_neutron_agents()
        self._wait_services(["nova-conductor", "nova-scheduler", "nova-compute"])
        if self.neutron_backend is NeutronBackend.ML2_OVS:
            self._wait_agents()

    def _start_neutron_agents(self) -> None:
        """Neutron's RPC server beside its API (same configuration), and an OVS agent per compute site
        talking to it over the site's bus."""
        layout = self.layout
        neutron_site = layout.serving(Service.NEUTRON_SERVER, layout.top)
        self._daemon("neutron-rpc-server", neutron_site, self.folder("etc", "neutron") / "neutron.conf")
        for site in layout.computes:
            switch = self.switch_view(site)
            assert switch is not None
            name = f"neutron-ovs-agent-{site}"
            conf = self.folder("etc", name) / "openvswitch_agent.ini"
            text = config.ovs_agent(
                self.folder("state", name),
                self.folder("log") / f"{name}.log",
                conf,
                transport=self.transport(site, layout.serving(Service.RPC_BUS, site)),
                host=site,
                switch=switch,
            )
            conf = self._config(f"{name}/openvswitch_agent.ini", text, site)
            # Its ovs-ofctl and ovsdb-client find the site's switch by OVS_RUNDIR.
            self._daemon("neutron-openvswitch-agent", site, conf, self.switches[site].environment)

    def _wait_agents(self, timeout_s: float = 240.0) -> None:
        """Until Neutron lists every compute site's OVS agent alive (its first state report came)."""
        cloud = self.cloud(self.layout.top)
        wanted = set(self.layout.computes)
        deadline = time.monotonic() + timeout_s
        while True:
            alive = {a.host for a in cloud.network.agents(binary="neutron-openvswitch-agent") if a.is_alive}
            if wanted <= alive:
                return
            for p in self.processes:
                if not p.alive:
                    raise RuntimeError(f"{p.name} exited:\n{p.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no OVS agent alive in {timeout_s:.0f} s at {sorted(wanted - alive)}")
            time.sleep(1.0)

    def _daemon(self, binary: str, site: str, conf: Path, env: dict[str, str] | None = None) -> None:
        # Through wanstack's runner, which carries osprofiler's trace across thread pools
        # (wanstack_openstack/tracing.py): otherwise traces lose work or take in other operations'.
        argv = [
            str(environment.python()),
            "-m",
            "wanstack_openstack.daemon",
            binary,
            "--config-file",
            str(conf),
        ]
        log = self.folder("log") / f"{binary}-{site}.out"
        self.processes.append(ServiceProcess(f"{binary}@{site}", argv, log, env or {}).start())

    def _wait_services(self, binaries: list[str], timeout_s: float = 240.0) -> None:
        """Until the API lists every Nova service of these binaries up (each has reported its state)."""
        cloud = self.cloud(self.layout.top)
        wanted = {p.name for p in self.processes if p.name.split("@")[0] in binaries}
        deadline = time.monotonic() + timeout_s
        while True:
            up = {f"{s.binary}@{s.host}" for s in cloud.compute.services() if s.state == "up"}
            if wanted <= up:
                return
            for p in self.processes:
                if not p.alive:
                    raise RuntimeError(f"{p.name} exited:\n{p.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not up in {timeout_s:.0f} s: {sorted(wanted - up)}")
            time.sleep(1.0)

    def _discover_hosts(self) -> None:
        conf = self.folder("etc", "nova-manage") / "nova.conf"
        argv = [
            str(environment.script("nova-manage")),
            "--config-file",
            str(conf),
            "cell_v2",
            "discover_hosts",
        ]
        self._commands.run("nova discover_hosts", argv, self.folder("log") / "setup.log")

    def _resources(self) -> None:
        cloud = self.cloud(self.layout.top)
        self.ids["flavor"] = cloud.compute.create_flavor(name=FLAVOR, ram=64, vcpus=1, disk=1).id
        image = cloud.image.create_image(
            name=IMAGE,
            data=b"\0" * (1 << 20),
            disk_format="raw",
            container_format="bare",
            visibility="public",
        )
        self.ids["image"] = image.id
        network = cloud.network.create_network(name=NETWORK, provider_network_type="local", shared=True)
        cloud.network.create_subnet(
            network_id=network.id, cidr="10.0.0.0/16", ip_version=4, name=f"{NETWORK}-v4"
        )
        self.ids["network"] = network.id

    # --- faults ------------------------------------------------------------------------------
    def crossing(self, a: str, b: str) -> list[DelayRelay]:
        """The relays whose WAN path crosses the backbone link a–b."""
        topology = self.infra.topology
        link = {a, b}
        return [
            relay
            for (client, instance), relay in self.relays.items()
            if any({u, v} == link for u, v in itertools.pairwise(topology.path(client, instance.site)))
        ]

    def cut_link(self, a: str, b: str) -> int:
        """Cut the link a–b: every connection across it stalls and new ones are refused, as the bench's
        cut does (`lab.relay.DelayRelay.cut`). Returns how many relays it cut."""
        relays = self.crossing(a, b)
        if not relays:
            raise ValueError(f"no relay of the testbed crosses {a}–{b}")
        for relay in relays:
            relay.cut()
        return len(relays)

    def restore_link(self, a: str, b: str) -> None:
        for relay in self.crossing(a, b):
            relay.restore()

    # --- what is running ---------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The testbed as JSON: sites and their addresses, every API as each site reaches it, every
        process, the phases' times, the resources made for workloads."""
        layout = self.layout
        return {
            "model": self.infra.model.name,
            "sites": {site: layout.ip(site) for site in layout.sites},
            "top": layout.top,
            "computes": layout.computes,
            "apis": {site: self.apis(site) for site in layout.sites},
            "processes": {p.name: p.proc.pid for p in self.processes if p.proc is not None},
            "servers": {
                **{f"mariadb@{site}": db.pids() for site, db in self.databases.items()},
                **{f"rabbitmq@{site}": broker.pids() for site, broker in self.brokers.items()},
                **{f"redis@{site}": store.pids() for site, store in self.traces.items()},
                **{f"ovs@{site}": switch.pids() for site, switch in self.switches.items()},
            },
            "openstack": {"neutron": self.neutron_backend.value, "virt": self.virt.value},
            "traces": {site: store.url for site, store in self.traces.items()},
            "state_databases": self.state_databases(),
            "relays": len(self.relays),
            "phases_s": self.phases,
            "resources": self.ids,
            "admin": {"username": "admin", "password": ADMIN_PASSWORD, "project": "admin"},
            "root": str(self.root),
        }

    def state_databases(self) -> list[str]:
        """Where Nova writes its servers' states: each cell's database and cell0's, at their servers'
        own addresses (the runner's observer reads them without crossing a link)."""
        top = self.layout.top
        cell0 = self.databases[self.layout.serving(Service.API_DATABASE, top)].database_url("nova_cell0")
        return [*(self.databases[cell].database_url("nova") for cell in self.layout.cells()), cell0]

    # --- clients -------------------------------------------------------------------------------
    def apis(self, site: str) -> dict[str, str]:
        """Every API's URL as processes at `site` reach it."""
        url = self.url_for(site)
        return {service.value: url(service) for service in WSGI_APPS}

    def cloud(self, site: str) -> Any:
        """An openstacksdk connection as the administrator, from `site` (through its relays)."""
        return connect(self.apis(site))


def _try_start(server: MariaDB | RabbitNode | Redis | OvsSwitch) -> BaseException | None:
    try:
        server.start()
    except BaseException as err:  # reported by the caller, after every start has ended
        return err
    return None
