"""`wanstack testbed …`: a real OpenStack control plane over the scenario's emulated sites: parse, call
`wanstack.api.testbed`, print `wanstack.report.testbed`'s views."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wanstack.cli.common import fail, load_scenario, need_extra, report
from wanstack.cli.options import FormatOption, OutOption, OutputFormat
from wanstack.cli.output import console, deliver, errors, print_json, show, tables_json
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import DEFAULT_SCENARIO

app = typer.Typer(
    help="A real OpenStack (Keystone, Placement, Glance, Neutron, Nova) spread over the scenario's sites.",
    no_args_is_help=True,
)
Folder = Annotated[Path | None, typer.Option(help="The testbed's folder (default: /tmp/wanstack-testbed).")]


def _say(line: str) -> None:
    """A line of the testbed's log on stderr, as written (brackets are not markup)."""
    errors.print(line, markup=False)


def _progress(line: str) -> None:
    """A step of a run or trace on stderr."""
    errors.print(f"… {line}")


@app.command()
def up(
    scenario: Annotated[
        str, typer.Argument(help="Scenario file or built-in scenario name.")
    ] = DEFAULT_SCENARIO,
    edges: Annotated[
        int | None, typer.Option(min=1, help="Only the first N sites with hosts run a nova-compute.")
    ] = 2,
    folder: Folder = None,
) -> None:
    """Start the control plane the scenario's deployment model describes (centralized or cells-shared),
    in the background; returns once every service is ready. Ctrl-C stops it."""
    need_extra("testbed", "wanstack testbed up")
    from wanstack.api.testbed import TestbedError, missing
    from wanstack.api.testbed import up as start
    from wanstack.report.testbed import up_tables

    if (why := missing()) is not None:
        fail(why)
    try:
        found = start(scenario, edges, folder, say=_say)
    except ScenarioError as err:
        report(err)
    except ValueError as err:  # what one machine cannot run: said before anything started
        fail(str(err), markup=False)
    except TestbedError as err:  # it did not start, or was taken down meanwhile
        fail(str(err), 1, markup=False)
    except KeyboardInterrupt:
        fail("interrupted: the testbed was stopped", 130)
    for table in up_tables(found):
        console.print(table)


@app.command()
def status(folder: Folder = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Whether a testbed is up, and each of its services."""
    from wanstack.api.testbed import starting, state
    from wanstack.api.testbed import status as service_status
    from wanstack.report.testbed import status_table

    found = state(folder)
    if found is None:
        coming = starting(folder)  # as `up` sees it: it refuses a second testbed then
        if fmt is OutputFormat.JSON:
            print_json({"up": False, "starting": coming})
        else:
            console.print("a testbed is starting (not ready yet)" if coming else "no testbed is up")
        raise typer.Exit(1)
    show(fmt, status_table(found, service_status(found)))


@app.command()
def down(folder: Folder = None) -> None:
    """Stop the testbed: every process, relay, broker and database; remove its files."""
    from wanstack.api.testbed import down as stop

    if not stop(folder, say=_say):
        console.print("no testbed is up")
        return
    console.print("testbed down")


@app.command()
def run(
    scenario: Annotated[
        str,
        typer.Argument(help="The scenario whose workload to run (boot, delete, pause, unpause with times)."),
    ] = DEFAULT_SCENARIO,
    out: OutOption = None,
    folder: Folder = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Run the scenario's operations against the testbed that is up, as Rally would (times ×
    concurrency, a token per iteration, its polling): each as the service sees it (its state written) and
    as Rally reports it."""
    need_extra("testbed", "wanstack testbed run")
    from wanstack.api.testbed import run as run_workload
    from wanstack.api.testbed import state
    from wanstack.report.tables import operations_table

    found = state(folder)
    if found is None:
        fail("no testbed is up (`wanstack testbed up` first)")
    infra = load_scenario(scenario)
    try:
        result = run_workload(infra, found, say=_progress)
    except ValueError as err:
        fail(str(err), markup=False)
    deliver(result, fmt, operations_table(result), out=out)


@app.command()
def rally(
    scenario: Annotated[
        str | None,
        typer.Argument(help="The scenario its result is filed under (default: the testbed's own)."),
    ] = None,
    workload: Annotated[
        list[str] | None,
        typer.Option(help="boot-and-delete or pause-and-unpause (Rally's NovaServers.*); repeat for both."),
    ] = None,
    site: Annotated[
        str | None, typer.Option(help="Where the servers go (default: the first edge site).")
    ] = None,
    times: Annotated[int, typer.Option(min=1, help="Iterations of each workload (Rally `times`).")] = 10,
    concurrency: Annotated[int, typer.Option(min=1, help="How many at once (Rally `concurrency`).")] = 1,
    keep: Annotated[Path | None, typer.Option(help="Also write Rally's own JSON report here.")] = None,
    out: OutOption = None,
    folder: Folder = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Run Rally 5.1.1 itself (`make rally`) against the testbed that is up: its own task, a user at the
    top site (Keystone's catalog holds its URLs) with the servers at an edge site; its JSON report as a
    result of engine `rally`, operations named as `run`'s and the simulator's Rally rows."""
    need_extra("testbed", "wanstack testbed rally")
    from wanstack.api.testbed import rally as run_rally
    from wanstack.api.testbed import rally_missing, state
    from wanstack.report.tables import operations_table

    if (why := rally_missing()) is not None:
        fail(why)
    found = state(folder)
    if found is None:
        fail("no testbed is up (`wanstack testbed up` first)")
    infra = load_scenario(scenario or found["scenario"])
    workloads = workload or ["boot-and-delete"]
    try:
        result = run_rally(
            infra, found, workloads, site=site, times=times, concurrency=concurrency, keep=keep, say=_progress
        )
    except ValueError as err:
        fail(str(err), markup=False)
    except RuntimeError as err:
        fail(str(err), 1, markup=False)
    deliver(result, fmt, operations_table(result), out=out)


@app.command()
def trace(
    op: Annotated[str, typer.Argument(help="boot, delete, pause or unpause")] = "boot",
    scenario: Annotated[
        str, typer.Argument(help="The testbed's scenario (for the simulator's side).")
    ] = DEFAULT_SCENARIO,
    site: Annotated[
        str | None, typer.Option(help="Where the user is (default: the first edge site).")
    ] = None,
    save: Annotated[
        Path | None, typer.Option(help="Write the trace's points (osprofiler's, each with its site) as JSON.")
    ] = None,
    folder: Folder = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Run one operation on the testbed with osprofiler tracing it through every service: the REST
    calls and RPCs it made, the sites each crossed, the SQL statements per service — and the
    simulator's workflow for the same operation beside it (`wanstack explain`)."""
    need_extra("testbed", "wanstack testbed trace")
    from wanstack.api.testbed import explain_trace, state
    from wanstack.api.testbed import trace as run_traced
    from wanstack.report.explain import explain_table
    from wanstack.report.testbed import trace_tables

    found = state(folder)
    if found is None:
        fail("no testbed is up (`wanstack testbed up` first)")
    try:
        result = run_traced(found, op, site, say=_progress)
    except ValueError as err:  # an operation trace does not run, a site without a nova-compute
        fail(str(err))
    except RuntimeError as err:
        fail(str(err), 1, markup=False)
    if save is not None:
        save.write_text(json.dumps(result.points))
    table, queries = trace_tables(result, found["model"])
    if fmt is OutputFormat.JSON:
        # The simulator's side is `wanstack explain OP --format json` (one JSON document per command).
        print_json(
            {"critical_crossings": result.critical_crossings, "crossings": result.crossings}
            | {"steady_crossings": result.steady_crossings}
            | {"tables": tables_json(table, queries)}
        )
        return
    console.print(table)
    console.print(queries)
    services = {span.service for span in result.spans.values()}
    if "nova-compute" not in services:
        # osprofiler follows an operation only as far as its trace is carried: through REST headers,
        # RPC contexts and (with wanstack_openstack.tracing) thread pools. Say so when it stopped short.
        errors.print(
            f"note: the trace holds no nova-compute span (services traced: {', '.join(sorted(services))}); "
            "osprofiler did not follow the operation past them, so its counts stop there"
        )
    # The simulator's side has the testbed's settings (its virt driver and Neutron backend, notifications
    # off) and as many servers on the host.
    console.print("The simulator's workflow for the same operation, with the testbed's settings:")
    console.print(explain_table(explain_trace(load_scenario(scenario), result, found)))


@app.command()
def calibrate(
    scenario: Annotated[str, typer.Argument(help="The scenario of the calibration run (its operations).")],
    traces: Annotated[
        list[Path] | None,
        typer.Option(
            "--trace", help="A stored trace (`testbed trace OP --save`), repeatable; default: traced now."
        ),
    ] = None,
    level: Annotated[
        Path | None, typer.Option(help="A `testbed run --out` result.json of SCENARIO. Default: run now.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the calibration.")] = Path("control-plane.yaml"),
    folder: Folder = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The simulator's station times measured on the testbed: the split between stations from traced
    operations, the level from a run of SCENARIO; written to --out for `run`, `compare` and `sweep`
    (`--calibration`)."""
    from wanstack.api.testbed import calibrate as fit_calibration
    from wanstack.api.testbed import state
    from wanstack.report.calibration import control_plane_tables

    infra = load_scenario(scenario)
    found = state(folder) if not traces or level is None else None
    try:
        cal = fit_calibration(infra, traces=traces or (), level=level, found=found, say=_progress)
    except (OSError, ValueError) as err:
        fail(str(err), markup=False)
    except RuntimeError as err:
        fail(str(err), 1, markup=False)
    cal.write(out)
    show(fmt, *control_plane_tables(cal, f"Calibration written to {out}"))
