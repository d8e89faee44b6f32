"""`wanstack quota`: a scenario's global limits as Keystone unified limits, one per region."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from wanstack.cli_common import console, errors, load_scenario
from wanstack.scenario.load import DEFAULT_SCENARIO

app = typer.Typer(
    help="A scenario's global limits written as Keystone unified limits (one per region).",
    no_args_is_help=True,
)
Regions = Annotated[str, typer.Option(help="Comma-separated Keystone region ids to split the limits over.")]


def _project(scenario: str, name: str | None) -> Any:
    projects = load_scenario(scenario).scenario.quotas.projects
    chosen = [p for p in projects if name is None or p.name == name]
    if not chosen:
        known = ", ".join(p.name for p in projects) or "none"
        errors.print(f"no quotas: project {name or ''} in the scenario (its projects: {known})")
        raise typer.Exit(2)
    return chosen[0]


def _regions(text: str) -> list[str]:
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        errors.print("--regions: give at least one region id")
        raise typer.Exit(2)
    return regions


@app.command()
def plan(
    scenario: Annotated[str, typer.Argument(help="Scenario file with a quotas: section.")] = DEFAULT_SCENARIO,
    regions: Regions = "RegionOne",
    project: Annotated[str | None, typer.Option(help="The quotas: project (default: the first).")] = None,
) -> None:
    """The limits each region gets: an even part of each global limit (what each uses, when applied
    to a cloud, is kept and the headroom shared)."""
    from wanstack.multiregion.limits import KEYSTONE_RESOURCE
    from wanstack.multiregion.limits import plan as split

    chosen = _project(scenario, project)
    table = Table(title=f"{chosen.name}: global limits as region limits")
    for col in ("region", "resource", "Keystone resource", "limit"):
        table.add_column(col, justify="right" if col == "limit" else "left")
    for p in split(chosen, _regions(regions)):
        table.add_row(p.region, p.resource, KEYSTONE_RESOURCE[p.resource], str(p.limit))
    console.print(table)


@app.command()
def apply(
    scenario: Annotated[str, typer.Argument(help="Scenario file with a quotas: section.")] = DEFAULT_SCENARIO,
    cloud: Annotated[str, typer.Option(help="The cloud in clouds.yaml (an administrator's).")] = "",
    regions: Regions = "RegionOne",
    project: Annotated[str | None, typer.Option(help="The quotas: project (default: the first).")] = None,
) -> None:
    """Write the plan into the cloud's Keystone as project limits of the compute service, per region
    (registered limits made where missing), the project named as in the scenario."""
    import openstack

    from wanstack.multiregion.limits import apply as write
    from wanstack.multiregion.limits import plan as split

    chosen = _project(scenario, project)
    if not cloud:
        errors.print("--cloud: the clouds.yaml entry to write to")
        raise typer.Exit(2)
    try:
        conn: Any = openstack.connect(cloud=cloud)
        target = conn.identity.find_project(chosen.name)
        service = next(iter(conn.identity.services(type="compute")), None)
    except openstack.exceptions.SDKException as err:
        errors.print(f"{cloud}: {err}", markup=False)
        raise typer.Exit(1) from None
    if target is None or service is None:
        what = f"project {chosen.name!r}" if target is None else "a compute service"
        errors.print(f"{cloud}: Keystone has no {what}")
        raise typer.Exit(1)
    for line in write(conn, target.id, service.id, split(chosen, _regions(regions))) or ["nothing to change"]:
        console.print(line, markup=False)
