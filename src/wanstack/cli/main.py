"""The `wanstack` command: the Typer app, every command registered in the order `wanstack --help`
lists them, and the entry point (`main`: `[project.scripts]`, `python -m wanstack`)."""

from __future__ import annotations

import functools
import inspect
import math
import sys
from typing import Annotated, Any

import typer

from wanstack.cli import inventory, migrate, quota, real, scenario, simulate, sweep, testbed
from wanstack.cli.output import errors
from wanstack.extras import MissingExtraError, extra_of


def _flags_take_no_value() -> None:
    """Typer 0.29's help shows a type beside every option, `<bool>` beside a flag too, which reads as
    if the flag took a value (`--force <bool>`): flags show none."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and not self.count else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_take_no_value()

app = typer.Typer(
    help="Plan, simulate and bench an OpenStack cloud spread over many sites joined by a WAN.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from wanstack import __version__

        typer.echo(f"wanstack {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print wanstack's version and exit."
        ),
    ] = False,
) -> None:
    """Plan, simulate and bench an OpenStack cloud spread over many sites joined by a WAN."""


# The commands, in the order the help lists them: a scenario's checks and views, the simulator, the
# real engines, then the groups.
app.command()(scenario.validate)
app.command()(scenario.show)
app.command()(scenario.models)
app.command()(simulate.run)
app.command()(inventory.inventory)
app.command()(simulate.compare)
app.command()(simulate.explain)
app.command()(real.bench)
app.command()(real.replay)
app.command("compare-results")(simulate.compare_results)
app.command()(real.calibrate)
app.command()(scenario.schema)
app.add_typer(migrate.app, name="migrate")
app.add_typer(quota.app, name="quota")
app.add_typer(testbed.app, name="testbed")
app.command("sweep")(sweep.sweep)


def _one_line_listings(group: typer.Typer) -> None:
    """Give every command the first paragraph of its docstring on one line as its `short_help`: in a
    group's list of commands, typer's rich help keeps the docstring's line breaks (it rewraps only a
    command's own --help), which cut the sentences where the source lines end."""
    for command in group.registered_commands:
        doc = command.help or inspect.getdoc(command.callback) or ""
        if command.short_help is None and doc:
            command.short_help = " ".join(doc.split("\n\n")[0].split())
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _one_line_listings(sub.typer_instance)


_one_line_listings(app)


def _finite(name: str, value: object) -> None:
    """Refuse nan and ±inf given for option `name` (click's FLOAT, even with min/max, lets them
    through: `nan < min` is false), naming the option."""
    values = value if isinstance(value, list | tuple) else [value]
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise typer.BadParameter(f"{v}: give a finite number", param_hint=f"'--{name.replace('_', '-')}'")


def _finite_numbers_only(group: typer.Typer) -> None:
    """Every command of `group` and its subgroups refuses a non-finite number for any option, before
    it runs (exit 2, the option named): `--at nan` once simulated forever."""
    for command in group.registered_commands:
        callback = command.callback
        if callback is None:
            continue

        # A default may be infinite on purpose (migrate advise's --max-users-rtt: no limit).
        defaults = {p.name: p.default for p in inspect.signature(callback).parameters.values()}

        @functools.wraps(callback)
        def checked(*args: Any, _run: Any = callback, _defaults: Any = defaults, **kwargs: Any) -> Any:
            for name, value in kwargs.items():
                if value != _defaults.get(name):
                    _finite(name, value)
            return _run(*args, **kwargs)

        command.callback = checked
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _finite_numbers_only(sub.typer_instance)


_finite_numbers_only(app)


def main() -> None:
    """The `wanstack` command (`[project.scripts]`, `python -m wanstack`): the Typer app, with an extra's
    package found missing deep inside a command reported as one line naming the extra (exit 2)."""
    try:
        app()
    except ModuleNotFoundError as err:
        if not isinstance(err, MissingExtraError):
            extra = extra_of(err.name)
            if extra is None:
                raise
            err = MissingExtraError(extra, _argv_command())
        errors.print(str(err), markup=False)
        sys.exit(2)


def _argv_command() -> str:
    """The command named on the command line (its words before the first option or argument)."""
    words = ["wanstack"]
    try:
        group: object = typer.main.get_command(app)
        for arg in sys.argv[1:]:
            group = getattr(group, "commands", {})[arg]
            words.append(arg)
    except Exception:  # the first word not a command (or a Typer without get_command): stop there
        pass
    return " ".join(words)
