"""Quotas on the bench: a real Keystone at the top site, the quota coordinator beside it, and at each
edge region the region's quota service — and, for the baseline, an oslo.limit enforcer as nova-api
runs it — each reaching the top site through a WAN relay of its own (`lab.relay.DelayRelay`; a cut
holds new connections as a dead link does instead of refusing them, and lets what it held through at
TCP's first retransmission after the restore). A relay applies its region's path to the top site:
`delay_ms` each way, or the whole shape of a scenario's route (`paths_to`: delay, jitter, loss, rate).

Every service is a process of its own: `wanstack quota serve …` for ours, OpenStack's environment
(`wanstack_openstack.limit_claims`, oslo.limit) for the baseline.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from wanstack.lab import openstack_env as environment
from wanstack.lab.keystone import KeystoneServer
from wanstack.lab.openstack_env import ADMIN_PASSWORD, ini
from wanstack.lab.ports import free_port
from wanstack.lab.processes import ServiceProcess
from wanstack.lab.relay import DelayRelay, LinkShape, derived_seed
from wanstack.lab.servers import LabServer
from wanstack.topology import Topology

PROJECT = "demo"
MEMBER = "demo"
MEMBER_PASSWORD = "wanstack-demo"  # a throw-away user on loopback
REGION_PASSWORD = "wanstack-quota-region"  # each region's service user's (throw-away, on loopback)
SERVICE_PROJECT = "service"  # where OpenStack's service users live (devstack's SERVICE_PROJECT_NAME)
SERVER_CLAIM = {"instances": 1, "cores": 1, "ram_mb": 512}  # the default flavor's server


@dataclass(frozen=True)
class Claim:
    """One timed HTTP request (`call`), most often a claim: its HTTP status (0: no answer, `error` says why),
    its time as the client saw it (ms), the claim's id when it was granted (201), the service's error message
    otherwise, and when it was sent (`time.time()`)."""

    status: int
    ms: float
    id: str = ""
    error: str = ""
    started: float = 0.0  # time.time() when sent


def call(
    url: str, method: str, path: str, token: str = "", body: Any = None, *, timeout_s: float = 120.0
) -> Claim:
    """One HTTP request on a fresh connection (as the services' clients make them), timed."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    started = time.time()
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_s)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    except OSError as err:
        return Claim(
            0, (time.perf_counter() - t0) * 1000, error=f"{type(err).__name__}: {err}", started=started
        )
    finally:
        conn.close()
    ms = (time.perf_counter() - t0) * 1000
    answer = json.loads(raw) if raw else {}
    if response.status == 201:
        return Claim(201, ms, str(answer.get("claim", {}).get("id", "")), started=started)
    error = answer.get("error", {}).get("message", "") if isinstance(answer, dict) else str(answer)
    return Claim(response.status, ms, error=error, started=started)


def get(url: str, path: str, token: str = "", timeout_s: float = 10.0) -> Any:
    """A GET's JSON answer (raises on anything but 200)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_s)
    try:
        conn.request("GET", path, headers={"X-Auth-Token": token} if token else {})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {url}{path}: {response.status} {raw[:200]!r}")
    return json.loads(raw)


@dataclass
class Cloud:
    """What the sites share in Keystone: the project, its member's token, the compute endpoints."""

    project_id: str
    member_token: str
    admin_token: str
    service_id: str
    endpoints: dict[str, str]  # region -> compute endpoint id


def prepare(keystone: KeystoneServer, regions: list[str]) -> Cloud:
    """Regions, a compute service with an endpoint per region (oslo.limit's enforcer finds its region
    through its endpoint), the project and a member."""
    conn: Any = keystone.connect()
    known = {r.id for r in conn.identity.regions()}
    for region in regions:
        if region not in known:
            conn.identity.create_region(id=region)
    service = next(iter(conn.identity.services(type="compute")), None) or conn.identity.create_service(
        name="nova", type="compute"
    )
    endpoints = {}
    for region in regions:
        found = next(iter(conn.identity.endpoints(service_id=service.id, region_id=region)), None)
        endpoints[region] = (
            found
            or conn.identity.create_endpoint(
                service_id=service.id,
                region_id=region,
                interface="public",
                url=f"http://127.0.0.1:1/{region}",
            )
        ).id
    project = conn.identity.find_project(PROJECT) or conn.identity.create_project(
        name=PROJECT, domain_id="default"
    )
    user = conn.identity.find_user(MEMBER) or conn.identity.create_user(
        name=MEMBER, password=MEMBER_PASSWORD, domain_id="default", default_project_id=project.id
    )
    role = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(project, user, role)
    import openstack

    member: Any = openstack.connect(
        auth_url=f"{keystone.url}/v3",
        username=MEMBER,
        password=MEMBER_PASSWORD,
        project_name=PROJECT,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return Cloud(project.id, member.auth_token, conn.auth_token, service.id, endpoints)


def _wanstack() -> list[str]:
    return [sys.executable, "-c", "from wanstack.cli import app; app()"]


def _wait(url: str, process: ServiceProcess, timeout_s: float = 60.0) -> None:
    process.wait_until(
        lambda: call(url, "GET", "/", timeout_s=2).status == 200, timeout_s, 0.1, f"up at {url}"
    )


def paths_to(topology: Topology, top: str, regions: Iterable[str], seed: int = 0) -> dict[str, LinkShape]:
    """Each region's path to the site `top` in a scenario's topology (the regions named as its sites),
    every field of its links (`LinkShape.of_path`): `QuotaSites.shapes`."""
    return {region: LinkShape.of_path(topology, region, top, seed=seed) for region in regions}


@dataclass(eq=False)
class QuotaSites(LabServer):
    """The quota service over `regions` (edge regions; the coordinator at the top site with
    Keystone), each region reaching the top through relays of its path: `shapes[region]`, or else
    `delay_ms` one way and nothing more."""

    keystone: KeystoneServer
    regions: list[str]
    delay_ms: float = 0.0
    mode: str = "escrow"
    rebalance_s: float = 1.0
    term_s: float = 10.0
    skew_s: float = 1.0
    token_cache_s: float = 300.0
    kind: ClassVar[str] = "quota"
    # A region's path to the top site when it has more to it than `delay_ms` (`paths_to`).
    shapes: dict[str, LinkShape] = field(default_factory=dict)
    relays: dict[str, list[DelayRelay]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)  # region (and "coordinator") -> URL
    enforcers: dict[str, str] = field(default_factory=dict)  # region -> oslo.limit enforcer URL
    # The quota services' processes: "coordinator" and each region's, by the same names as `urls`.
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def shape(self, region: str) -> LinkShape:
        """The path from `region` to the top site."""
        found = self.shapes.get(region)
        return LinkShape(delay_ms=self.delay_ms, seed=derived_seed(0, region)) if found is None else found

    def _relay(self, region: str, port: int, name: str) -> DelayRelay:
        """A relay from `region` to `port` at the top site; `name` gives it draws of its own."""
        shape = self.shape(region).reseeded(name)
        relay = DelayRelay(port, shape, hold_new=True, retransmit=True).start()
        self.relays.setdefault(region, []).append(relay)
        return relay

    def _process(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> ServiceProcess:
        assert self.root is not None  # started
        return self.run(ServiceProcess(name, argv, self.root / f"{name}.log", env or {}))

    def _auth(self, keystone_url: str, region: str | None = None) -> list[str]:
        """The service's Keystone options: the administrator for the coordinator, a region's own service
        user for a region (the coordinator takes its syncs from no other)."""
        who = ["--user", "admin", "--password", ADMIN_PASSWORD]
        if region is not None:
            who = ["--user", f"quota-{region}", "--password", REGION_PASSWORD, "--project", SERVICE_PROJECT]
        return ["--auth-url", f"{keystone_url}/v3", *who, "--token-cache-s", str(self.token_cache_s)]

    def _region_users(self) -> None:
        """Each region's service user, `quota-REGION`, with the service role in the service project (enough
        for Keystone to let it check tokens: keystone/common/policies/token.py, validate_token)."""
        conn: Any = self.keystone.connect()
        project = conn.identity.find_project(SERVICE_PROJECT) or conn.identity.create_project(
            name=SERVICE_PROJECT, domain_id="default"
        )
        role = conn.identity.find_role("service") or conn.identity.create_role(name="service")
        for region in self.regions:
            name = f"quota-{region}"
            user = conn.identity.find_user(name) or conn.identity.create_user(
                name=name, password=REGION_PASSWORD, domain_id="default", default_project_id=project.id
            )
            conn.identity.assign_project_role_to_user(project, user, role)

    def launch(self, root: Path) -> None:
        port = free_port()
        argv = [*_wanstack(), "quota", "serve", "coordinator", "--regions", ",".join(self.regions)]
        argv += ["--port", str(port), "--database", f"sqlite:///{root / 'coordinator.db'}"]
        argv += ["--mode", self.mode, "--rebalance-s", str(self.rebalance_s), "--term-s", str(self.term_s)]
        argv += ["--skew-s", str(self.skew_s), *self._auth(self.keystone.url)]
        self._region_users()
        coordinator = self.services["coordinator"] = self._process("coordinator", argv)
        self.urls["coordinator"] = f"http://127.0.0.1:{port}"
        _wait(self.urls["coordinator"], coordinator)
        for region in self.regions:
            to_keystone = self._relay(region, self.keystone.port, "keystone")
            to_coordinator = self._relay(region, port, "coordinator")
            mine = free_port()
            argv = [*_wanstack(), "quota", "serve", "region", region, "--port", str(mine)]
            argv += ["--coordinator", f"http://127.0.0.1:{to_coordinator.port}"]
            argv += [
                "--database",
                f"sqlite:///{root / region}.db",
                "--rebalance-s",
                str(self.rebalance_s),
            ]
            argv += self._auth(f"http://127.0.0.1:{to_keystone.port}", region)
            self.urls[region] = f"http://127.0.0.1:{mine}"
            self.services[region] = self._process(f"quota-{region}", argv)
            _wait(self.urls[region], self.services[region])

    def start_enforcers(self, cloud: Cloud, timeout_s: float | None = None) -> None:
        """The baseline: at each region an oslo.limit enforcer as nova-api runs it, asking Keystone
        through the region's relay (`[oslo_limit] timeout` unset by default, as in oslo.limit)."""
        assert self.root is not None  # started
        for region in self.regions:
            to_keystone = self._relay(region, self.keystone.port, "oslo.limit's keystone")
            url = f"http://127.0.0.1:{to_keystone.port}/v3"
            conf = self.root / f"limit-{region}.conf"
            options: dict[str, object] = {
                "auth_type": "password",
                "auth_url": url,
                "username": "admin",
                "password": ADMIN_PASSWORD,
                "user_domain_name": "Default",
                "project_name": "admin",
                "project_domain_name": "Default",
                "endpoint_id": cloud.endpoints[region],
                # Keystone's own endpoint as this site reaches it (the catalog's is the top site's).
                "endpoint_override": url,
            }
            if timeout_s is not None:
                options["timeout"] = str(timeout_s)
            conf.write_text(ini({"oslo_limit": options}), encoding="utf-8")
            port = free_port()
            env = {
                "WANSTACK_WSGI_APP": "wanstack_openstack.limit_claims:application",
                "WANSTACK_WSGI_HOST": "127.0.0.1",
                "WANSTACK_WSGI_PORT": str(port),
                "WANSTACK_LIMIT_CONFIG": str(conf),
            }
            argv = [str(environment.python()), "-m", "wanstack_openstack.serve"]
            self.enforcers[region] = f"http://127.0.0.1:{port}"
            _wait(self.enforcers[region], self._process(f"oslo-limit-{region}", argv, env))

    def kill(self, service: str) -> None:
        """kill -9 of `service` ("coordinator" or a region's name) and its session: nothing it held in
        memory is written, its connections are reset by the kernel."""
        process = self.services[service]
        assert process.proc is not None, f"{service} is not running"
        os.killpg(process.proc.pid, signal.SIGKILL)
        process.proc.wait()

    def revive(self, service: str, timeout_s: float = 60.0) -> None:
        """`service` started again as it was (the same command, port and database) after `kill`;
        returns once it answers."""
        process = self.services[service]
        assert not process.alive, f"{service} is still running"
        _wait(self.urls[service], process.start(), timeout_s)

    def set_delay(self, delay_ms: float) -> None:
        """Every region's path gets `delay_ms` one way, each way, the rest of its shape kept; new
        connections see it (every request here opens one)."""
        self.delay_ms = delay_ms
        self.shapes = {
            region: replace(shape, delay_ms=delay_ms, reverse_delay_ms=None)
            for region, shape in self.shapes.items()
        }
        for relays in self.relays.values():
            for relay in relays:
                relay.shape = replace(relay.shape, delay_ms=delay_ms, reverse_delay_ms=None)

    def cut(self, region: str) -> None:
        for relay in self.relays[region]:
            relay.cut()

    def restore(self, region: str) -> None:
        for relay in self.relays[region]:
            relay.restore()

    def halt(self) -> None:
        for relays in self.relays.values():
            for relay in relays:
                relay.stop()
        self.relays.clear()
