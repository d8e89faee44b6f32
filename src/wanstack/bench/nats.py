"""NATS servers for the bench: one per site of a routed bus, joined in a cluster whose routes cross the
emulated WAN.

A router mesh (oslo.messaging's AMQP 1.0 driver over Qpid Dispatch Routers, a router per site) cannot
run here: Debian has no qdrouterd, and oslo.messaging dropped that driver in 15.0.0 (shared domain
notes §9). NATS is its runnable counterpart: a server per site, clients on their own site's server,
and servers that forward each message toward the servers that have a matching subscription — a
routed bus without a broker's queues. Debian's `nats-server` (2.9) starts in milliseconds at ~15 MB.

Each server listens on 127.0.0.1 on ports of its own (clients, monitoring, cluster routes) with its
log under a temporary folder. A server reaches every other one through a `DelayRelay` with the WAN
path's shape (`lab.relay.LinkShape.of_path`; explicit routes to the relays, a full mesh as NATS
clusters require, https://docs.nats.io/running-a-nats-service/configuration/clustering). A server
advertises a cluster address nobody listens on, so no server learns a direct (undelayed) route from
the others' gossip. Everything is stopped on exit, on errors and on SIGINT/SIGTERM, as the RabbitMQ
nodes are.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from wanstack.bench.cluster import nearest_site
from wanstack.lab.ports import free_port
from wanstack.lab.processes import ServiceProcess
from wanstack.lab.relay import DelayRelay, DirectionStats, LinkShape
from wanstack.lab.servers import LabServer

NATS_SERVER = "nats-server"
# Port 1 on loopback: nothing listens there (see the module's docstring).
NOWHERE = "127.0.0.1:1"
# Clients without an account of their own are in the global one; servers' events in `$SYS`.
GLOBAL_ACCOUNT = "$G"


def available() -> bool:
    """Whether Debian's `nats-server` is installed (on the PATH)."""
    return shutil.which(NATS_SERVER) is not None


@dataclass(eq=False)
class NatsServer(LabServer):
    """One nats-server; `routes`: cluster peers (their relays) to connect to. A context manager."""

    name: str = "wanstack"
    monitor_port: int = field(default_factory=free_port)
    cluster_port: int | None = None  # a cluster member's route listener
    routes: list[str] = field(default_factory=list)
    startup_timeout_s: float = 20.0
    protocol: str = "nats"  # what a relay parses to count its messages (`lab.relay`)
    kind: ClassVar[str] = "nats"
    scheme: ClassVar[str] = "nats"
    installed = staticmethod(available)
    package: ClassVar[str] = "nats-server"

    def config(self) -> str:
        conf = f'listen: "{self.ip}:{self.port}"\nhttp: "{self.ip}:{self.monitor_port}"\n'
        conf += f'server_name: "{self.name}"\n'
        if self.cluster_port is not None:
            routes = ", ".join(f'"nats-route://{r}"' for r in self.routes)
            conf += (
                "cluster {\n"
                '  name: "wanstack"\n'
                f'  listen: "{self.ip}:{self.cluster_port}"\n'
                f'  advertise: "{NOWHERE}"\n'
                f"  routes: [{routes}]\n"
                "}\n"
            )
        return conf

    def launch(self, root: Path) -> None:
        home = root / self.name
        home.mkdir(parents=True, exist_ok=True)
        (home / "nats.conf").write_text(self.config(), encoding="utf-8")
        argv = [NATS_SERVER, "-c", str(home / "nats.conf")]
        server = self.run(ServiceProcess("nats-server", argv, home / "nats.log", grace_s=5.0))
        server.wait_until(self._healthy, self.startup_timeout_s, 0.02, f"healthy as {self.name}")

    def _healthy(self) -> bool:
        with contextlib.suppress(OSError, ValueError):
            return self.monitor("healthz").get("status") == "ok"
        return False

    def monitor(self, endpoint: str) -> dict[str, Any]:
        """One of the server's monitoring endpoints (varz, routez, healthz), as JSON."""
        url = f"http://{self.ip}:{self.monitor_port}/{endpoint}"
        with urllib.request.urlopen(url, timeout=2) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]

    def deliveries(self) -> int:
        """Application messages the server has sent on (its global account's `sent`, `accstatz`;
        the system account's own events left out): what a router forwards, as the simulator counts a
        router station's jobs."""
        with contextlib.suppress(OSError, ValueError, KeyError, urllib.error.URLError):
            accounts = self.monitor("accstatz?unused=1")["account_statz"]
            return sum(int(a["sent"]["msgs"]) for a in accounts if a["acc"] == GLOBAL_ACCOUNT)
        return 0

    def routes_up(self) -> int:
        with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
            return int(self.monitor("routez")["num_routes"])
        return 0


class NatsCluster(LabServer):
    """A NATS server at each of `sites`, routes between every two through WAN relays; `shape(a, b)`:
    the WAN path from one site to another (`LinkShape.of_path`). Clients use the nearest server
    (`nearest`). The servers' files share the cluster's folder (`servers.LabServer`)."""

    kind: ClassVar[str] = "nats"

    def __init__(
        self, sites: Sequence[str], shape: Callable[[str, str], LinkShape], name: str = "wanstack"
    ) -> None:
        super().__init__()
        self.sites = list(sites)
        self.shape = shape
        self.members = {
            site: NatsServer(name=f"{name}-{k}", cluster_port=free_port())
            for k, site in enumerate(self.sites, 1)
        }
        # (from site, to site) -> the relay that site's server reaches the other's route port through.
        self.relays: dict[tuple[str, str], DelayRelay] = {}
        self._stack = contextlib.ExitStack()

    def launch(self, root: Path) -> None:
        for a in self.sites:
            for b in self.sites:
                if a != b:
                    port = self.members[b].cluster_port
                    assert port is not None
                    relay = DelayRelay(port, self.shape(a, b), protocol="nats")
                    self.relays[a, b] = self._stack.enter_context(relay)
                    self.members[a].routes.append(f"127.0.0.1:{relay.port}")
        for server in self.members.values():
            server.root = root
            self._stack.enter_context(server)
        self._wait_formed()

    def _wait_formed(self, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        want = len(self.sites) - 1
        while time.monotonic() < deadline:
            if all(s.routes_up() >= want for s in self.members.values()):
                return
            time.sleep(0.05)
        raise TimeoutError(f"the NATS cluster did not form in {timeout_s:.0f} s")

    def nearest(self, site: str) -> str:
        """The server a site's roles use: their own site's, else the closest."""
        return nearest_site(self.sites, lambda a, b: self.shape(a, b).delay_ms, site)

    def peer_bytes(self) -> dict[tuple[str, str], float]:
        """Bytes sent so far from each server's site to each other's over their route relays."""
        return self._peer(lambda d: float(d.bytes))

    def peer_messages(self) -> dict[tuple[str, str], float]:
        """Messages the servers forwarded to each other so far (RMSG), per (from site, to site)."""
        return self._peer(lambda d: float(d.messages))

    def _peer(self, what: Callable[[DirectionStats], float]) -> dict[tuple[str, str], float]:
        sent: dict[tuple[str, str], float] = {}
        for (a, b), relay in self.relays.items():
            sent[a, b] = sent.get((a, b), 0.0) + what(relay.forward)
            sent[b, a] = sent.get((b, a), 0.0) + what(relay.backward)
        return sent

    def halt(self) -> None:
        self._stack.close()
