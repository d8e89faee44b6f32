"""Instances, capacity and image caches per site, as the scheduler and the compute hosts see them."""

from __future__ import annotations

from collections import deque

from wanstack.scenario.infrastructure import Site
from wanstack.scenario.workload import OperationKind
from wanstack.sim.operation import Operation


class Inventory:
    """The servers of each site by state, the vCPUs free on its hosts, and which images each host and each
    site's cache hold: what the scheduler claims room in, operations take servers from, and their outcomes
    change (`settle`)."""

    def __init__(self, sites: dict[str, Site]) -> None:
        self.hosts = {name: s.host_count for name, s in sites.items()}
        self.free_vcpus = {name: s.host_count * s.hosts.vcpus for name, s in sites.items()}
        self._next_host = dict.fromkeys(sites, 0)
        # site -> state -> (id, vCPUs, RAM MB): a server's size travels with it, so a delete gives back
        # what its boot took without a lookup.
        self._instances: dict[str, dict[str, deque[tuple[int, int, int]]]] = {}
        self._ids = 0
        self._host_images: set[tuple[str, int, str]] = set()
        self._cache_images: set[tuple[str, str]] = set()
        # An instance taken by a running operation: (state, vCPUs, RAM MB).
        self._held: dict[int, tuple[str, int, int]] = {}
        self._host_of: dict[int, tuple[str, int]] = {}  # instance -> (site, host index)
        # Servers, their vCPUs and their RAM (MB) per site, every state.
        self._at_site: dict[str, tuple[int, int, int]] = {}

    def claim(self, site: str, vcpus: int) -> int:
        """Room for `vcpus` at the site: a host index (round robin), or -1."""
        if self.free_vcpus[site] < vcpus or self.hosts[site] == 0:
            return -1
        self.free_vcpus[site] -= vcpus
        host = self._next_host[site]
        self._next_host[site] = (host + 1) % self.hosts[site]
        return host

    def add(self, site: str, state: str, vcpus: int, host: int = -1, ram_mb: int = 0) -> int:
        self._ids += 1
        self._instances.setdefault(site, {}).setdefault(state, deque()).append((self._ids, vcpus, ram_mb))
        n, v, r = self._at_site.get(site, (0, 0, 0))
        self._at_site[site] = (n + 1, v + vcpus, r + ram_mb)
        if host >= 0:
            self._host_of[self._ids] = (site, host)
        return self._ids

    def take(self, site: str, state: str) -> int | None:
        queue = self._instances.get(site, {}).get(state)
        if not queue:
            return None
        instance, vcpus, ram_mb = queue.popleft()
        self._held[instance] = (state, vcpus, ram_mb)
        return instance

    def take_oldest(self, state: str) -> tuple[str, int] | None:
        """The longest-standing server in `state` at any site, and its site: what an operation without
        sites acts on (Rally's scenarios act on the servers the workload booted, wherever they are)."""
        oldest: tuple[int, str] | None = None
        for site, states in self._instances.items():
            queue = states.get(state)
            if queue and (oldest is None or queue[0][0] < oldest[0]):
                oldest = (queue[0][0], site)
        if oldest is None:
            return None
        instance = self.take(oldest[1], state)
        assert instance is not None
        return oldest[1], instance

    def host_of(self, instance: int) -> int:
        return self._host_of.get(instance, ("", -1))[1]

    def settle(self, op: Operation) -> None:
        """Apply an operation's outcome to the inventory."""
        ok = op.outcome == "ok"
        if op.kind is OperationKind.BOOT:
            if ok:
                flavor = op.spec.flavor
                op.instance = self.add(op.site, "active", flavor.vcpus, op.host, flavor.ram_mb)
            elif op.host >= 0:
                self.free_vcpus[op.site] += op.spec.flavor.vcpus
            return
        if op.instance < 0:
            return
        state, vcpus, ram_mb = self._held.pop(op.instance)
        if ok and op.kind is OperationKind.DELETE:
            self.free_vcpus[op.site] += vcpus
            n, v, r = self._at_site[op.site]
            self._at_site[op.site] = (n - 1, v - vcpus, r - ram_mb)
            self._host_of.pop(op.instance, None)
            return
        if ok:
            state = {OperationKind.PAUSE: "paused", OperationKind.UNPAUSE: "active"}.get(op.kind, state)
        self._instances.setdefault(op.site, {}).setdefault(state, deque()).append(
            (op.instance, vcpus, ram_mb)
        )

    def host_has_image(self, site: str, host: int, image: str) -> bool:
        return (site, host, image) in self._host_images

    def host_cached(self, site: str, host: int, image: str) -> None:
        self._host_images.add((site, host, image))

    def cache_has_image(self, site: str, image: str) -> bool:
        return (site, image) in self._cache_images

    def cache_stored(self, site: str, image: str) -> None:
        self._cache_images.add((site, image))

    def at_site(self, site: str) -> tuple[int, int, int]:
        """Servers at `site` in every state (those an operation is acting on included), their vCPUs
        and their RAM (MB): what the site's Nova database lists."""
        return self._at_site.get(site, (0, 0, 0))

    def count(self, state: str = "active") -> int:
        return sum(len(states.get(state, ())) for states in self._instances.values())
