"""A RabbitMQ cluster spread over sites, its nodes talking to each other across the emulated WAN.

Each member runs at its site's own loopback address (site k: 127.0.k.1) under the host name of that
site, so its node name says where it is (`wanstack-0@site-k`). Erlang finds a peer by asking epmd at
the peer's host for the peer's distribution port, then connects there; each member resolves the
other sites' host names (Erlang's inetrc, no /etc/hosts) to a relay address of its own (127.0.k.(100
+ j)) where a `DelayRelay` forwards both the epmd port and the peer's distribution port to the
peer's site with the WAN path's shape (delay each way, jitter, loss, rate:
`lab.relay.LinkShape.of_path`). So every inter-node exchange — queue operations on a queue homed on
another node, the cluster's own heartbeats (net_ticktime, 60 s) — pays the WAN, as it would between
real sites; AMQP clients reach a member through relays of their own (`bench.cases`).

RabbitMQ's documentation warns against clusters across a WAN (use federation or shovel there; shared
domain notes §9): this is the set-up that lets one measure why. The first member starts alone and
the others join it at their first boot (classic config peer discovery, rabbitmq.conf
`cluster_formation.classic_config.nodes`); starting them all at once can form separate clusters.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wanstack.lab.addresses import MAX_MEMBERS, site_ip, view_ip
from wanstack.lab.ports import free_port
from wanstack.lab.processes import terminate
from wanstack.lab.rabbit import RabbitNode, start_epmd
from wanstack.lab.relay import DelayRelay, LinkShape


def nearest_site(sites: Sequence[str], delay_ms: Callable[[str, str], float], site: str) -> str:
    """Of `sites` (a bus's nodes), the one closest to `site`: itself if it has one, then the least
    one-way delay, then the name (ties broken the same way every run)."""
    return min(sites, key=lambda m: (0.0 if m == site else delay_ms(site, m), m))


class RabbitCluster:
    """Members at `sites` (the first is the seed); `shape(a, b)`: the WAN path from one to another
    (`LinkShape.of_path`), for the relays of a's connections to b."""

    def __init__(
        self,
        sites: Sequence[str],
        shape: Callable[[str, str], LinkShape],
        name: str = "wanstack-cluster",
        root: Path | None = None,
    ) -> None:
        if not 1 <= len(sites) <= MAX_MEMBERS:
            raise ValueError(f"a cluster here has 1 to {MAX_MEMBERS} members, not {len(sites)}")
        self.sites = list(sites)
        self.shape = shape
        self.epmd_port = free_port()
        cookie = secrets.token_hex(16).upper()
        hostname = {site: f"site-{k}" for k, site in enumerate(self.sites, 1)}
        self.members: dict[str, RabbitNode] = {}
        for k, site in enumerate(self.sites, 1):
            self.members[site] = RabbitNode(
                name=f"{name}-{k}",
                root=root,
                epmd_port=self.epmd_port,
                ip=site_ip(k),
                host=hostname[site],
                own_epmd=False,
                cookie=cookie,
                hosts={
                    hostname[other]: site_ip(k) if other == site else view_ip(k, j)
                    for j, other in enumerate(self.sites, 1)
                },
            )
        nodes = tuple(m.node for m in self.members.values())
        for site in self.sites[1:]:
            self.members[site].peers = nodes
        self._epmd: subprocess.Popen[bytes] | None = None
        self._relays: list[DelayRelay] = []
        # (member's site, peer's site) -> the relays its connections to that peer pass (epmd, dist):
        # forward is what the member sends the peer, backward what it receives.
        self.peer_relays: dict[tuple[str, str], list[DelayRelay]] = {}
        self._stack = contextlib.ExitStack()
        self._lock = threading.Lock()

    def start(self) -> RabbitCluster:
        try:
            self._epmd = start_epmd(
                self.epmd_port, ("127.0.0.1", *(site_ip(k) for k in range(1, len(self.sites) + 1)))
            )
            self._relay_to(self.epmd_port, "epmd", lambda other: True)
            seed, *rest = self.sites
            # A member's distribution port gets its relays once it runs: RabbitMQ's prelaunch refuses
            # a port already taken on any address.
            self._start_member(seed)
            with ThreadPoolExecutor(max_workers=max(1, len(rest))) as pool:
                list(pool.map(self._start_member, rest))
            self._wait_formed()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_member(self, site: str) -> None:
        member = self.members[site].start()
        with self._lock:
            self._stack.callback(member.stop)
        self._relay_to(member.dist_port, "distribution", lambda other: other == site)

    def _relay_to(self, port: int, name: str, to: Callable[[str], object]) -> None:
        """Relays from every site's view of each peer `to` accepts, on `port`, with the path's shape
        (draws of their own: `name` tells the epmd relay of a pair from its distribution relay)."""
        for k, site in enumerate(self.sites, 1):
            for j, other in enumerate(self.sites, 1):
                if other == site or not to(other):
                    continue
                shape = self.shape(site, other).reseeded(name)
                relay = DelayRelay(port, shape, port=port, host=view_ip(k, j), target_host=site_ip(j))
                with self._lock:
                    self._relays.append(self._stack.enter_context(relay))
                    self.peer_relays.setdefault((site, other), []).append(relay)

    def peer_bytes(self) -> dict[tuple[str, str], float]:
        """Bytes sent so far from each member's site to each other's, through the WAN relays."""
        sent: dict[tuple[str, str], float] = {}
        with self._lock:
            for (site, other), relays in self.peer_relays.items():
                for r in relays:
                    sent[site, other] = sent.get((site, other), 0.0) + r.forward.bytes
                    sent[other, site] = sent.get((other, site), 0.0) + r.backward.bytes
        return sent

    def _wait_formed(self, timeout_s: float = 60.0) -> None:
        """Until the seed sees every member running."""
        seed = self.members[self.sites[0]]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.running() == len(self.sites):
                return
            time.sleep(0.5)
        raise TimeoutError(f"the cluster did not form in {timeout_s:.0f} s: {seed.tail_log()}")

    def running(self) -> int:
        """Members the seed sees running."""
        seed = self.members[self.sites[0]]
        status = seed.eval("length(rabbit_nodes:all_running()).")
        return int(status) if status.isdigit() else 0

    def nearest(self, site: str) -> str:
        """The member site a client at `site` connects to: the closest (as the simulator's cluster)."""
        return nearest_site(self.sites, lambda a, b: self.shape(a, b).delay_ms, site)

    def stop(self) -> None:
        self._stack.close()
        if self._epmd is not None:
            terminate(self._epmd)
            self._epmd = None

    def __enter__(self) -> RabbitCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
