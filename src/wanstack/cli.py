"""The `wanstack` command. Thin: parse arguments, call the packages, print their views."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from wanstack.scenario.build import Infrastructure
from wanstack.scenario.deployment import library
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import DEFAULT_SCENARIO, load
from wanstack.scenario.schema import Scenario

app = typer.Typer(
    help="Plan, simulate and bench an OpenStack cloud spread over many sites joined by a WAN.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Piped output (CI logs, `| less`) gets a wide page instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 140)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

ScenarioArg = Annotated[
    str,
    typer.Argument(help=f"Scenario YAML file, or the name of a built-in scenario ({DEFAULT_SCENARIO!r})."),
]


def _load(scenario: str) -> Infrastructure:
    """Load or exit with code 2 and one located line per problem (never a traceback)."""
    try:
        return load(scenario)
    except ScenarioError as err:
        limit = 50
        for problem in err.problems[:limit]:
            errors.print(problem.render(err.filename), markup=False)
        if len(err.problems) > limit:
            errors.print(f"… and {len(err.problems) - limit} more problems", markup=False)
        errors.print(f"{err.filename}: {len(err.problems)} problem(s); nothing was run.", markup=False)
        raise typer.Exit(2) from None


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario file; print every problem with its file, line and column (exit code 2)."""
    infra = _load(scenario)
    console.print(
        f"[green]ok[/green] {scenario}: {len(infra.sites):,} sites, {len(infra.links):,} links, "
        f"{len(infra.placement.regions):,} regions, model {infra.model.name}"
    )


@app.command()
def show(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    all_rows: Annotated[bool, typer.Option("--all", help="Show every region and site group.")] = False,
) -> None:
    """Summarise a scenario: sites per tier, links, regions and a map of which service runs where."""
    from wanstack.report.show import summary

    console.print(summary(_load(scenario), limit=None if all_rows else 30))


@app.command()
def models(
    as_yaml: Annotated[str | None, typer.Option("--yaml", help="Print one model's full definition.")] = None,
) -> None:
    """List the built-in deployment models, one line each."""
    lib = library()
    if as_yaml is not None:
        if as_yaml not in lib:
            errors.print(f"unknown model {as_yaml!r}; known: {', '.join(lib)}")
            raise typer.Exit(2)
        console.print(yaml.safe_dump(lib[as_yaml].model_dump(mode="json"), sort_keys=False), markup=False)
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


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    document = Scenario.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "wanstack scenario"
    text = json.dumps(document, indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    app()
