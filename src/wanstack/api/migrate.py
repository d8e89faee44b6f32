"""Migrations from Python: the VMs of a scenario (`fleet`), whether and where one should move
(`advise`, `advise_site`), plans that empty a site or even out the load (`evacuate`, `rebalance`,
a solver's CP-SAT needing the plan extra) and their run in the simulator (`simulate_plan`), follow-me
migrations for a mobile user (`follow`, with `load_trace` or `random_trace`). What `wanstack migrate`
does; its tables and files are `wanstack.report.migration`'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wanstack.migration.advisor import Advice
from wanstack.migration.context import Conditions, advise_vm
from wanstack.migration.fleet import Fleet, Vm, generate, load_fleet
from wanstack.migration.mobility import PolicyOutcome, Trace, load_trace, random_trace
from wanstack.migration.mobility import follow as follow_user
from wanstack.migration.planner import Plan
from wanstack.migration.settings import MigrationSettings
from wanstack.scenario.build import Infrastructure

if TYPE_CHECKING:
    from wanstack.sim.migrations import PlanRun

__all__ = [
    "Advice",
    "Conditions",
    "Fleet",
    "MigrationSettings",
    "Plan",
    "Planning",
    "PolicyOutcome",
    "Trace",
    "Vm",
    "advise",
    "advise_site",
    "busy_site",
    "evacuate",
    "fleet",
    "follow",
    "load_trace",
    "random_trace",
    "rebalance",
    "simulate_plan",
]


def fleet(infra: Infrastructure, path: Path | None = None, per_host: float = 20.0) -> Fleet:
    """The VMs of the scenario: read from a JSON/YAML file (`{vms: [{id, site, ram_mb, vcpus,
    dirty_mbps, …}]}`; raises OSError or ValueError), or generated, `per_host` VMs per host with the
    flavors and dirty rates of `wanstack.migration.fleet`."""
    return generate(infra, per_host) if path is None else load_fleet(path, infra)


def advise(
    infra: Infrastructure,
    fleet: Fleet,
    vm: Vm,
    conditions: Conditions | None = None,
    settings: MigrationSettings | None = None,
) -> Advice:
    """Every destination site for `vm` ranked by a transparent score (seconds of service gained over
    the horizon, each term shown), or "don't migrate", under `conditions` (loads, host speeds, the
    share of bandwidth others use, where the VM's users are) and Nova's migration `settings`."""
    return advise_vm(infra, fleet, vm, conditions, settings=settings)


def advise_site(
    infra: Infrastructure,
    fleet: Fleet,
    site: str,
    conditions: Conditions | None = None,
    settings: MigrationSettings | None = None,
) -> list[Advice]:
    """`advise` for every VM at `site`, in the fleet's order."""
    return [advise_vm(infra, fleet, vm, conditions, settings=settings) for vm in fleet.at(site)]


def busy_site(infra: Infrastructure, fleet: Fleet) -> str | None:
    """A site worth emptying: the first with VMs other than the top site (None when there is none)."""
    top = infra.placement.top_site
    return next((s for s in infra.sites if s != top and fleet.at(s)), None)


@dataclass(frozen=True)
class Planning:
    """How a plan is made: Nova's migration `settings`, the `solver` ("auto": CP-SAT from a greedy
    start up to 12k VM × destination pairs, "cp-sat" (the plan extra), "greedy") and its time limit, and
    the share of every route's bandwidth other traffic already uses."""

    settings: MigrationSettings = field(default_factory=MigrationSettings)
    solver: str = "auto"
    time_limit_s: float = 20.0
    utilisation: float = 0.0


def evacuate(
    infra: Infrastructure,
    fleet: Fleet,
    site: str,
    planning: Planning | None = None,
    *,
    destinations: list[str] | None = None,
    nearest: int = 3,
) -> Plan:
    """A plan moving every VM off `site` (maintenance) to `destinations` (default: its `nearest`
    sites), minimising the time until the last one has moved."""
    from wanstack.migration.planner import evacuate as plan

    p = planning or Planning()
    return plan(
        infra,
        fleet,
        site,
        destinations=destinations,
        nearest=nearest,
        settings=p.settings,
        time_limit_s=p.time_limit_s,
        utilisation=p.utilisation,
        solver=p.solver,
    )


def rebalance(
    infra: Infrastructure, fleet: Fleet, budget_bytes: float, planning: Planning | None = None
) -> Plan:
    """A plan moving VMs from sites above the mean load to sites below it, lowering the highest load as
    far as `budget_bytes` over the WAN allow (then the makespan)."""
    from wanstack.migration.planner import rebalance as plan

    p = planning or Planning()
    return plan(
        infra,
        fleet,
        budget_bytes,
        settings=p.settings,
        time_limit_s=p.time_limit_s,
        utilisation=p.utilisation,
        solver=p.solver,
    )


def simulate_plan(
    infra: Infrastructure, plan: Plan, fleet: Fleet, settings: MigrationSettings | None = None
) -> PlanRun:
    """`plan` run in the simulator from t = 0 alongside the scenario's workload, and the same run
    without it (`baseline`): what the migrations take and what they do to the users."""
    from wanstack.sim.migrations import simulate_plan as run

    return run(infra, plan, fleet.by_id(), settings=settings, baseline=True)


def follow(
    infra: Infrastructure,
    fleet: Fleet,
    vm: Vm,
    trace: Trace,
    settings: MigrationSettings | None = None,
) -> list[PolicyOutcome]:
    """`vm` serving a user who moves as `trace` says (`load_trace`, `random_trace`), under each policy
    (stay, follow to the nearest site, follow the advisor): the user's round trips, the migrations and
    what they cost. Raises ValueError for a trace point no site matches."""
    return follow_user(infra, fleet, vm, trace, settings=settings)
