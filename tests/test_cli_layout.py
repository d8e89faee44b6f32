"""The command line's plan, held: `wanstack.cli` is a package of small modules, one per command family,
that call `wanstack.api` and print `wanstack.report`'s views — it imports no engine (not even inside a
function), builds no table itself, and no family module imports another."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pytest
import typer

CLI = Path(__file__).resolve().parents[1] / "src" / "wanstack" / "cli"
MODULES = sorted(CLI.glob("*.py"))
# What the CLI may import of wanstack; the engines (sim, bench, testbed, quotabench, lab, multiregion,
# migration, sweeps) only through `wanstack.api`.
ALLOWED = {"cli", "api", "report", "results", "scenario", "words", "extras", "__version__"}
SHARED = {"common", "options", "output", "groups"}  # what every family may import
FAMILIES = {p.stem for p in MODULES} - {"__init__", "__main__", "main"} - SHARED


def _imports(path: Path) -> list[str]:
    """Every module `path` imports, at any depth (functions, TYPE_CHECKING blocks)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def test_the_cli_is_a_package_of_command_families() -> None:
    assert {"main", "common", "simulate", "real", "migrate", "quota", "testbed", "sweep"} <= {
        p.stem for p in MODULES
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_each_module_is_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_cli_reaches_the_engines_through_the_api_only(path: Path) -> None:
    packages = {name.split(".")[1] for name in _imports(path) if name.startswith("wanstack.")}
    assert packages <= ALLOWED, packages - ALLOWED


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_family_module_imports_another(path: Path) -> None:
    if path.stem in {"__init__", "__main__", "main"}:
        return  # the app registers every family
    siblings = {name.split(".")[2] for name in _imports(path) if name.startswith("wanstack.cli.")}
    assert siblings <= SHARED - {path.stem}, siblings


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_cli_builds_no_table(path: Path) -> None:
    """Tables are `wanstack.report`'s: a command hands it what the API returned."""
    calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Call)]
    built = [c.lineno for c in calls if getattr(c.func, "id", getattr(c.func, "attr", None)) == "Table"]
    assert not built, f"{path.name}: rich Table built at lines {built}"


@dataclass(frozen=True)
class Shared:
    """A group of options as a command family defines one (at module level: their hints are resolved
    there)."""

    depth: Annotated[int, typer.Option(min=1, help="How deep.")] = 3
    loud: Annotated[bool, typer.Option(help="Say more.")] = False


def test_an_option_group_is_options_on_the_line_and_one_object_in_the_call() -> None:
    """`grouped` spreads a dataclass of options into a command's signature (Typer's options, their help
    and defaults) and hands the command the dataclass back."""
    from typer.testing import CliRunner

    from wanstack.cli.groups import grouped

    seen: list[tuple[str, Shared]] = []
    app = typer.Typer()

    @app.command()
    @grouped(shared=Shared)
    def main(name: str, shared: Shared = Shared()) -> None:
        seen.append((name, shared))

    runner = CliRunner()
    assert runner.invoke(app, ["x", "--depth", "5", "--loud"]).exit_code == 0
    assert runner.invoke(app, ["y"]).exit_code == 0
    assert seen == [("x", Shared(5, True)), ("y", Shared())]
    refused = runner.invoke(app, ["z", "--depth", "0"])
    assert refused.exit_code == 2 and "depth" in refused.output
    assert "How deep." in runner.invoke(app, ["--help"]).output


def test_no_flag_shows_a_value_placeholder_in_any_help() -> None:
    """Typer printed `<bool>` beside every flag (`--force <bool>`), as if it took a value."""
    import click
    import typer.main
    from typer.testing import CliRunner

    from wanstack.cli import app

    root = typer.main.get_command(app)

    def paths(command: click.Command, prefix: list[str]) -> list[list[str]]:
        found = [prefix]
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                found += paths(sub, [*prefix, name])
        return found

    runner = CliRunner(env={"COLUMNS": "160"})
    for path in paths(root, []):
        shown = runner.invoke(app, [*path, "--help"])
        assert shown.exit_code == 0, (path, shown.output)
        assert "<bool>" not in shown.output, path


@pytest.mark.parametrize("command", ["advise", "evacuate", "rebalance", "follow"])
def test_migrate_takes_the_default_scenario_as_every_command_does(command: str) -> None:
    """`migrate evacuate`, `rebalance` and `follow` defaulted to edge-metro, every other command to
    `default`."""
    import inspect

    from wanstack.cli import migrate
    from wanstack.scenario.load import DEFAULT_SCENARIO

    assert inspect.signature(getattr(migrate, command)).parameters["scenario"].default == DEFAULT_SCENARIO
