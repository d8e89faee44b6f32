"""What every `wanstack` command shares: where output goes, how a scenario or a calibration file is
read (clean errors, exit code 2, never a traceback), progress bars. Imported by `cli` and
`cli_migrate`, never the other way round."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from wanstack.scenario.build import Infrastructure
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import load

if TYPE_CHECKING:
    from wanstack.sim.calibration import Calibration

# Piped output (CI logs, `| less`) gets a wide page instead of rich's 80-column default.
# No emoji codes: a location such as `s.yaml:100:5` holds one (":100:"), which rich would print as 💯.
console = Console(width=None if sys.stdout.isatty() else 140, emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html", help="Also write the results as one HTML page of plots (self-contained: opens offline)."
    ),
]


def write_page(path: Path, page: str) -> None:
    """An HTML report (`--html`), and where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    console.print(f"wrote {path}")


def report(err: ScenarioError) -> NoReturn:
    """Exit with code 2 and one located line per problem (never a traceback)."""
    limit = 50
    for problem in err.problems[:limit]:
        errors.print(problem.render(err.filename), markup=False)
    if len(err.problems) > limit:
        errors.print(f"… and {len(err.problems) - limit} more problems", markup=False)
    errors.print(f"{err.filename}: {len(err.problems)} problem(s); nothing was run.", markup=False)
    raise typer.Exit(2) from None


def load_scenario(scenario: str, overrides: Mapping[str, object] | None = None) -> Infrastructure:
    """The scenario file or built-in scenario, validated; its problems reported (exit 2) if any."""
    try:
        return load(scenario, overrides)
    except ScenarioError as err:
        report(err)


def load_calibration_file(path: Path) -> Calibration:
    """A `wanstack calibrate` file, or exit 2 saying what is wrong with it."""
    from wanstack.sim.calibration import CalibrationError, load_calibration

    try:
        return load_calibration(path)
    except CalibrationError as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(2) from None


def need_rabbitmq() -> None:
    """The real bench needs Debian's rabbitmq-server: say so and exit 2 when it is missing."""
    from wanstack.bench import rabbit

    if not rabbit.available():
        errors.print("rabbitmq-server is not installed here; `make test` installs it (Debian package)")
        raise typer.Exit(2)


def progress_bar(total: float, label: str) -> tuple[Progress, TaskID]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )
    return progress, progress.add_task(label, total=total)
