"""`wanstack sweep`: a grid of scenario fields × seeds on local worker processes or a Dask cluster."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from wanstack.cli_common import (
    FormatOption,
    HtmlOption,
    OutputFormat,
    console,
    errors,
    need_extra,
    notes,
    print_json,
    progress_bar,
    report,
    write_page,
)
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.words import count

if TYPE_CHECKING:
    import pandas as pd


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
        typer.Option(help="Keep results here (sweep.parquet, sweep.csv); a stopped sweep resumes from it."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local worker processes (default: one per core).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="A Dask scheduler (tcp://HOST:PORT): run on its workers instead of locally."),
    ] = None,
    html: HtmlOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Run a scenario over a grid of field values and seeds, and write one tidy table (a row per run and
    operation)."""
    from wanstack.api import sweep as run_sweep
    from wanstack.sweeps.grid import parse_set
    from wanstack.sweeps.table import write_table

    if scheduler:
        need_extra("sweep", "wanstack sweep --scheduler")
    if html is not None:
        need_extra("html", "wanstack sweep --html")
    if out is not None:
        need_extra("parquet", "wanstack sweep --out", "its table is written as Parquet and CSV")
    if not set_:
        errors.print("give at least one --set FIELD=V1,V2,... (e.g. --set links.delay_ms=0,10,25,50)")
        raise typer.Exit(2)
    try:
        grid = dict(parse_set(option) for option in set_)
    except ValueError as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(2) from None
    total = seeds * math.prod(len(values) for values in grid.values())
    runs = count(total, "run")
    where = f"Dask at {scheduler}" if scheduler else "local workers"
    bar, task = progress_bar(total, f"{runs} on {where}")
    try:
        with bar:
            table = run_sweep(
                scenario,
                grid,
                seeds=seeds,
                workers=workers,
                scheduler=scheduler,
                out=out,
                on_done=lambda done, _: bar.update(task, completed=done),
            )
    except ScenarioError as err:
        report(err)
    except OSError as err:  # a scheduler that does not answer
        errors.print(f"cannot reach the Dask scheduler {scheduler}: {err}", markup=False)
        raise typer.Exit(2) from None
    if fmt is OutputFormat.JSON:
        print_json(table.to_dict(orient="records"))
    else:
        console.print(summary(table, list(grid), f"{scenario}: {runs}"))
    if out is not None:
        for path in write_table(table, out):
            notes(fmt).print(f"wrote {path}")
    if html is not None:
        from wanstack.report.html import sweep_report

        write_page(html, sweep_report(table, list(grid), f"wanstack sweep: {scenario}"), fmt)


def summary(table: pd.DataFrame, params: list[str], title: str) -> Table:
    """Per point and operation: the medians' mean over seeds, the 95th percentiles' mean, failures."""
    view = Table(title=title)
    keys = [*params, "op"]
    for name in [*keys, "p50 (ms)", "p95 (ms)", "failed"]:
        view.add_column(name, justify="left" if name in keys else "right")
    if table.empty:
        return view
    grouped = table.groupby(keys, sort=False, dropna=False).agg(
        p50=("p50_ms", "mean"), p95=("p95_ms", "mean"), failed=("failed", "sum")
    )
    for index, row in grouped.iterrows():
        cells: list[Any] = list(index) if isinstance(index, tuple) else [index]
        view.add_row(*(str(c) for c in cells), _ms(row["p50"]), _ms(row["p95"]), str(int(row["failed"])))
    return view


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.1f}"  # NaN: no success to time
