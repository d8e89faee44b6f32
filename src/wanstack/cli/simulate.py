"""`wanstack run`, `compare`, `explain`, `compare-results`: the simulator's runs and what they show,
through `wanstack.api`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from wanstack.cli.common import fail, load_scenario, refuse_absurd, report
from wanstack.cli.options import (
    CalibrationOption,
    ForceOption,
    FormatOption,
    HtmlOption,
    OutOption,
    OutputFormat,
    ScenarioArg,
    WideOption,
    a_folder,
)
from wanstack.cli.output import (
    console,
    deliver,
    errors,
    notes,
    print_json,
    progress_bar,
    tables_json,
    write_page,
)
from wanstack.scenario.deployment import library
from wanstack.scenario.errors import ScenarioError, did_you_mean
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.scenario.quotas import QuotaMode
from wanstack.scenario.services import RpcBackend
from wanstack.scenario.workload import OperationKind
from wanstack.words import count

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
            fail(f"--set {option!r}: write FIELD=VALUE, e.g. links.delay_ms=10", markup=False)
        out[field.strip()] = scalar(value.strip())
    return out


def run(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out: OutOption = None,
    calibration: CalibrationOption = None,
    fluid: Annotated[
        bool | None,
        typer.Option(
            "--fluid/--exact",
            help="Background traffic as per-site batches + fluid station load, or "
            "every host on its own (default: fluid above 5,000 hosts).",
        ),
    ] = None,
    set_: SetOption = None,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
    html: HtmlOption = None,
    wide: WideOption = False,
) -> None:
    """Simulate a scenario and print what users feel and what the WAN carries. Exits 1 when a
    criterion of the scenario's `sla:` block fails."""
    from wanstack.api import CalibrationError, simulate
    from wanstack.report.tables import run_summary

    infra = load_scenario(scenario, overrides(set_))
    refuse_absurd(infra, force)
    bar, task = progress_bar(1.0, f"simulating {infra.scenario.name}")
    with bar:
        try:
            result = simulate(
                infra,
                calibration=calibration,
                fluid=fluid,
                progress=lambda fraction: bar.update(task, completed=fraction),
            ).result
        except CalibrationError as err:  # read before the first event: said under the bar
            fail(str(err), markup=False)
    view = run_summary(result, width=None if wide else console.width)
    deliver(result, fmt, view, out=out, html=html, title=f"wanstack run: {infra.scenario.name}", wide=wide)
    if not result.sla_passed:
        raise typer.Exit(1)


def _choices(text: str, keep: str, kinds: type[StrEnum], what: str) -> list[str | None]:
    """Comma-separated values of `kinds` (`keep`: None, each model's or the scenario's own); exit 2
    naming the first unknown one."""
    known = [k.value for k in kinds]
    chosen: list[str | None] = []
    for value in (x.strip() for x in text.split(",") if x.strip()):
        if value != keep and value not in known:
            fail(f"unknown {what} {value!r}; use {', '.join(known)} or {keep!r}")
        chosen.append(None if value == keep else value)
    return chosen


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
    out: Annotated[
        Path | None, typer.Option(help="Write one result folder per run here.", callback=a_folder)
    ] = None,
    processes: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")] = None,
    calibration: CalibrationOption = None,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
    html: HtmlOption = None,
    wide: WideOption = False,
) -> None:
    """Run one topology under several deployment models × RPC backends × quota modes and print them
    side by side, then the verdict: the runs ranked, with what still works under each fault."""
    from wanstack.api import CalibrationError
    from wanstack.api import compare as run_variants
    from wanstack.report.fit import wider
    from wanstack.report.tables import compare_table
    from wanstack.report.verdict import verdict_table

    lib = library()
    names = list(lib) if models == "all" else [m.strip() for m in models.split(",") if m.strip()]
    unknown = [n for n in names if n not in lib and not n.endswith((".yaml", ".yml"))]
    if unknown:
        for name in unknown:
            hint = did_you_mean(name, lib) or f"known: {', '.join(lib)}"
            errors.print(f"unknown model {name!r}; {hint}", markup=False)
        raise typer.Exit(2)
    chosen = _choices(backends, "model", RpcBackend, "backend")
    modes = _choices(quota_modes, "scenario", QuotaMode, "quota mode")
    total = len(names) * len(chosen) * len(modes)
    refuse_absurd(load_scenario(scenario), force, total)
    bar, task = progress_bar(total, count(total, "run"))
    try:
        with bar:
            runs = run_variants(
                scenario,
                names,
                backends=chosen,
                quota_modes=modes,
                processes=processes,
                calibration=calibration,
                on_done=lambda _: bar.advance(task),
            )
    except ScenarioError as err:
        report(err)
    except CalibrationError as err:
        fail(str(err), markup=False)
    results = [r.result for r in runs]
    decision = runs.verdict
    if fmt is OutputFormat.JSON:
        print_json(
            {
                "runs": [r.model_dump(mode="json", exclude={"samples"}) for r in results],
                "verdict": decision.model_dump(mode="json"),
            }
        )
    else:
        width = None if wide else console.width  # None: every column, on a console made wide enough
        views = [
            compare_table(results, f"{scenario}: {count(len(results), 'run')}", width=width),
            verdict_table(decision, width=width),  # last: what the user decides on
        ]
        for view in views:
            (wider(*views) if wide else console).print(view)
    if out is not None:
        from wanstack.report.files import write_result

        for r in results:
            write_result(r, out / "--".join(r.variant()))
        notes(fmt).print(f"wrote {count(len(results), 'result folder')} under {out}")
    if html is not None:
        from wanstack.report.html import compare_report, run_label

        labels = [run_label(r) for r in results]
        title = f"wanstack compare: {scenario}, {count(len(results), 'run')}"
        write_page(html, compare_report(results, labels, title, verdict=decision), fmt)


def explain(
    operation: Annotated[
        str, typer.Argument(help="boot, delete, pause, unpause, live-migrate, network-create, port-create")
    ],
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    site: Annotated[
        str | None, typer.Option(help="Target site (default: the first site with hosts).")
    ] = None,
    servers_on_host: Annotated[
        int,
        typer.Option(
            min=1,
            help="Servers whose allocations the resource tracker asks for: the operation's own and "
            "any on the host it does not track (a trace's count; 1 in a steady cloud).",
        ),
    ] = 1,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show an operation's workflow step by step: who talks to whom, and the WAN crossings it costs."""
    from wanstack.api import explain as crossings
    from wanstack.report.explain import explain_table, station_times_table

    if operation not in {k.value for k in OperationKind}:
        fail(f"unknown operation {operation!r}; use one of {', '.join(k.value for k in OperationKind)}")
    infra = load_scenario(scenario)
    if site is not None and site not in infra.sites:
        fail(f"unknown site {site!r}")
    workflow = crossings(infra, operation, site, servers_on_host=servers_on_host)
    if fmt is OutputFormat.JSON:
        print_json(workflow.model_dump(mode="json"))
        return
    console.print(explain_table(workflow))
    console.print(station_times_table(workflow))


def compare_results(
    first: Annotated[Path, typer.Argument(help="result.json of one run (e.g. the simulator's).")],
    second: Annotated[Path, typer.Argument(help="result.json of another (e.g. the bench's).")],
    fmt: FormatOption = OutputFormat.TABLE,
    html: HtmlOption = None,
) -> None:
    """Two results side by side: operations (p50, p95, msgs/s, WAN bytes), links, brokers, quotas,
    with the first's error relative to the second."""
    from pydantic import ValidationError

    from wanstack.report import side_by_side
    from wanstack.results.schema import RunResult

    runs = []
    for path in (first, second):
        try:
            runs.append(RunResult.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValidationError) as err:
            fail(f"{path}: not a wanstack result.json ({str(err).splitlines()[0]})")
    a, b = runs
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
