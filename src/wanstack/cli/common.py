"""What every `wanstack` command does the same way besides its options and output: read a scenario
(its problems reported, exit 2), say a failure (one line, never a traceback), refuse a missing extra
or broker, refuse an absurd run. Imported by every command family of `wanstack.cli`; imports none of
them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

import typer

from wanstack.cli.output import errors
from wanstack.extras import MissingExtraError, require
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import load
from wanstack.words import count


def refuse_absurd(infra: Infrastructure, force: bool, runs: int = 1) -> None:
    """Stop (exit 2, with the estimate) before simulating `runs` runs of `infra` that nobody would wait
    for, unless `force`: a duration of 10^15 s used to run silently, its memory growing."""
    from wanstack.api import cost

    estimate = cost(infra, runs)
    if estimate.absurd and not force:
        fail(
            f"{infra.scenario.name}: this would simulate {estimate.said()}; shorten run.duration_s or "
            "the hosts, or give --force",
            markup=False,
        )


def fail(message: str, code: int = 2, *, markup: bool = True) -> NoReturn:
    """Say what went wrong on stderr (one line) and exit with `code` (2: the command line or a file is
    wrong; 1: what it ran failed)."""
    errors.print(message, markup=markup)
    raise typer.Exit(code)


def report(err: ScenarioError) -> NoReturn:
    """Exit with code 2 and one located line per problem (never a traceback)."""
    limit = 50
    for problem in err.problems[:limit]:
        errors.print(problem.render(err.filename), markup=False)
    if len(err.problems) > limit:
        errors.print(f"… and {count(len(err.problems) - limit, 'more problem')}", markup=False)
    errors.print(f"{err.filename}: {count(len(err.problems), 'problem')}; nothing was run.", markup=False)
    raise typer.Exit(2) from None


def load_scenario(scenario: str, overrides: Mapping[str, object] | None = None) -> Infrastructure:
    """The scenario file or built-in scenario, validated; its problems reported (exit 2) if any."""
    try:
        return load(scenario, overrides)
    except ScenarioError as err:
        report(err)


def need_extra(extra: str, command: str, hint: str = "") -> None:
    """Exit 2 with one line naming the extra to install when `extra`'s packages are missing: `command`
    (`wanstack bench`) needs it."""
    try:
        require(extra, command, hint)
    except MissingExtraError as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(2) from None


def need_rabbitmq(command: str) -> None:
    """The real bench (`command`) needs the bench extra and Debian's rabbitmq-server: say which is
    missing and exit 2."""
    from wanstack.api.real import rabbitmq_available

    need_extra("bench", command)
    if not rabbitmq_available():
        errors.print("rabbitmq-server is not installed here; `make test` installs it (Debian package)")
        raise typer.Exit(2)
