"""`wanstack inventory`: how many servers there are across every region, as the top site sees them in
a simulated run, or as a real cloud's regions answer within a deadline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from wanstack.cli.common import fail, load_scenario, need_extra
from wanstack.cli.groups import grouped
from wanstack.cli.options import FormatOption, OutputFormat, WideOption, a_folder
from wanstack.cli.output import console, notes, show_or_json
from wanstack.report.fit import wider
from wanstack.results.json_text import json_text
from wanstack.scenario.load import DEFAULT_SCENARIO

INVENTORY_FILE = "inventory.json"  # what --out writes into its folder, and --previous reads back

Out = Annotated[
    Path | None,
    typer.Option(help=f"Write the rows as JSON to this folder ({INVENTORY_FILE}).", callback=a_folder),
]


@dataclass(frozen=True)
class RealCloud:
    """The options of `inventory --cloud`: which cloud and regions, how long each may take, and what an
    earlier inventory said of those that do not answer."""

    cloud: Annotated[
        str | None,
        typer.Option(
            help="A real cloud instead (its clouds.yaml name): every region's servers, asked at once."
        ),
    ] = None
    regions: Annotated[
        str | None,
        typer.Option(
            help="With --cloud: comma-separated regions (default: every one with a compute endpoint)."
        ),
    ] = None
    deadline: Annotated[
        float, typer.Option(min=0.1, help="With --cloud: seconds each region is given to answer.")
    ] = 10.0
    previous: Annotated[
        Path | None,
        typer.Option(help=f"With --cloud: an earlier --out's {INVENTORY_FILE} (or its folder): its counts."),
    ] = None


@grouped(real=RealCloud)
def inventory(
    scenario: Annotated[
        str | None,
        typer.Argument(help=f"Scenario YAML file, or a built-in scenario's name ({DEFAULT_SCENARIO!r})."),
    ] = None,
    at: Annotated[
        float | None, typer.Option(help="The simulated second to look at (default: the run's end).")
    ] = None,
    out: Out = None,
    real: RealCloud = RealCloud(),
    fmt: FormatOption = OutputFormat.TABLE,
    wide: WideOption = False,
) -> None:
    """How many servers there are across every region, as a view at the top site sees them in a
    simulated run (faults included), or, with --cloud, as a real cloud's regions answer within the
    deadline: each site live, last known (as of when) or never answered, and the total as an
    interval when some did not answer."""
    from wanstack.api import inventory as simulated
    from wanstack.report.tables import inventory_table, inventory_total

    if real.cloud is not None:
        if scenario is not None or at is not None:
            fail("--cloud counts a real cloud: give it no scenario and no --at")
        _cloud_inventory(real, out, fmt)
        return
    infra = load_scenario(scenario or DEFAULT_SCENARIO)
    if at is not None and not 0 < at < math.inf:  # nan compares false both ways
        fail(f"--at {at}: give a positive, finite number of seconds")
    result = simulated(infra, at).result
    rows = [r.model_dump(mode="json") for r in result.inventory]
    table = inventory_table(result.inventory, result.duration_s, width=None if wide else console.width)
    if wide and fmt is OutputFormat.TABLE:  # on a console wide enough for every column
        wider(table).print(table, inventory_total(result.inventory))
    else:
        show_or_json(fmt, rows, table, inventory_total(result.inventory))
    _write(rows, out, fmt)


def _write(document: object, out: Path | None, fmt: OutputFormat) -> None:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / INVENTORY_FILE).write_text(json_text(document, indent=2), encoding="utf-8")
        notes(fmt).print(f"wrote {out / INVENTORY_FILE}")


def _cloud_inventory(real: RealCloud, out: Path | None, fmt: OutputFormat) -> None:
    need_extra("cloud", "wanstack inventory --cloud")
    from wanstack.api.cloud import CloudError, read_inventory
    from wanstack.api.cloud import inventory as ask
    from wanstack.report.cloud_inventory import (
        cloud_inventory_json,
        cloud_inventory_table,
        cloud_inventory_total,
    )

    cloud, regions, previous = real.cloud or "", real.regions, real.previous
    chosen = None if regions is None else [r.strip() for r in regions.split(",") if r.strip()]
    earlier = None
    if previous is not None:
        try:
            earlier = read_inventory(previous / INVENTORY_FILE if previous.is_dir() else previous)
        except ValueError as err:
            fail(f"--previous {previous}: not an inventory written by --cloud --out ({err})")
    try:
        result = ask(cloud, chosen, deadline_s=real.deadline, previous=earlier)
    except CloudError as err:
        fail(str(err), 1, markup=False)
    if not result.inventory.rows:
        fail(f"{cloud}: no region of the catalog has a compute endpoint (give --regions)", 1)
    document = cloud_inventory_json(result)
    show_or_json(fmt, document, cloud_inventory_table(result), Text(cloud_inventory_total(result)))
    _write(document, out, fmt)
