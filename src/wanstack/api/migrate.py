"""Migrations from Python: the VMs of a scenario (`fleet`), whether and where one should move
(`advise`, `advise_site`), plans that empty a site or even out the load (`evacuate`, `rebalance`,
a solver's CP-SAT needing the plan extra) and their run in the simulator (`simulate_plan`), follow-me
migrations for a mobile user (`follow`, with `load_trace` or `random_trace`). What `wanstack migrate`
does; its tables and files are `wanstack.report.migration`'s."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wanstack.migration.advisor import Advice
from wanstack.migration.context import Conditions
from wanstack.migration.context import advise_vm as advise
from wanstack.migration.fleet import Fleet, Vm, generate, load_fleet
from wanstack.migration.mobility import PolicyOutcome, Trace, follow, load_trace, random_trace
from wanstack.migration.planner import Plan, Planning, evacuate, rebalance
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


def advise_site(
    infra: Infrastructure,
    fleet: Fleet,
    site: str,
    conditions: Conditions | None = None,
    settings: MigrationSettings | None = None,
) -> list[Advice]:
    """`advise` for every VM at `site`, in the fleet's order."""
    return [advise(infra, fleet, vm, conditions, settings=settings) for vm in fleet.at(site)]


def busy_site(infra: Infrastructure, fleet: Fleet) -> str | None:
    """A site worth emptying: the first with VMs other than the top site (None when there is none)."""
    top = infra.placement.top_site
    return next((s for s in infra.sites if s != top and fleet.at(s)), None)


def simulate_plan(
    infra: Infrastructure, plan: Plan, fleet: Fleet, settings: MigrationSettings | None = None
) -> PlanRun:
    """`plan` run in the simulator from t = 0 alongside the scenario's workload, and the same run
    without it (`baseline`): what the migrations take and what they do to the users."""
    from wanstack.sim.migrations import simulate_plan as run

    return run(infra, plan, fleet.by_id(), settings=settings, baseline=True)
