"""`wanstack testbed …`: a real OpenStack control plane over the scenario's emulated sites. Thin, as
`cli`: parse, call `wanstack.testbed`, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from wanstack.cli_common import (
    FormatOption,
    OutputFormat,
    console,
    deliver,
    errors,
    load_scenario,
    need_extra,
    print_json,
    show,
    tables_json,
)
from wanstack.scenario.load import DEFAULT_SCENARIO

if TYPE_CHECKING:
    from wanstack.testbed.watch import StateWatch

app = typer.Typer(
    help="A real OpenStack (Keystone, Placement, Glance, Neutron, Nova) spread over the scenario's sites.",
    no_args_is_help=True,
)
Folder = Annotated[Path | None, typer.Option(help="The testbed's folder (default: /tmp/wanstack-testbed).")]


def _folder(folder: Path | None) -> Path:
    from wanstack.testbed.control import DEFAULT_FOLDER

    return folder or DEFAULT_FOLDER


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
    from wanstack.lab import openstack_env as environment
    from wanstack.testbed.control import TestbedError
    from wanstack.testbed.control import up as start
    from wanstack.testbed.layout import plan

    if not environment.available():
        errors.print(environment.MISSING)
        raise typer.Exit(2)
    try:
        plan(load_scenario(scenario), edges)  # refuse what one machine cannot run, before starting
        found = start(scenario, edges, _folder(folder), say=lambda line: errors.print(line, markup=False))
    except (ValueError, TestbedError) as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        errors.print("interrupted: the testbed was stopped")
        raise typer.Exit(130) from None
    table = Table(
        title=f"testbed up: {found['model']}, ready in {found['ready_s']:.0f} s", title_justify="left"
    )
    for col in ("phase", "seconds"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for phase, seconds in found["phases_s"].items():
        table.add_row(phase, f"{seconds:.1f}")
    console.print(table)
    sites = Table(title="sites (each API as the site reaches it)", title_justify="left")
    sites.add_column("site")
    sites.add_column("address")
    sites.add_column("keystone")
    sites.add_column("nova-api")
    for site, ip in found["sites"].items():
        api = found["apis"][site]
        sites.add_row(site, ip, api["keystone"], api["nova-api"])
    console.print(sites)


@app.command()
def status(folder: Folder = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Whether a testbed is up, and each of its services."""
    from wanstack.testbed.control import state
    from wanstack.testbed.control import status as service_status

    found = state(_folder(folder))
    if found is None:
        console.print("no testbed is up")
        raise typer.Exit(1)
    table = Table(title=f"testbed: {found['model']}, sites {', '.join(found['sites'])}", title_justify="left")
    for col in ("service", "site", "state"):
        table.add_column(col)
    for s in service_status(found):
        table.add_row(s.name, s.site, s.state)
    show(fmt, table)


@app.command()
def down(folder: Folder = None) -> None:
    """Stop the testbed: every process, relay, broker and database; remove its files."""
    from wanstack.testbed.control import down as stop

    if not stop(_folder(folder), say=lambda line: errors.print(line, markup=False)):
        console.print("no testbed is up")
        return
    console.print("testbed down")


def _watch(found: dict[str, Any]) -> StateWatch | None:
    """The observer of the testbed described by `found` (`testbed status`): its cells' databases."""
    from wanstack.testbed.watch import StateWatch

    databases = found.get("state_databases") or []
    return StateWatch(databases) if databases else None


@app.command()
def run(
    scenario: Annotated[
        str,
        typer.Argument(help="The scenario whose workload to run (boot, delete, pause, unpause with times)."),
    ] = DEFAULT_SCENARIO,
    out: Annotated[Path | None, typer.Option(help="Write result.json and CSV tables to this folder.")] = None,
    folder: Folder = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Run the scenario's operations against the testbed that is up, as Rally would (times ×
    concurrency, a token per iteration, its polling): each as the service sees it (its state written) and
    as Rally reports it."""
    need_extra("testbed", "wanstack testbed run")
    from wanstack.report.tables import operations_table
    from wanstack.testbed.control import state
    from wanstack.testbed.workload import Runner, run_workload

    found = state(_folder(folder))
    if found is None:
        errors.print("no testbed is up (`wanstack testbed up` first)")
        raise typer.Exit(2)
    infra = load_scenario(scenario)
    runner = Runner(found["apis"], found["resources"], _watch(found))
    try:
        result = run_workload(infra, runner, found["computes"], say=lambda line: errors.print(f"… {line}"))
    except ValueError as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(2) from None
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
    from wanstack.cli import explain_workflow
    from wanstack.scenario.openstack import NeutronBackend, OpenStack, VirtDriver
    from wanstack.scenario.workload import OperationKind
    from wanstack.testbed.control import state
    from wanstack.testbed.trace import traced
    from wanstack.testbed.workload import Runner

    found = state(_folder(folder))
    if found is None:
        errors.print("no testbed is up (`wanstack testbed up` first)")
        raise typer.Exit(2)
    if op not in ("boot", "delete", "pause", "unpause"):
        errors.print(f"trace runs boot, delete, pause or unpause, not {op!r}")
        raise typer.Exit(2)
    where = site or found["computes"][0]
    if where not in found["computes"]:
        errors.print(f"{where!r} runs no nova-compute on the testbed ({', '.join(found['computes'])})")
        raise typer.Exit(2)
    runner = Runner(found["apis"], found["resources"], _watch(found))
    try:
        result = traced(runner, found["traces"], op, where, say=lambda line: errors.print(f"… {line}"))
    except RuntimeError as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(1) from None
    if save is not None:
        save.write_text(json.dumps(result.points))
    # The crossings each exchange on the critical path counts there (its request only when the state
    # is written inside it).
    on_path = {(e.kind, e.src, e.dst, e.what, e.start): e.one_way for e in result.critical or []}
    grouped: dict[tuple[str, str, str, str], list[int]] = {}
    for e in result.exchanges:
        row = grouped.setdefault((e.kind, e.src, e.dst, e.what), [0, 0, 0])
        row[0] += 1
        row[1] += e.one_way
        row[2] += on_path.get((e.kind, e.src, e.dst, e.what, e.start), 0)
    waited = {"boot": "ACTIVE", "delete": "DELETED", "pause": "PAUSED", "unpause": "ACTIVE"}[op]
    critical = (
        f"{result.critical_crossings} on the critical path until {waited} was written"
        if result.critical_crossings is not None
        else f"the trace does not hold the write of {waited}: no critical path"
    )
    table = Table(
        title=f"{op} at {where} on the testbed ({found['model']}): {len(result.exchanges)} REST calls and "
        f"RPCs traced, {result.crossings} one-way WAN crossings in all, {critical}",
        title_justify="left",
    )
    for col in ("exchange", "sites", "what", "times", "crossings", "on the path"):
        table.add_column(col, justify="left" if col in ("exchange", "sites", "what") else "right")
    for (kind, src, dst, what), (times, crossings, path) in grouped.items():
        sites = f"{src} → {dst}" if src != dst else src
        table.add_row(kind, sites, what[:80], str(times), str(crossings), str(path))
    queries = Table(title="SQL statements, per service and site", title_justify="left")
    queries.add_column("service@site")
    queries.add_column("statements", justify="right")
    for who, n in sorted(result.queries.items()):
        queries.add_row(who, str(n))
    if fmt is OutputFormat.JSON:
        # The simulator's side is `wanstack explain OP --format json` (one JSON document per command).
        print_json(
            {"critical_crossings": result.critical_crossings, "crossings": result.crossings}
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
    # The testbed runs Nova's fake driver and wanstack's bind-all ML2 driver with notifications off:
    # the simulator's side has the same settings and as many servers on the host.
    console.print("The simulator's workflow for the same operation, with the testbed's settings:")
    settings = OpenStack(virt=VirtDriver.FAKE, neutron=NeutronBackend.BIND_ALL)
    kind = OperationKind(op)
    explain_workflow(
        load_scenario(scenario), kind, where, settings=settings, servers_on_host=result.servers_on_host
    )
