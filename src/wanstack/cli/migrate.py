"""`wanstack migrate …`: advice, evacuation and rebalancing plans, follow-me migrations: parse, call
`wanstack.api.migrate`, print `wanstack.report.migration`'s views."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wanstack.cli.common import fail, load_scenario, need_extra
from wanstack.cli.groups import grouped
from wanstack.cli.options import FormatOption, OutputFormat, a_folder
from wanstack.cli.output import console, notes, print_json, show, spinner
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.words import count

if TYPE_CHECKING:
    from rich.table import Table

    from wanstack.api.migrate import Fleet, MigrationSettings, Plan, Planning

app = typer.Typer(
    help="Should a VM move, where to, and how to empty or rebalance sites over the WAN.",
    no_args_is_help=True,
)

Scenario = Annotated[str, typer.Argument(help="Scenario YAML file or built-in scenario name.")]
FleetOpt = Annotated[
    Path | None,
    typer.Option(help="VMs from a JSON/YAML file ({vms: [{id, site, ram_mb, vcpus, dirty_mbps, …}]})."),
]
PerHost = Annotated[
    float,
    typer.Option(help="Without --fleet: VMs generated per host (flavors, dirty rates: migration.fleet)."),
]
Utilisation = Annotated[float, typer.Option(min=0.0, max=0.99, help="Share of each path's bandwidth in use.")]
PostCopy = Annotated[bool, typer.Option(help="Nova's live_migration_permit_post_copy.")]
AutoConverge = Annotated[bool, typer.Option(help="Nova's live_migration_permit_auto_converge.")]
Out = Annotated[
    Path | None, typer.Option(help="Write plan.json (a record per VM) to this folder.", callback=a_folder)
]
Html = Annotated[Path | None, typer.Option(help="Write the plan's timeline and loads as HTML here.")]


class Solver(StrEnum):
    AUTO = "auto"
    CP_SAT = "cp-sat"
    GREEDY = "greedy"


TimeLimit = Annotated[float, typer.Option(min=0.1, help="Solver time limit, seconds.")]
SolverOpt = Annotated[Solver, typer.Option(help="CP-SAT from a greedy start (auto: up to 12k pairs).")]
Simulate = Annotated[bool, typer.Option(help="Also run the plan in the simulator.")]


@dataclass(frozen=True)
class Migrating:
    """How Nova would migrate (its live-migration settings) and how the answer is printed: what every
    `migrate` command takes."""

    post_copy: PostCopy = False
    auto_converge: AutoConverge = False
    fmt: FormatOption = OutputFormat.TABLE

    def settings(self) -> MigrationSettings:
        from wanstack.api.migrate import MigrationSettings

        return MigrationSettings(permit_post_copy=self.post_copy, permit_auto_converge=self.auto_converge)


@dataclass(frozen=True)
class PlanOptions(Migrating):
    """The options every planning command (evacuate, rebalance) takes besides Migrating's: the fleet,
    the solver, and where the plan goes."""

    fleet: FleetOpt = None
    vms_per_host: PerHost = 20.0
    time_limit: TimeLimit = 20.0
    solver: SolverOpt = Solver.AUTO
    utilisation: Utilisation = 0.0
    simulate: Simulate = True
    out: Out = None
    html: Html = None

    def planning(self, command: str) -> Planning:
        """The planner's settings, once the extras they need are known to be installed."""
        from wanstack.api.migrate import Planning

        if self.solver is not Solver.GREEDY:
            need_extra("plan", command, hint="or --solver greedy")
        if self.html is not None:
            need_extra("html", command)
        return Planning(self.settings(), self.solver.value, self.time_limit, self.utilisation)


def _setup(scenario: str, fleet_file: Path | None, per_host: float) -> tuple[Infrastructure, Fleet]:
    from wanstack.api.migrate import fleet

    infra = load_scenario(scenario)
    try:
        return infra, fleet(infra, fleet_file, per_host)
    except (OSError, ValueError) as err:
        fail(str(err), markup=False)


def _site(infra: Infrastructure, site: str) -> str:
    if site not in infra.sites:
        fail(f"no site {site!r} in {infra.scenario.name} (sites: {', '.join(list(infra.sites)[:8])}, …)")
    return site


def _pairs(values: list[str] | None, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in values or []:
        name, sep, number = v.partition("=")
        try:
            out[name] = float(number)
        except ValueError:
            sep = ""
        if not sep:
            raise typer.BadParameter(f"{what} takes SITE=NUMBER, not {v!r}")
    return out


@app.command()
@grouped(migrating=Migrating)
def advise(
    scenario: Scenario = DEFAULT_SCENARIO,
    vm: Annotated[str | None, typer.Option(help="The VM to advise on.")] = None,
    site: Annotated[str | None, typer.Option(help="Advise on every VM of this site instead.")] = None,
    fleet: FleetOpt = None,
    vms_per_host: PerHost = 20.0,
    load: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SITE=LOAD", help="SITE=0.9: a site's load instead of the fleet's (repeatable)."
        ),
    ] = None,
    performance: Annotated[
        list[str] | None,
        typer.Option(metavar="SITE=SPEED", help="SITE=1.5: relative speed of its hosts (repeatable)."),
    ] = None,
    users_at: Annotated[
        str | None, typer.Option(help="Where the VM's users are (default: its site).")
    ] = None,
    max_users_rtt: Annotated[
        float, typer.Option(help="Longest round trip (ms) the VM's users tolerate to its new site.")
    ] = float("inf"),
    utilisation: Utilisation = 0.0,
    migrating: Migrating = Migrating(),
) -> None:
    """Rank destination sites for a VM by a transparent score, or say "don't migrate"."""
    from wanstack.api.migrate import Conditions, advise, advise_site
    from wanstack.report.migration import advice_table, site_advice_table

    infra, f = _setup(scenario, fleet, vms_per_host)
    conditions = Conditions(
        _pairs(load, "--load"), _pairs(performance, "--performance"), utilisation, users_at, max_users_rtt
    )
    settings, fmt = migrating.settings(), migrating.fmt
    if vm is not None:
        chosen = f.by_id().get(vm)
        if chosen is None:
            fail(f"no VM {vm!r} in the fleet (e.g. {f.vms[0].id if f.vms else 'none'})", markup=False)
        show(fmt, advice_table(advise(infra, f, chosen, conditions, settings=settings)))
        return
    if site is None:
        fail("say which VM (--vm ID) or which site (--site NAME) to advise on", markup=False)
    show(fmt, site_advice_table(site, advise_site(infra, f, _site(infra, site), conditions, settings)))


@app.command()
@grouped(options=PlanOptions)
def evacuate(
    scenario: Scenario = DEFAULT_SCENARIO,
    site: Annotated[
        str | None, typer.Option(help="The site to empty (default: the first site with VMs below the top).")
    ] = None,
    to: Annotated[list[str] | None, typer.Option(help="Destination sites (default: the nearest).")] = None,
    nearest: Annotated[int, typer.Option(min=1, help="How many nearest sites take the VMs.")] = 3,
    options: PlanOptions = PlanOptions(),
) -> None:
    """Plan moving every VM off a site (maintenance), minimising the time to empty it."""
    from wanstack.api.migrate import busy_site
    from wanstack.api.migrate import evacuate as plan_evacuation
    from wanstack.report.migration import plan_table, routes_table

    planning = options.planning("wanstack migrate evacuate")
    infra, f = _setup(scenario, options.fleet, options.vms_per_host)
    # By default a site worth emptying (it used to be edge-metro's `edge-part-dieu`, in no other scenario).
    found = busy_site(infra, f) if site is None else _site(infra, site)
    if found is None:
        fail(f"no site of {infra.scenario.name} but the top one has VMs: give --site", markup=False)
    with spinner(f"planning the evacuation of {count(len(f.at(found)), 'VM')}"):
        plan = plan_evacuation(infra, f, found, planning, destinations=to, nearest=nearest)
    _deliver(infra, f, plan, planning, [plan_table(plan), routes_table(plan)], options)


@app.command()
@grouped(options=PlanOptions)
def rebalance(
    scenario: Scenario = DEFAULT_SCENARIO,
    budget_gb: Annotated[
        float, typer.Option(min=0.0, help="Bytes over the WAN the moves may use, GB.")
    ] = 500.0,
    options: PlanOptions = PlanOptions(),
) -> None:
    """Plan moves that even out the load between sites within a budget of WAN bytes."""
    from wanstack.api.migrate import rebalance as plan_rebalance
    from wanstack.report.migration import loads_table, plan_table, routes_table

    planning = options.planning("wanstack migrate rebalance")
    infra, f = _setup(scenario, options.fleet, options.vms_per_host)
    with spinner("planning the rebalance"):
        plan = plan_rebalance(infra, f, budget_gb * 1e9, planning)
    views = [loads_table(plan), plan_table(plan), routes_table(plan)]
    _deliver(infra, f, plan, planning, views, options)


def _deliver(
    infra: Infrastructure,
    fleet: Fleet,
    plan: Plan,
    planning: Planning,
    views: list[Table],
    options: PlanOptions,
) -> None:
    """The plan's `views`, then the plan simulated (if asked), then written where asked; as JSON alone
    on stdout with --format json (the document --out writes)."""
    from wanstack.api.migrate import simulate_plan
    from wanstack.report.migration import plan_document, run_table, write_plan

    fmt, out, html = options.fmt, options.out, options.html

    if fmt is OutputFormat.TABLE:
        for view in views:
            console.print(view)
    run = None
    if options.simulate and plan.moves:
        with spinner("simulating the plan alongside the scenario's workload, and without it"):
            run = simulate_plan(infra, plan, fleet, planning.settings)
        if fmt is OutputFormat.TABLE:
            console.print(run_table(run))
    if fmt is OutputFormat.JSON:
        print_json(plan_document(plan, run))
    if out is not None:
        notes(fmt).print(f"wrote {write_plan(plan, out, run)}")
    if html is not None:
        from wanstack.report.migration_html import plan_page

        notes(fmt).print(f"wrote {plan_page(plan, run, html)}")
    if run is not None and (problems := run.problems(plan.makespan_s)):  # not a plan to follow
        fail("the plan does not hold: " + "; ".join(problems), 1, markup=False)


@app.command()
@grouped(migrating=Migrating)
def follow(
    scenario: Scenario = DEFAULT_SCENARIO,
    vm: Annotated[str | None, typer.Option(help="The VM serving the user (default: the first).")] = None,
    trace: Annotated[
        Path | None,
        typer.Option(help="User trace YAML: {points: [{t_s, site} or {t_s, lat, lon}], end_s?}."),
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Without --trace: moves of a generated user.")] = 20,
    dwell: Annotated[float, typer.Option(min=1.0, help="Without --trace: mean stay per site, s.")] = 600.0,
    seed: Annotated[int, typer.Option(help="Without --trace: the generated user's seed.")] = 1,
    fleet: FleetOpt = None,
    vms_per_host: PerHost = 1.0,
    migrating: Migrating = Migrating(),
) -> None:
    """Follow-me migrations for a mobile user: their round trip with and without them, and the cost."""
    from wanstack.api.migrate import follow as replay_follow
    from wanstack.api.migrate import load_trace, random_trace
    from wanstack.report.migration import follow_table

    infra, f = _setup(scenario, fleet, vms_per_host)
    chosen = f.by_id().get(vm) if vm else (f.vms[0] if f.vms else None)
    if chosen is None:
        fail(f"no VM {vm!r} in the fleet", markup=False)
    try:
        user = load_trace(trace) if trace else random_trace(infra, steps, dwell, seed)
        outcomes = replay_follow(infra, f, chosen, user, settings=migrating.settings())
    except (OSError, ValueError) as err:
        fail(str(err), markup=False)
    show(migrating.fmt, follow_table(chosen, len(user.points), outcomes))
