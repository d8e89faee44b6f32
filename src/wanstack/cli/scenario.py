"""`wanstack validate`, `show`, `models`, `schema`: a scenario checked and summed up, the library of
deployment models, the schemas of scenario and result files. Nothing is simulated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from wanstack.cli.common import fail, load_scenario
from wanstack.cli.options import FormatOption, OutputFormat, ScenarioArg, WideOption
from wanstack.cli.output import console, print_json, tables_json
from wanstack.report.fit import wider
from wanstack.scenario.deployment import library
from wanstack.scenario.errors import ScenarioError, did_you_mean
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.words import count


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


def show(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    all_rows: Annotated[bool, typer.Option("--all", help="Show every region and site group.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
    wide: WideOption = False,
) -> None:
    """Summarise a scenario: sites per tier, links, regions and a map of which service runs where."""
    from wanstack.report.show import summary

    view = summary(
        load_scenario(scenario), limit=None if all_rows else 30, width=None if wide else console.width
    )
    if fmt is OutputFormat.JSON:
        print_json(tables_json(view))
        return
    (wider(view) if wide else console).print(view)


def models(
    as_yaml: Annotated[str | None, typer.Option("--yaml", help="Print one model's full definition.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the built-in deployment models, one line each."""
    from wanstack.report.models import models_table

    lib = library()
    if as_yaml is not None:
        if as_yaml not in lib:
            hint = did_you_mean(as_yaml, lib) or f"known: {', '.join(lib)}"
            fail(f"unknown model {as_yaml!r}; {hint}", markup=False)
        if fmt is OutputFormat.JSON:
            print_json(lib[as_yaml].model_dump(mode="json"))
            return
        # Plain stdout, not rich: rich rewraps long lines to the terminal, which breaks YAML.
        typer.echo(_readable_yaml(lib[as_yaml].model_dump(mode="json")), nl=False)
        return
    if fmt is OutputFormat.JSON:
        print_json([model.model_dump(mode="json") for model in lib.values()])
        return
    console.print(models_table(lib.values(), width=console.width))


class _BlockDumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks (as the library's files write descriptions), never folded."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _text)


def _readable_yaml(data: object) -> str:
    """YAML a user can read and load back unchanged: blocks, long lines kept, § and — as written."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=1 << 30)


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
