"""`wanstack migrate …`: advice, evacuation and rebalancing plans, follow-me migrations. Thin, as
`cli`: parse, call `wanstack.migration`, print `wanstack.report.migration`'s views."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from wanstack.cli_common import FormatOption, OutputFormat
from wanstack.migration.fleet import Fleet
from wanstack.migration.planner import Plan
from wanstack.migration.settings import MigrationSettings
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.words import count

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
Utilisation = Annotated[
    float, typer.Option(min=0.0, max=0.99, help="Share of every path's bandwidth other traffic already uses.")
]
PostCopy = Annotated[bool, typer.Option(help="Nova's live_migration_permit_post_copy.")]
AutoConverge = Annotated[bool, typer.Option(help="Nova's live_migration_permit_auto_converge.")]
Out = Annotated[Path | None, typer.Option(help="Write the plan (one record per VM) as JSON here.")]
Html = Annotated[
    Path | None, typer.Option(help="Write the plan's timeline, downtimes and loads as HTML here.")
]


class Solver(StrEnum):
    AUTO = "auto"
    CP_SAT = "cp-sat"
    GREEDY = "greedy"


TimeLimit = Annotated[float, typer.Option(min=0.1, help="Solver time limit, seconds.")]
SolverOpt = Annotated[Solver, typer.Option(help="CP-SAT from a greedy start (auto: up to 12k pairs).")]
Simulate = Annotated[bool, typer.Option(help="Also run the plan in the simulator.")]


def _setup(scenario: str, fleet_file: Path | None, per_host: float) -> tuple[Infrastructure, Fleet]:
    from wanstack.cli_common import errors, load_scenario
    from wanstack.migration.fleet import generate, load_fleet

    infra = load_scenario(scenario)
    if fleet_file is None:
        return infra, generate(infra, per_host)
    try:
        return infra, load_fleet(fleet_file, infra)
    except (OSError, ValueError) as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(2) from None


def _settings(post_copy: bool, auto_converge: bool) -> MigrationSettings:
    return MigrationSettings(permit_post_copy=post_copy, permit_auto_converge=auto_converge)


def _site(infra: Infrastructure, site: str) -> str:
    from wanstack.cli_common import errors

    if site not in infra.sites:
        known = ", ".join(list(infra.sites)[:8])
        errors.print(f"no site {site!r} in {infra.scenario.name} (sites: {known}, …)", markup=False)
        raise typer.Exit(2)
    return site


def _busy_site(infra: Infrastructure, fleet: Fleet) -> str:
    """A site of this scenario worth emptying: the first with VMs other than the top site (the default
    used to be edge-metro's `edge-part-dieu`, in no other scenario)."""
    from wanstack.cli_common import errors

    top = infra.placement.top_site
    found = next((s for s in infra.sites if s != top and fleet.at(s)), None)
    if found is None:
        errors.print(f"no site of {infra.scenario.name} but the top one has VMs: give --site", markup=False)
        raise typer.Exit(2)
    return found


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
    post_copy: PostCopy = False,
    auto_converge: AutoConverge = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Rank destination sites for a VM by a transparent score, or say "don't migrate"."""
    from rich.table import Table

    from wanstack.cli_common import errors, show
    from wanstack.migration.context import Conditions, advise_vm
    from wanstack.report.migration import advice_table

    infra, f = _setup(scenario, fleet, vms_per_host)
    conditions = Conditions(
        _pairs(load, "--load"), _pairs(performance, "--performance"), utilisation, users_at, max_users_rtt
    )
    settings = _settings(post_copy, auto_converge)
    if vm is not None:
        chosen = f.by_id().get(vm)
        if chosen is None:
            errors.print(f"no VM {vm!r} in the fleet (e.g. {f.vms[0].id if f.vms else 'none'})", markup=False)
            raise typer.Exit(2)
        show(fmt, advice_table(advise_vm(infra, f, chosen, conditions, settings=settings)))
        return
    if site is None:
        errors.print("say which VM (--vm ID) or which site (--site NAME) to advise on", markup=False)
        raise typer.Exit(2)
    vms = f.at(_site(infra, site))
    table = Table(title=f"{count(len(vms), 'VM')} at {site}", title_justify="left")
    for col in ("decision", "VMs", "best score (median)"):
        table.add_column(col, justify="left" if col == "decision" else "right")
    decisions: dict[str, list[float | None]] = {}
    for v in vms:
        a = advise_vm(infra, f, v, conditions, settings=settings)
        # No allowed destination (capacity, --max-users-rtt, ...): no best score, not NaN.
        best = next((c.score for c in a.candidates if c.allowed and math.isfinite(c.score)), None)
        decisions.setdefault(f"move to {a.move_to}" if a.move_to else "don't migrate", []).append(best)
    for decision, bests in sorted(decisions.items(), key=lambda kv: -len(kv[1])):
        table.add_row(decision, f"{len(bests):,}", _median_score(bests))
    show(fmt, table)


def _need_extras(command: str, solver: Solver, html: Path | None) -> None:
    """A plan's extras, before any work: CP-SAT (unless greedy) and, with --html, plotly."""
    from wanstack.cli_common import need_extra

    if solver is not Solver.GREEDY:
        need_extra("plan", command, hint="or --solver greedy")
    if html is not None:
        need_extra("html", command)


def _median_score(bests: list[float | None]) -> str:
    scores = sorted(x for x in bests if x is not None)
    if not scores:
        return "n/a (no allowed destination)"
    return f"{scores[len(scores) // 2]:+,.0f}"


def _spinner(text: str) -> Progress:
    from wanstack.cli_common import errors

    p = Progress(SpinnerColumn(), TextColumn(text), TimeElapsedColumn(), console=errors, transient=True)
    p.add_task(text, total=None)
    return p


@app.command()
def evacuate(
    scenario: Scenario = "edge-metro",
    site: Annotated[
        str | None, typer.Option(help="The site to empty (default: the first site with VMs below the top).")
    ] = None,
    to: Annotated[list[str] | None, typer.Option(help="Destination sites (default: the nearest).")] = None,
    nearest: Annotated[int, typer.Option(min=1, help="How many nearest sites take the VMs.")] = 3,
    fleet: FleetOpt = None,
    vms_per_host: PerHost = 20.0,
    time_limit: TimeLimit = 20.0,
    solver: SolverOpt = Solver.AUTO,
    utilisation: Utilisation = 0.0,
    post_copy: PostCopy = False,
    auto_converge: AutoConverge = False,
    simulate: Simulate = True,
    out: Out = None,
    html: Html = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Plan moving every VM off a site (maintenance), minimising the time to empty it."""
    from wanstack.cli_common import console
    from wanstack.migration.planner import evacuate as plan_evacuation
    from wanstack.report.migration import plan_table, routes_table

    _need_extras("wanstack migrate evacuate", solver, html)
    infra, f = _setup(scenario, fleet, vms_per_host)
    site = _site(infra, site) if site is not None else _busy_site(infra, f)
    settings = _settings(post_copy, auto_converge)
    with _spinner(f"planning the evacuation of {count(len(f.at(site)), 'VM')}"):
        plan = plan_evacuation(
            infra,
            f,
            site,
            destinations=to,
            nearest=nearest,
            settings=settings,
            time_limit_s=time_limit,
            utilisation=utilisation,
            solver=solver.value,
        )
    if fmt is OutputFormat.TABLE:
        console.print(plan_table(plan))
        console.print(routes_table(plan))
    _simulate_and_write(infra, f, plan, settings, simulate, out, html, fmt)


@app.command()
def rebalance(
    scenario: Scenario = "edge-metro",
    budget_gb: Annotated[
        float, typer.Option(min=0.0, help="Bytes over the WAN the moves may use, GB.")
    ] = 500.0,
    fleet: FleetOpt = None,
    vms_per_host: PerHost = 20.0,
    time_limit: TimeLimit = 20.0,
    solver: SolverOpt = Solver.AUTO,
    utilisation: Utilisation = 0.0,
    post_copy: PostCopy = False,
    auto_converge: AutoConverge = False,
    simulate: Simulate = True,
    out: Out = None,
    html: Html = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Plan moves that even out the load between sites within a budget of WAN bytes."""
    from wanstack.cli_common import console
    from wanstack.migration.planner import rebalance as plan_rebalance
    from wanstack.report.migration import loads_table, plan_table, routes_table

    _need_extras("wanstack migrate rebalance", solver, html)
    infra, f = _setup(scenario, fleet, vms_per_host)
    settings = _settings(post_copy, auto_converge)
    with _spinner("planning the rebalance"):
        plan = plan_rebalance(
            infra,
            f,
            budget_gb * 1e9,
            settings=settings,
            time_limit_s=time_limit,
            utilisation=utilisation,
            solver=solver.value,
        )
    if fmt is OutputFormat.TABLE:
        console.print(loads_table(plan))
        console.print(plan_table(plan))
        console.print(routes_table(plan))
    _simulate_and_write(infra, f, plan, settings, simulate, out, html, fmt)


def _simulate_and_write(
    infra: Infrastructure,
    fleet: Fleet,
    plan: Plan,
    settings: MigrationSettings,
    simulate: bool,
    out: Path | None,
    html: Path | None,
    fmt: OutputFormat = OutputFormat.TABLE,
) -> None:
    """The plan simulated (if asked), then written where asked; as JSON alone on stdout with --format
    json (the document --out writes)."""
    from wanstack.cli_common import console, notes, print_json
    from wanstack.report.migration import plan_document, run_table, write_plan
    from wanstack.sim.migrations import simulate_plan

    run = None
    if simulate and plan.moves:
        with _spinner("simulating the plan alongside the scenario's workload, and without it"):
            run = simulate_plan(infra, plan, fleet.by_id(), settings=settings, baseline=True)
        if fmt is OutputFormat.TABLE:
            console.print(run_table(run))
    if fmt is OutputFormat.JSON:
        print_json(plan_document(plan, run))
    if out is not None:
        notes(fmt).print(f"wrote {write_plan(plan, out, run)}")
    if html is not None:
        from wanstack.report.migration_html import plan_page

        notes(fmt).print(f"wrote {plan_page(plan, run, html)}")


@app.command()
def follow(
    scenario: Scenario = "edge-metro",
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
    post_copy: PostCopy = False,
    auto_converge: AutoConverge = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Follow-me migrations for a mobile user: their round trip with and without them, and the cost."""
    from rich.table import Table

    from wanstack.cli_common import errors, show
    from wanstack.migration.mobility import follow as replay_follow
    from wanstack.migration.mobility import load_trace, random_trace

    infra, f = _setup(scenario, fleet, vms_per_host)
    chosen = f.by_id().get(vm) if vm else (f.vms[0] if f.vms else None)
    if chosen is None:
        errors.print(f"no VM {vm!r} in the fleet", markup=False)
        raise typer.Exit(2)
    try:
        user = load_trace(trace) if trace else random_trace(infra, steps, dwell, seed)
        outcomes = replay_follow(infra, f, chosen, user, settings=_settings(post_copy, auto_converge))
    except (OSError, ValueError) as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(2) from None
    table = Table(
        title=f"{chosen.id} ({chosen.flavor}) following a user over {count(len(user.points), 'move')}"
    )
    for col in ("policy", "mean RTT", "p95 RTT", "migrations", "WAN bytes", "downtime in all"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for o in outcomes:
        table.add_row(
            o.policy,
            f"{o.mean_rtt_ms:.1f} ms",
            f"{o.p95_rtt_ms:.1f} ms",
            str(o.migrations),
            f"{o.wan_bytes / 1e9:,.1f} GB",
            f"{o.downtime_ms / 1000:,.2f} s",
        )
    show(fmt, table)
