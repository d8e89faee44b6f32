"""The advisor's inputs for a VM of a fleet on a scenario: its state, the sites', the paths'."""

from __future__ import annotations

from dataclasses import dataclass, field

from wanstack.migration.advisor import Advice, LinkState, SiteState, VmState, Weights, advise
from wanstack.migration.fleet import Fleet, Vm
from wanstack.migration.routes import route
from wanstack.migration.settings import MigrationSettings
from wanstack.scenario.build import Infrastructure


@dataclass(frozen=True)
class Conditions:
    """What the operator knows beyond the scenario: per site, a load to use instead of the fleet's,
    and the relative speed of its hosts; the share of every path's bandwidth others use; where the
    VM's users are (default: at the VM's own site) and the round trip they tolerate."""

    load: dict[str, float] = field(default_factory=dict)
    performance: dict[str, float] = field(default_factory=dict)
    utilisation: float = 0.0
    users_at: str | None = None
    max_users_rtt_ms: float = float("inf")


def rtt_ms(infra: Infrastructure, a: str, b: str) -> float:
    """The round trip between sites `a` and `b` over the scenario's lowest-delay paths (ms): 0 at one site,
    inf when they are not connected."""
    topo = infra.topology
    if a == b:
        return 0.0
    if not topo.reachable(a, b):
        return float("inf")
    return topo.path_delay_ms(a, b) + topo.path_delay_ms(b, a)


def advise_vm(
    infra: Infrastructure,
    fleet: Fleet,
    vm: Vm,
    conditions: Conditions | None = None,
    *,
    weights: Weights | None = None,
    settings: MigrationSettings | None = None,
) -> Advice:
    """Every destination site for `vm` ranked by a transparent score (seconds of service gained over
    the horizon, each term shown), or "don't migrate", under `conditions` (loads, host speeds, the
    share of bandwidth others use, where the VM's users are), the score's `weights` and Nova's
    migration `settings`."""
    c = conditions or Conditions()
    s = settings or MigrationSettings()
    sites = {
        name: SiteState(
            name,
            c.load.get(name, cap.load),
            cap.free_ram_mb,
            cap.free_vcpus,
            c.performance.get(name, 1.0),
            frozenset(cap.groups),
            cap.ram_mb,
        )
        for name, cap in fleet.sites.items()
    }
    users = c.users_at or vm.site
    state = VmState(
        vm.id,
        vm.site,
        vm.guest,
        vm.vcpus,
        {name: rtt_ms(infra, users, name) for name in infra.sites},
        vm.max_downtime_ms,
        c.max_users_rtt_ms,
        vm.group,
    )
    paths: dict[str, LinkState] = {}
    for name in infra.sites:
        if name == vm.site:
            continue
        r = route(infra, vm.site, name, s, lanes=1)
        if r is not None:
            # The route's full bandwidth (no utilisation given to `route`): the advisor takes its own.
            paths[name] = LinkState(r.bandwidth_mbps, r.rtt_ms, c.utilisation, r.distance_km)
    return advise(state, sites, paths, weights, s)
