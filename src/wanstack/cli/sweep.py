"""`wanstack sweep`: a grid of scenario fields × seeds on local worker processes or a Dask cluster
(`wanstack.api.sweep`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from wanstack.cli.common import fail, load_scenario, need_extra, refuse_absurd, report
from wanstack.cli.options import (
    CalibrationOption,
    ForceOption,
    FormatOption,
    HtmlOption,
    OutputFormat,
    a_folder,
)
from wanstack.cli.output import console, notes, print_json, progress_bar, write_page
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.words import count


def sweep(
    scenario: Annotated[
        str, typer.Argument(help=f"Scenario YAML file, or a built-in scenario's name ({DEFAULT_SCENARIO!r}).")
    ] = DEFAULT_SCENARIO,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="FIELD=V1,V2,...",
            help="A scenario field and the values to try, e.g. links.delay_ms=0,10,25,50 or "
            "model=centralized,cells-shared (also backend=… and quota_mode=…). Repeat for a grid.",
        ),
    ] = None,
    seeds: Annotated[
        int, typer.Option(min=1, help="Runs per point: the scenario's seed and the next ones.")
    ] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Keep results here (sweep.parquet, sweep.csv); a stopped sweep resumes from it.",
            callback=a_folder,
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local worker processes (default: one per core).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="A Dask scheduler (tcp://HOST:PORT): run on its workers instead of locally."),
    ] = None,
    calibration: CalibrationOption = None,
    force: ForceOption = False,
    html: HtmlOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Run a scenario over a grid of field values and seeds, and write one tidy table (a row per run and
    operation)."""
    from wanstack.api import CalibrationError, column_name, parse_grid, write_sweep
    from wanstack.api import sweep as run_sweep
    from wanstack.report.sweep import sweep_table

    if scheduler:
        need_extra("sweep", "wanstack sweep --scheduler")
    if html is not None:
        need_extra("html", "wanstack sweep --html")
    if out is not None:
        need_extra("parquet", "wanstack sweep --out", "its table is written as Parquet and CSV")
    if not set_:
        fail("give at least one --set FIELD=V1,V2,... (e.g. --set links.delay_ms=0,10,25,50)")
    try:
        grid = parse_grid(set_)
    except ValueError as err:
        fail(str(err), markup=False)
    total = seeds * math.prod(len(values) for values in grid.values())
    refuse_absurd(load_scenario(scenario), force, total)
    runs = count(total, "run")
    where = f"Dask at {scheduler}" if scheduler else "local workers"
    bar, task = progress_bar(total, f"{runs} on {where}")
    finished: list[int] = []  # runs done so far (the first count: those a journal already had)

    def on_done(done: int, _: int) -> None:
        if not finished and done:
            notes(fmt).print(f"resuming from {out}: {done:,} of {runs} already done")
        finished[:] = [done]
        bar.update(task, completed=done)

    try:
        with bar:
            table = run_sweep(
                scenario,
                grid,
                seeds=seeds,
                workers=workers,
                scheduler=scheduler,
                out=out,
                calibration=calibration,
                on_done=on_done,
            )
    except KeyboardInterrupt:
        done = finished[0] if finished else 0
        kept = f"kept in {out}: run the same command to resume" if out else "give --out to keep them"
        fail(f"stopped: {done:,} of {runs} done, {kept}", 130, markup=False)
    except ScenarioError as err:
        report(err)
    except CalibrationError as err:
        fail(str(err), markup=False)
    except OSError as err:  # a scheduler that does not answer
        fail(f"cannot reach the Dask scheduler {scheduler}: {err}", markup=False)
    params = [column_name(field) for field in grid]  # the table's columns: `links_delay_ms`
    if fmt is OutputFormat.JSON:
        print_json(table.to_dict(orient="records"))
    else:
        console.print(sweep_table(table, params, f"{scenario}: {runs}"))
    if out is not None:
        for path in write_sweep(table, out):
            notes(fmt).print(f"wrote {path}")
    if html is not None:
        from wanstack.report.html import sweep_report

        write_page(html, sweep_report(table, params, f"wanstack sweep: {scenario}"), fmt)
