"""The VMs of a scenario's sites, for migration planning: who runs where, how big, how busy.

A scenario describes hosts, not the VMs on them, so a fleet is generated from it, seeded by the
scenario's run seed (same seed, same fleet). Sizes follow Nova's legacy default flavors, which
devstack still creates (nova/db/main/legacy_flavors, `openstack flavor list` on a devstack):
m1.tiny 512 MB/1 vCPU/1 GB, m1.small 2 GB/1/20 GB, m1.medium 4 GB/2/40 GB, m1.large 8 GB/4/80 GB,
m1.xlarge 16 GB/8/160 GB. The mix between them, the page-dirty rates and the working sets are
assumptions (stated per field below): measure your own guests and pass them as a fleet file instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from wanstack.migration.cost import Guest
from wanstack.migration.inputs import read_model
from wanstack.scenario.build import Infrastructure


@dataclass(frozen=True)
class Flavor:
    """A Nova flavor: its name, RAM (MB), vCPUs and root disk (GB)."""

    name: str
    ram_mb: int
    vcpus: int
    disk_gb: int


FLAVORS = (
    Flavor("m1.tiny", 512, 1, 1),
    Flavor("m1.small", 2048, 1, 20),
    Flavor("m1.medium", 4096, 2, 40),
    Flavor("m1.large", 8192, 4, 80),
    Flavor("m1.xlarge", 16384, 8, 160),
)
# Assumed share of each flavor among the VMs of an edge site: mostly small and medium.
FLAVOR_MIX = (0.15, 0.35, 0.30, 0.15, 0.05)
# Assumed page-dirty rate (MB/s): log-normal around 5 MB/s (idle and web guests write little), with a
# tail of busy guests above 50 MB/s. Akoush et al. (MASCOTS 2010, Table II) measured 0.3 to ~100 MB/s
# across their workloads; the median and spread here sit inside that range.
DIRTY_MEDIAN_MBPS = 5.0
DIRTY_SIGMA = 1.2
# Assumed writable working set: 5 to 30 % of the guest's memory (Clark et al., NSDI 2005, §5: the
# writable working set is a small part of memory for most workloads).
WORKING_SET_SHARE = (0.05, 0.30)
# Assumed: VMs tolerate Nova's own switch-over allowance (live_migration_downtime = 500 ms) twice over.
DEFAULT_MAX_DOWNTIME_MS = 1_000.0


@dataclass(frozen=True)
class Vm:
    """One VM of a fleet: its id, its site and compute host there (an index), its flavor's name, what
    matters for moving it (`guest`), its vCPUs, the longest downtime it tolerates (ms), and its
    anti-affinity group."""

    id: str
    site: str
    host: int  # index of its compute host at the site
    flavor: str
    guest: Guest
    vcpus: int
    max_downtime_ms: float = DEFAULT_MAX_DOWNTIME_MS
    group: str | None = None  # anti-affinity group


@dataclass
class SiteCapacity:
    """What a site's hosts hold for a fleet: RAM (MB) and vCPUs with Nova's allocation ratios applied, what
    the fleet's VMs use of them, and the anti-affinity groups with a VM there."""

    name: str
    ram_mb: float  # all hosts together
    vcpus: int
    used_ram_mb: float = 0.0
    used_vcpus: int = 0
    groups: set[str] = field(default_factory=set)

    @property
    def free_ram_mb(self) -> float:
        return self.ram_mb - self.used_ram_mb

    @property
    def free_vcpus(self) -> int:
        return self.vcpus - self.used_vcpus

    @property
    def load(self) -> float:
        """Share of the site's RAM in use (RAM, not CPU, is what fills first with the default
        cpu_allocation_ratio 16 and ram_allocation_ratio 1.5 of Nova's placement)."""
        return self.used_ram_mb / self.ram_mb if self.ram_mb else 1.0

    def take(self, vm: Vm) -> None:
        self.used_ram_mb += vm.guest.memory_mb
        self.used_vcpus += vm.vcpus
        if vm.group:
            self.groups.add(vm.group)

    def release(self, vm: Vm) -> None:
        self.used_ram_mb -= vm.guest.memory_mb
        self.used_vcpus -= vm.vcpus


@dataclass
class Fleet:
    """A fleet: its VMs and every site's capacity."""

    vms: list[Vm]
    sites: dict[str, SiteCapacity]

    def at(self, site: str) -> list[Vm]:
        return [v for v in self.vms if v.site == site]

    def by_id(self) -> dict[str, Vm]:
        return {v.id: v for v in self.vms}


# Nova's placement over-commits vCPUs 16:1 by default (cpu_allocation_ratio, nova/conf/compute.py,
# initial_cpu_allocation_ratio = 16.0) and RAM 1.5:1 (initial_ram_allocation_ratio = 1.5).
CPU_ALLOCATION_RATIO = 16.0
RAM_ALLOCATION_RATIO = 1.5


def generate(
    infra: Infrastructure,
    vms_per_host: dict[str, float] | float = 20.0,
    seed: int | None = None,
    shared_storage: bool = True,
) -> Fleet:
    """A fleet for the scenario's sites: `vms_per_host` VMs on average on each host (per site, or one
    figure for all), flavors, dirty rates and working sets drawn as the module says."""
    rng = np.random.default_rng(infra.scenario.run.seed if seed is None else seed)
    sites: dict[str, SiteCapacity] = {}
    vms: list[Vm] = []
    for name, site in infra.sites.items():
        hosts = site.host_count
        cap = SiteCapacity(
            name,
            hosts * site.hosts.ram_gb * 1024 * RAM_ALLOCATION_RATIO,
            int(hosts * site.hosts.vcpus * CPU_ALLOCATION_RATIO),
        )
        sites[name] = cap
        per_host = vms_per_host if isinstance(vms_per_host, int | float) else vms_per_host.get(name, 0.0)
        count = round(per_host * hosts)
        flavors = rng.choice(len(FLAVORS), size=count, p=FLAVOR_MIX)
        dirty = rng.lognormal(np.log(DIRTY_MEDIAN_MBPS), DIRTY_SIGMA, size=count)
        share = rng.uniform(*WORKING_SET_SHARE, size=count)
        for i in range(count):
            f = FLAVORS[int(flavors[i])]
            guest = Guest(
                memory_mb=f.ram_mb,
                dirty_rate_mbps=float(dirty[i]),
                working_set_mb=f.ram_mb * float(share[i]),
                disk_gb=f.disk_gb,
                shared_storage=shared_storage,
            )
            vm = Vm(f"{name}-vm{i:05d}", name, i % max(hosts, 1), f.name, guest, f.vcpus)
            if cap.free_ram_mb < guest.memory_mb or cap.free_vcpus < f.vcpus:
                continue  # the site is full: Nova's scheduler would have refused it
            cap.take(vm)
            vms.append(vm)
    return Fleet(vms, sites)


class VmEntry(BaseModel):
    """One VM of a fleet file."""

    model_config = ConfigDict(extra="forbid")

    id: str
    site: str
    host: int = Field(0, ge=0, description="Index of its compute host at the site.")
    flavor: str = "custom"
    ram_mb: float = Field(gt=0)
    vcpus: int = Field(1, ge=1)
    dirty_mbps: float = Field(0.0, ge=0, description="Page-dirty rate, MB/s.")
    working_set_mb: float | None = Field(None, gt=0)
    disk_gb: float = Field(0.0, ge=0)
    shared_storage: bool = True
    max_downtime_ms: float = Field(DEFAULT_MAX_DOWNTIME_MS, gt=0)
    group: str | None = None


class FleetFile(BaseModel):
    """A fleet file (JSON or YAML, `load_fleet`): its VMs."""

    model_config = ConfigDict(extra="forbid")

    vms: list[VmEntry]


def load_fleet(path: FsPath, infra: Infrastructure) -> Fleet:
    """A fleet from a JSON or YAML file (`FleetFile`); the sites' capacities come from the scenario's
    hosts. Raises ValueError naming the file and the first wrong entry."""
    data = read_model(path, FleetFile)
    empty = generate(infra, vms_per_host=0.0)
    vms: list[Vm] = []
    for e in data.vms:
        if e.site not in infra.sites:
            raise ValueError(f"{path}: VM {e.id}: site {e.site!r} is not in the scenario")
        guest = Guest(e.ram_mb, e.dirty_mbps, e.working_set_mb, e.disk_gb, e.shared_storage)
        vm = Vm(e.id, e.site, e.host, e.flavor, guest, e.vcpus, e.max_downtime_ms, e.group)
        empty.sites[vm.site].take(vm)
        vms.append(vm)
    return Fleet(vms, empty.sites)
