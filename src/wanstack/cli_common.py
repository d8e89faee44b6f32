"""What every `wanstack` command shares: where output goes, how a scenario or a calibration file is
read (clean errors, exit code 2, never a traceback), progress bars, what an extra missing says, and the
`wanstack` entry point (`main`). Imported by `cli` and `cli_migrate`, never the other way round."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from wanstack.extras import MissingExtraError, extra_of, require
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import load
from wanstack.words import count

if TYPE_CHECKING:
    from wanstack.results.schema import RunResult
    from wanstack.sim.calibration import Calibration
    from wanstack.sim.host import BenchHost

# Piped output (CI logs, `| less`) gets a wide page instead of rich's 80-column default.
# No emoji codes: a location such as `s.yaml:100:5` holds one (":100:"), which rich would print as 💯.
console = Console(width=None if sys.stdout.isatty() else 140, emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="table (for people) or json (for programs: stdout holds the JSON alone; progress and "
        "notes go to stderr).",
    ),
]

HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html", help="Also write the results as one HTML page of plots (self-contained: opens offline)."
    ),
]


def notes(fmt: OutputFormat) -> Console:
    """Where a command's notes (`wrote …`) go: beside its tables, or to stderr when stdout is JSON."""
    return errors if fmt is OutputFormat.JSON else console


def _finite(value: Any) -> Any:
    """NaN and infinities as null: JSON has neither."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """`data` as JSON on stdout, and nothing else there."""
    typer.echo(json.dumps(_finite(data), indent=2, ensure_ascii=False))


def _plain(cell: Any) -> str:
    if isinstance(cell, Text):
        return cell.plain
    return Text.from_markup(cell).plain if isinstance(cell, str) else str(cell)


def table_json(table: Table) -> dict[str, Any]:
    """A rich table as data: its title, and each row as {column header: the cell's text}."""
    headers = [_plain(c.header) for c in table.columns]
    columns = [list(c.cells) for c in table.columns]
    rows = [
        dict(zip(headers, (_plain(cells[i]) for cells in columns), strict=True))
        for i in range(table.row_count)
    ]
    return {"title": _plain(table.title or ""), "columns": headers, "rows": rows}


def show(fmt: OutputFormat, *renderables: Any) -> None:
    """Print `renderables` (tables, groups of them, text): as they are, or as JSON (`tables_json`; one
    table alone as its object)."""
    if fmt is OutputFormat.TABLE:
        for r in renderables:
            console.print(r)
        return
    data = tables_json(*renderables)
    print_json(data[0] if len(data) == 1 else data)


def tables_json(*renderables: Any) -> list[dict[str, Any]]:
    """Every table among `renderables` (groups opened) as `table_json`; text as {"text": …}."""
    out: list[dict[str, Any]] = []
    for r in renderables:
        if isinstance(r, Group):
            out.extend(tables_json(*r.renderables))
        elif isinstance(r, Table):
            out.append(table_json(r))
        elif isinstance(r, str | Text):
            out.append({"text": _plain(r)})
    return out


def write_page(path: Path, page: str, fmt: OutputFormat = OutputFormat.TABLE) -> None:
    """An HTML report (`--html`), and where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    notes(fmt).print(f"wrote {path}")


def deliver(
    result: RunResult,
    fmt: OutputFormat,
    *views: Any,
    out: Path | None = None,
    html: Path | None = None,
    title: str = "",
) -> None:
    """A run's results wherever its command sends them: its `views` (or the result as JSON alone on
    stdout), the result files under `out`, the HTML page at `html` (titled `title`)."""
    if fmt is OutputFormat.JSON:
        print_json(result.model_dump(mode="json", exclude={"samples"}))  # samples: a file of their own
    else:
        for view in views:
            console.print(view)
    if out is not None:
        from wanstack.report.files import write_result

        for path in write_result(result, out):
            notes(fmt).print(f"wrote {path}")
    if html is not None:
        from wanstack.report.html import run_report

        write_page(html, run_report(result, title), fmt)


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


def load_calibration_file(path: Path) -> Calibration:
    """A `wanstack calibrate` file, or exit 2 saying what is wrong with it."""
    from wanstack.sim.calibration import CalibrationError, load_calibration

    try:
        return load_calibration(path)
    except CalibrationError as err:
        errors.print(str(err), markup=False)
        raise typer.Exit(2) from None


def bench_host_of(path: Path, shared_cpu: bool = True) -> BenchHost:
    """A calibration file's bench-host plug-in, or exit 2 saying why it cannot be had (a file fitted
    for another model says how to fit it again)."""
    from wanstack.sim.calibration import CalibrationError

    try:
        return load_calibration_file(path).bench_host(shared_cpu)
    except CalibrationError as err:
        errors.print(f"{path}: {err}", markup=False)
        raise typer.Exit(2) from None


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
    from wanstack.lab import rabbit

    need_extra("bench", command)
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


def main() -> None:
    """The `wanstack` command (`[project.scripts]`, `python -m wanstack`): the Typer app, with an extra's
    package found missing deep inside a command reported as one line naming the extra (exit 2)."""
    from wanstack.cli import app

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
    from wanstack.cli import app

    words = ["wanstack"]
    try:
        group: object = typer.main.get_command(app)
        for arg in sys.argv[1:]:
            group = getattr(group, "commands", {})[arg]
            words.append(arg)
    except Exception:  # the first word not a command (or a Typer without get_command): stop there
        pass
    return " ".join(words)
