"""The `wanstack` command. Thin: parse arguments, call the packages, print their views."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich.table import Table

from wanstack.cli_common import (
    FormatOption,
    HtmlOption,
    OutputFormat,
    bench_host_of,
    console,
    deliver,
    errors,
    load_calibration_file,
    load_scenario,
    need_extra,
    need_rabbitmq,
    notes,
    print_json,
    progress_bar,
    report,
    tables_json,
    write_page,
)
from wanstack.cli_common import show as show_tables
from wanstack.scenario.deployment import library
from wanstack.scenario.errors import ScenarioError, did_you_mean
from wanstack.scenario.load import DEFAULT_SCENARIO, Source
from wanstack.scenario.workload import OperationKind
from wanstack.words import count

if TYPE_CHECKING:
    from wanstack.scenario.build import Infrastructure
    from wanstack.scenario.openstack import OpenStack
    from wanstack.sim.engine import SimOptions

app = typer.Typer(
    help="Plan, simulate and bench an OpenStack cloud spread over many sites joined by a WAN.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="FIELD=VALUE",
        help="Change a scenario field for this run, e.g. --set links.delay_ms=10 --set model=cells-shared.",
    ),
]


def overrides(options: list[str] | None) -> dict[str, object]:
    """`--set FIELD=VALUE` options as scenario overrides (`scenario.overrides`); exit 2 if malformed."""
    from wanstack.scenario.overrides import scalar

    out: dict[str, object] = {}
    for option in options or []:
        field, sep, value = option.partition("=")
        if not sep or not field.strip():
            errors.print(f"--set {option!r}: write FIELD=VALUE, e.g. links.delay_ms=10", markup=False)
            raise typer.Exit(2)
        out[field.strip()] = scalar(value.strip())
    return out


def _print_version(value: bool) -> None:
    if value:
        from wanstack import __version__

        typer.echo(f"wanstack {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print wanstack's version and exit."
        ),
    ] = False,
) -> None:
    """Plan, simulate and bench an OpenStack cloud spread over many sites joined by a WAN."""


ScenarioArg = Annotated[
    str,
    typer.Argument(help=f"Scenario YAML file, or the name of a built-in scenario ({DEFAULT_SCENARIO!r})."),
]


def _options(calibration: Path | None, bench_host: bool = False) -> SimOptions:
    """Simulator options: the defaults, or a calibration's measured messaging costs; `bench_host`:
    also the bench host's plug-in, to predict the bench itself (never for a WAN study)."""
    from wanstack.sim.engine import SimOptions

    if calibration is None:
        return SimOptions()
    cal = load_calibration_file(calibration)
    return SimOptions(params=cal.params(), host=bench_host_of(calibration) if bench_host else None)


@app.command()
def validate(scenario: ScenarioArg, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Check a scenario file; print every problem with its file, line and column (exit code 2)."""
    if fmt is OutputFormat.JSON:
        _validate_json(scenario)
        return
    infra = load_scenario(scenario)
    console.print(
        f"[green]ok[/green] {scenario}: {count(len(infra.sites), 'site')}, "
        f"{count(len(infra.links), 'link')}, {count(len(infra.placement.regions), 'region')}, "
        f"model {infra.model.name}"
    )


def _validate_json(scenario: str) -> None:
    from wanstack.scenario.load import load

    try:
        infra = load(scenario)
    except ScenarioError as err:
        problems = [
            {"file": err.filename, "line": p.line, "column": p.column, "field": p.field()}
            | {"message": p.message, "hint": p.hint}
            for p in err.problems
        ]
        print_json({"scenario": scenario, "ok": False, "problems": problems})
        raise typer.Exit(2) from None
    print_json(
        {"scenario": scenario, "ok": True, "sites": len(infra.sites), "links": len(infra.links)}
        | {"regions": len(infra.placement.regions), "model": infra.model.name}
    )


@app.command()
def show(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    all_rows: Annotated[bool, typer.Option("--all", help="Show every region and site group.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Summarise a scenario: sites per tier, links, regions and a map of which service runs where."""
    from wanstack.report.show import summary

    view = summary(load_scenario(scenario), limit=None if all_rows else 30)
    if fmt is OutputFormat.JSON:
        print_json(tables_json(view))
        return
    console.print(view)


@app.command()
def models(
    as_yaml: Annotated[str | None, typer.Option("--yaml", help="Print one model's full definition.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the built-in deployment models, one line each."""
    lib = library()
    if as_yaml is not None:
        if as_yaml not in lib:
            hint = did_you_mean(as_yaml, lib) or f"known: {', '.join(lib)}"
            errors.print(f"unknown model {as_yaml!r}; {hint}", markup=False)
            raise typer.Exit(2)
        if fmt is OutputFormat.JSON:
            print_json(lib[as_yaml].model_dump(mode="json"))
            return
        # Plain stdout, not rich: rich rewraps long lines to the terminal, which breaks YAML.
        typer.echo(_readable_yaml(lib[as_yaml].model_dump(mode="json")), nl=False)
        return
    if fmt is OutputFormat.JSON:
        print_json([model.model_dump(mode="json") for model in lib.values()])
        return
    table = Table(title="Deployment models (apply any to any topology with `model: NAME`)")
    table.add_column("name", style="bold")
    table.add_column("RPC / notifications")
    table.add_column("summary")
    for model in lib.values():
        table.add_row(
            model.name, f"{model.messaging.rpc.value} / {model.messaging.notifications.value}", model.summary
        )
    console.print(table)


class _BlockDumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks (as the library's files write descriptions), never folded."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _text)


def _readable_yaml(data: object) -> str:
    """YAML a user can read and load back unchanged: blocks, long lines kept, § and — as written."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=1 << 30)


@app.command()
def run(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: Annotated[Path | None, typer.Option(help="Write result.json and CSV tables to this folder.")] = None,
    calibration: Annotated[
        Path | None,
        typer.Option(help="A file from `wanstack calibrate`: measured costs replace the defaults."),
    ] = None,
    fluid: Annotated[
        bool | None,
        typer.Option(
            "--fluid/--exact",
            help="Background traffic as per-site batches + fluid station load, or "
            "every host on its own (default: fluid above 5,000 hosts).",
        ),
    ] = None,
    set_: SetOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
    html: HtmlOption = None,
) -> None:
    """Simulate a scenario and print what users feel and what the WAN carries. Exits 1 when a
    criterion of the scenario's `sla:` block fails."""
    from dataclasses import replace

    from wanstack.report.tables import run_summary
    from wanstack.sim.engine import simulate

    infra = load_scenario(scenario, overrides(set_))
    bar, task = progress_bar(1.0, f"simulating {infra.scenario.name}")
    with bar:
        result = simulate(
            infra,
            replace(_options(calibration), fluid_background=fluid),
            progress=lambda fraction: bar.update(task, completed=fraction),
        )
    deliver(
        result, fmt, run_summary(result), out=out, html=html, title=f"wanstack run: {infra.scenario.name}"
    )
    if not result.sla_passed:
        raise typer.Exit(1)


@app.command()
def inventory(
    scenario: Annotated[
        str | None,
        typer.Argument(help=f"Scenario YAML file, or a built-in scenario's name ({DEFAULT_SCENARIO!r})."),
    ] = None,
    at: Annotated[
        float | None, typer.Option(help="The simulated second to look at (default: the run's end).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the rows as JSON here.")] = None,
    cloud: Annotated[
        str | None,
        typer.Option(
            help="A real cloud instead (its clouds.yaml name): every region's servers, asked at once."
        ),
    ] = None,
    regions: Annotated[
        str | None,
        typer.Option(
            help="With --cloud: comma-separated regions (default: every one with a compute endpoint)."
        ),
    ] = None,
    deadline: Annotated[
        float, typer.Option(min=0.1, help="With --cloud: seconds each region is given to answer.")
    ] = 10.0,
    previous: Annotated[
        Path | None,
        typer.Option(
            help="With --cloud: an earlier --json; a region not answering now shows its count then."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """How many servers there are across every region, as a view at the top site sees them in a
    simulated run (faults included), or, with --cloud, as a real cloud's regions answer within the
    deadline: each site live, last known (as of when) or never answered, and the total as an
    interval when some did not answer."""
    from dataclasses import replace

    from wanstack.report.tables import inventory_table, inventory_total
    from wanstack.sim.engine import simulate

    if cloud is not None:
        if scenario is not None or at is not None:
            errors.print("--cloud counts a real cloud: give it no scenario and no --at")
            raise typer.Exit(2)
        _cloud_inventory(cloud, regions, deadline, previous, json_out, fmt)
        return
    infra = load_scenario(scenario or DEFAULT_SCENARIO)
    if at is not None:
        if at <= 0:
            errors.print("--at must be a positive number of seconds")
            raise typer.Exit(2)
        run = infra.scenario.run.model_copy(update={"duration_s": at})
        infra = replace(infra, scenario=infra.scenario.model_copy(update={"run": run}))
    result = simulate(infra)
    rows = [r.model_dump(mode="json") for r in result.inventory]
    if fmt is OutputFormat.JSON:
        print_json(rows)
    else:
        console.print(inventory_table(result.inventory, result.duration_s))
        console.print(inventory_total(result.inventory))
    if json_out is not None:
        json_out.write_text(json.dumps(rows, indent=2), encoding="utf-8")


def _cloud_inventory(
    cloud: str,
    regions: str | None,
    deadline_s: float,
    previous: Path | None,
    json_out: Path | None,
    fmt: OutputFormat = OutputFormat.TABLE,
) -> None:
    need_extra("cloud", "wanstack inventory --cloud")
    import openstack

    from wanstack.multiregion.cloud_inventory import answers_from_json, inventory, to_json
    from wanstack.report.cloud_inventory import cloud_inventory_table, cloud_inventory_total

    chosen = None if regions is None else [r.strip() for r in regions.split(",") if r.strip()]
    earlier = None
    if previous is not None:
        try:
            earlier = answers_from_json(json.loads(previous.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as err:
            errors.print(f"--previous {previous}: not an inventory written by --cloud --json ({err})")
            raise typer.Exit(2) from None
    try:
        result = inventory(cloud, regions=chosen, deadline_s=deadline_s, previous=earlier)
    except openstack.exceptions.SDKException as err:
        errors.print(f"{cloud}: {err}", markup=False)
        raise typer.Exit(1) from None
    if not result.inventory.rows:
        errors.print(f"{cloud}: no region of the catalog has a compute endpoint (give --regions)")
        raise typer.Exit(1)
    document = to_json(result)
    if fmt is OutputFormat.JSON:
        print_json(document)
    else:
        console.print(cloud_inventory_table(result))
        console.print(cloud_inventory_total(result), markup=False)
    if json_out is not None:
        json_out.write_text(json.dumps(document, indent=2), encoding="utf-8")


@app.command()
def compare(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    models: Annotated[str, typer.Option(help="Comma-separated model names, or 'all'.")] = "all",
    backends: Annotated[
        str,
        typer.Option(
            help="Comma-separated RPC backends (broker, broker-cluster, router-mesh, brokerless), "
            "or 'model' for each model's own."
        ),
    ] = "model",
    quota_modes: Annotated[
        str,
        typer.Option(
            help="Comma-separated quota modes for every `quotas:` project (central, unified-limits, "
            "kingbird, escrow, lease, escrow-epsilon), or 'scenario' for the scenario's own."
        ),
    ] = "scenario",
    out: Annotated[Path | None, typer.Option(help="Write one result folder per run here.")] = None,
    processes: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
    html: HtmlOption = None,
) -> None:
    """Run one topology under several deployment models × RPC backends × quota modes and print them
    side by side."""
    from wanstack.report.tables import compare_table
    from wanstack.scenario.quotas import QuotaMode
    from wanstack.scenario.services import RpcBackend
    from wanstack.sim.variants import run_variants

    lib = library()
    names = list(lib) if models == "all" else [m.strip() for m in models.split(",") if m.strip()]
    unknown = [n for n in names if n not in lib and not n.endswith((".yaml", ".yml"))]
    if unknown:
        for name in unknown:
            hint = did_you_mean(name, lib) or f"known: {', '.join(lib)}"
            errors.print(f"unknown model {name!r}; {hint}", markup=False)
        raise typer.Exit(2)
    chosen: list[RpcBackend | None] = []
    for b in (x.strip() for x in backends.split(",") if x.strip()):
        if b == "model":
            chosen.append(None)
        elif b in {r.value for r in RpcBackend}:
            chosen.append(RpcBackend(b))
        else:
            errors.print(f"unknown backend {b!r}; use {', '.join(r.value for r in RpcBackend)} or 'model'")
            raise typer.Exit(2)
    modes: list[QuotaMode | None] = []
    for q in (x.strip() for x in quota_modes.split(",") if x.strip()):
        if q == "scenario":
            modes.append(None)
        elif q in {m.value for m in QuotaMode}:
            modes.append(QuotaMode(q))
        else:
            errors.print(
                f"unknown quota mode {q!r}; use {', '.join(m.value for m in QuotaMode)} or 'scenario'"
            )
            raise typer.Exit(2)
    variants = [(m, b, q) for m in names for b in chosen for q in modes]
    bar, task = progress_bar(len(variants), count(len(variants), "run"))
    try:
        with bar:
            results = run_variants(
                Source.of(scenario), variants, processes=processes, on_done=lambda _: bar.advance(task)
            )
    except ScenarioError as err:
        report(err)
    if fmt is OutputFormat.JSON:
        print_json([r.model_dump(mode="json", exclude={"samples"}) for r in results])
    else:
        console.print(compare_table(results, f"{scenario}: {count(len(results), 'run')}"))
    if out is not None:
        from wanstack.report.files import write_result

        for r in results:
            write_result(r, out / "--".join(r.variant()))
        notes(fmt).print(f"wrote {count(len(results), 'result folder')} under {out}")
    if html is not None:
        from wanstack.report.html import compare_report, run_label

        labels = [run_label(r) for r in results]
        title = f"wanstack compare: {scenario}, {count(len(results), 'run')}"
        write_page(html, compare_report(results, labels, title), fmt)


@app.command()
def explain(
    operation: Annotated[
        str, typer.Argument(help="boot, delete, pause, unpause, live-migrate, network-create, port-create")
    ],
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    site: Annotated[
        str | None, typer.Option(help="Target site (default: the first site with hosts).")
    ] = None,
    servers_on_host: Annotated[
        int, typer.Option(min=1, help="Servers on the host, the operation's own included.")
    ] = 1,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show an operation's workflow step by step: who talks to whom, and the WAN crossings it costs."""
    try:
        kind = OperationKind(operation)
    except ValueError:
        errors.print(
            f"unknown operation {operation!r}; use one of {', '.join(k.value for k in OperationKind)}"
        )
        raise typer.Exit(2) from None
    infra = load_scenario(scenario)
    target = site or next(
        (n for n, s in infra.sites.items() if s.host_count and n != infra.placement.top_site),
        infra.placement.top_site,
    )
    if target not in infra.sites:
        errors.print(f"unknown site {target!r}")
        raise typer.Exit(2)
    explain_workflow(infra, kind, target, servers_on_host=servers_on_host, fmt=fmt)


def explain_workflow(
    infra: Infrastructure,
    kind: OperationKind,
    target: str,
    *,
    settings: OpenStack | None = None,
    servers_on_host: int = 1,
    fmt: OutputFormat = OutputFormat.TABLE,
) -> None:
    """`explain`'s table: `kind`'s workflow at `target` under the scenario's `openstack:` settings (or
    `settings`), each step with the sites it runs between and its crossings."""
    from rich.table import Table as RichTable

    from wanstack.sim.crossings import critical_crossings, layout, step_rows
    from wanstack.sim.openstack import workflows
    from wanstack.sim.quotas import claim_round_trips

    steps = workflows(settings or infra.scenario.openstack)[kind]
    roles, buses = layout(infra, target)
    projects = infra.scenario.quotas.projects
    trips = claim_round_trips(projects[0]) if projects else 0  # the workload's default project
    total = critical_crossings(steps, target, roles, buses, servers_on_host, quota_round_trips=trips)
    rpc = infra.placement.region_by_name[infra.placement.region_of[target]].rpc
    rows = step_rows(steps, target, roles, buses, servers_on_host, quota_round_trips=trips)
    if fmt is OutputFormat.JSON:
        print_json(
            {"operation": kind.value, "site": target, "model": infra.model.name, "rpc": rpc.value}
            | {"servers_on_host": servers_on_host, "critical_crossings": total}
            | {"steps": [{"step": label, "sites": sites, "crossings": n} for label, sites, n in rows]}
        )
        return
    on_host = f", {servers_on_host} servers on the host" if servers_on_host > 1 else ""
    table = RichTable(
        title=f"{kind.value} at {target} under {infra.model.name} ({rpc.value} RPC{on_host}): "
        f"{total} one-way WAN crossings on the critical path = {total / 2:g} exchanges"
    )
    table.add_column("step")
    table.add_column("sites")
    table.add_column("crossings", justify="right")
    for label, sites, crossings in rows:
        table.add_row(label, sites, str(crossings) if sites else "")
    console.print(table)


@app.command()
def bench(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    messages: Annotated[int, typer.Option(help="Messages per client and test case.")] = 20,
    out: Annotated[Path | None, typer.Option(help="Write result.json and CSV tables to this folder.")] = None,
    simulate: Annotated[
        bool, typer.Option("--simulate", help="Run the same test cases in the simulator instead (fast).")
    ] = False,
    calibration: Annotated[
        Path | None, typer.Option(help="With --simulate: a `wanstack calibrate` file.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
    html: HtmlOption = None,
) -> None:
    """Run the scenario's messaging test cases for real (ombt's TC1–TC3: RPC calls, casts, a fanout;
    and notifications consumed at the top site) on the model's buses: RabbitMQ nodes (one, one per
    cell or region, or a cluster) or, for a router mesh, NATS servers (one per rpc-bus site,
    notifications staying on RabbitMQ); every site reaches the nodes it uses through WAN relays.
    `--simulate` runs the same cases in the simulator."""
    from wanstack.bench.scenario_bench import bench_scenario, scenario_cases
    from wanstack.report.tables import operations_table, sla_table
    from wanstack.results.sla import with_sla

    if calibration is not None and not simulate:
        # A calibration sets the simulator's costs; the real bench measures them: say so, not ignore it.
        errors.print("--calibration only applies to the simulator: add --simulate (or drop --calibration)")
        raise typer.Exit(2)
    infra = load_scenario(scenario)
    cases = scenario_cases(infra, messages)
    if simulate:
        from wanstack.sim.cases import simulate_cases

        result = simulate_cases(infra, cases, _options(calibration, bench_host=True))
    else:
        need_rabbitmq("wanstack bench")
        try:
            result = bench_scenario(infra, cases, progress=lambda name: errors.print(f"… {name}"))
        except ValueError as err:
            errors.print(str(err))
            raise typer.Exit(2) from None
    result = with_sla(result, infra.scenario.sla)
    views = [operations_table(result), *([sla_table(result)] if result.sla else [])]
    title = f"wanstack bench: {infra.scenario.name} ({result.engine})"
    deliver(result, fmt, *views, out=out, html=html, title=title)
    if not result.sla_passed:
        raise typer.Exit(1)


@app.command()
def replay(
    op: Annotated[str, typer.Argument(help="The operation to replay: boot, delete, pause, unpause, ...")],
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    site: Annotated[str | None, typer.Option(help="Target site (default: the first edge site).")] = None,
    times: Annotated[int, typer.Option(min=1, help="Operations after one warm-up.")] = 5,
    calibration: Annotated[Path | None, typer.Option(help="A `wanstack calibrate` file.")] = None,
    local_ms: Annotated[
        float | None, typer.Option(help="Shorten the host's own work (spawn, shutdown) to this many ms.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Replay an operation's workflow as real traffic (oslo.messaging over RabbitMQ, HTTP and DB
    exchanges, the image download) across the emulated WAN, and the simulator's prediction beside it."""
    from wanstack.bench.replay import Replay, replay_params, simulated
    from wanstack.bench.scenario_bench import edge_sites
    from wanstack.report.side_by_side import relative
    from wanstack.results.stats import latency_stats
    from wanstack.scenario.workload import OperationKind

    try:
        kind = OperationKind(op)
    except ValueError:
        errors.print(f"unknown operation {op!r}; one of: {', '.join(k.value for k in OperationKind)}")
        raise typer.Exit(2) from None
    need_rabbitmq("wanstack replay")
    infra = load_scenario(scenario)
    target = site or next(iter(edge_sites(infra)), infra.placement.top_site)
    if target not in infra.sites:
        errors.print(f"no site {target!r} in {infra.scenario.name}")
        raise typer.Exit(2)
    options = _options(calibration)
    params = replay_params(options.params, local_ms)
    host = None
    if calibration is not None:
        # The replay runs through the bench's relays (their late timers count), its roles threads of
        # one process (their CPU is not modelled).
        host = bench_host_of(calibration, shared_cpu=False)
    try:
        with Replay(infra, kind, target, params) as session:
            real = session.run(times, progress=lambda i: errors.print(f"… {op} {i}/{times}"))
    except ValueError as err:
        errors.print(str(err))
        raise typer.Exit(2) from None
    predicted = simulated(infra, kind, target, times, params=params, host=host)
    table = Table(title=f"{op} at {target}: replayed for real vs simulated ({infra.model.name})")
    for col in ("", "bench", "sim", "error"):
        table.add_column(col, justify="right" if col else "left")
    a, b = latency_stats(predicted), latency_stats(real.latencies_ms)
    for name in ("p50", "p95", "mean"):
        x, y = getattr(a, name), getattr(b, name)
        table.add_row(name, _ms(y), _ms(x), relative(x, y))
    table.add_row("ok", str(len(real.latencies_ms)), str(len(predicted)), "")
    if real.failures:
        table.add_row("failures", str(real.failures), "", "")
    show_tables(fmt, table)
    if not real.latencies_ms:  # no latency to show, rather than 0.0 ms
        errors.print(f"none of the {times} replays succeeded ({real.failures} failed)")
        raise typer.Exit(1)


def _ms(value: float | None) -> str:
    """A latency, or n/a when there is none (every operation failed)."""
    return "n/a" if value is None else f"{value:.1f} ms"


@app.command("compare-results")
def compare_results(
    first: Annotated[Path, typer.Argument(help="result.json of one run (e.g. the simulator's).")],
    second: Annotated[Path, typer.Argument(help="result.json of another (e.g. the bench's).")],
    fmt: FormatOption = OutputFormat.TABLE,
    html: HtmlOption = None,
) -> None:
    """Two results side by side: operations (p50, p95, msgs/s, WAN bytes), links, brokers, quotas,
    with the first's error relative to the second."""
    from pydantic import ValidationError

    from wanstack.results.schema import RunResult

    runs = []
    for path in (first, second):
        try:
            runs.append(RunResult.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValidationError) as err:
            errors.print(f"{path}: not a wanstack result.json ({str(err).splitlines()[0]})")
            raise typer.Exit(2) from None
    a, b = runs
    from wanstack.report import side_by_side

    names = side_by_side.labels(a, b, first, second)
    makers = (side_by_side.operations, side_by_side.links, side_by_side.brokers, side_by_side.quotas)
    tables = [t for t in (make(a, b, names) for make in makers) if t.row_count]
    if fmt is OutputFormat.JSON:
        print_json(
            {
                "first": {"path": str(first), "engine": a.engine, "label": names[0]},
                "second": {"path": str(second), "engine": b.engine, "label": names[1]},
            }
            | {"tables": tables_json(*tables)}
        )
    else:
        console.print(
            f"{names[0]}: {first}   {names[1]}: {second}   (error: {names[0]} relative to {names[1]})",
            markup=False,
        )
        for table in tables:
            console.print(table)
    if html is not None:  # with --format json too (it returned before the page was written)
        from wanstack.report.html import compare_files

        title = f"wanstack compare-results: {a.engine} vs {b.engine}"
        write_page(html, compare_files([first, second], runs, title), fmt)


@app.command()
def calibrate(
    out: Annotated[Path, typer.Option(help="Where to write the calibration file.")] = Path(
        "calibration.yaml"
    ),
    pause_ms: Annotated[
        float,
        typer.Option(
            help="Pause between the paused runs' messages (the test plan's by default): a process's cost "
            "per message is fitted for this idle time and shorter ones (back to back, 20 ms)."
        ),
    ] = 200.0,
    max_stolen: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Measure a run again (at most 3 times, keeping the least disturbed) when the hypervisor "
            "took more than this share of the CPU while it ran: on a shared host the figures move with "
            "the neighbours. 1 = never.",
        ),
    ] = 0.01,  # `lab.steady.Steadiness`'s default (why: there)
    refit: Annotated[
        bool,
        typer.Option(
            help="Measure nothing: derive the simulator's parameters again from the measurements already "
            "in --out, with this version's model (seconds; no RabbitMQ needed)."
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Measure this machine's RabbitMQ, oslo.messaging and relay costs for the simulator (about 6 min)."""
    from wanstack.bench.calibrate import calibrate as run_calibration
    from wanstack.bench.calibrate import refit as run_refit
    from wanstack.lab.steady import Steadiness
    from wanstack.report.calibration import calibration_tables
    from wanstack.sim.calibration import CalibrationError

    if refit:
        if not out.is_file():
            errors.print(f"[red]error:[/red] {out}: no calibration file to refit (run `wanstack calibrate`)")
            raise typer.Exit(2)
        try:
            result = run_refit(out)
        except CalibrationError as err:
            errors.print(str(err), markup=False)
            raise typer.Exit(2) from None
    else:
        need_rabbitmq("wanstack calibrate")
        result = run_calibration(
            out,
            progress=lambda text: errors.print(f"… {text}"),
            pause_ms=pause_ms,
            steadiness=Steadiness(max_stolen=max_stolen),
        )
    show_tables(fmt, *calibration_tables(result, f"Calibration written to {out}"))


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The reference page instead (docs/scenario-reference.md).")
    ] = False,
    results: Annotated[
        bool, typer.Option("--results", help="The schema of result.json instead of scenario files.")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files (for editor completion); with --markdown the scenario
    reference (every object, field, type, default, constraint and description); with --results the
    schema of the result.json files every engine writes."""
    from wanstack.results.json_schema import results_json_schema
    from wanstack.scenario import reference

    if results:
        text = json.dumps(results_json_schema(), indent=2)
    elif markdown:
        text = reference.markdown().rstrip("\n")
    else:
        text = json.dumps(reference.json_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


def _register_subcommands() -> None:
    from wanstack.cli_migrate import app as migrate
    from wanstack.cli_quota import app as quota
    from wanstack.cli_sweep import sweep
    from wanstack.cli_testbed import app as testbed

    app.add_typer(migrate, name="migrate")
    app.add_typer(quota, name="quota")
    app.add_typer(testbed, name="testbed")
    app.command("sweep")(sweep)
    _one_line_listings(app)


def _one_line_listings(group: typer.Typer) -> None:
    """Give every command the first paragraph of its docstring on one line as its `short_help`: in a
    group's list of commands, typer's rich help keeps the docstring's line breaks (it rewraps only a
    command's own --help), which cut the sentences where the source lines end."""
    for command in group.registered_commands:
        doc = command.help or inspect.getdoc(command.callback) or ""
        if command.short_help is None and doc:
            command.short_help = " ".join(doc.split("\n\n")[0].split())
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _one_line_listings(sub.typer_instance)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    app()
