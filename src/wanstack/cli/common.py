"""What every `wanstack` command shares: its common options, where output goes (tables, or JSON alone
on stdout), how a scenario is read and a failure said (clean errors, exit code 2, never a traceback),
progress bars, what a missing extra or broker says. Imported by every command family of `wanstack.cli`;
imports none of them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from wanstack.extras import MissingExtraError, require
from wanstack.report.fit import page_width, wider
from wanstack.results.json_text import json_text
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import DEFAULT_SCENARIO, load
from wanstack.words import count

if TYPE_CHECKING:
    from wanstack.results.schema import RunResult

# No emoji codes: a location such as `s.yaml:100:5` holds one (":100:"), which rich would print as 💯.
console = Console(width=page_width(), emoji=False)
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

ScenarioArg = Annotated[
    str,
    typer.Argument(help=f"Scenario YAML file, or the name of a built-in scenario ({DEFAULT_SCENARIO!r})."),
]

CalibrationOption = Annotated[
    Path | None,
    typer.Option(
        help="Measured costs in place of the defaults: a file from `wanstack calibrate` (messaging) or "
        "`wanstack testbed calibrate` (the control plane's station times)."
    ),
]


def a_folder(path: Path | None) -> Path | None:
    """An --out that names a folder (made if missing), refused before any work when a file is there."""
    if path is not None and path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{path} is a file; give a folder (it is made if missing)")
    return path


OutOption = Annotated[
    Path | None,
    typer.Option(help="Write result.json and CSV tables to this folder.", callback=a_folder),
]

HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html", help="Also write the results as one HTML page of plots (self-contained: opens offline)."
    ),
]


WideOption = Annotated[bool, typer.Option("--wide", help="Every column (default: those that fit).")]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Run even when the estimated cost is absurd (over half an hour here)."),
]


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


def notes(fmt: OutputFormat) -> Console:
    """Where a command's notes (`wrote …`) go: beside its tables, or to stderr when stdout is JSON."""
    return errors if fmt is OutputFormat.JSON else console


def print_json(data: Any) -> None:
    """`data` as JSON on stdout, and nothing else there."""
    typer.echo(json_text(data, indent=2, ensure_ascii=False))


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


def show_or_json(fmt: OutputFormat, document: Any, *renderables: Any) -> None:
    """`renderables` for people, or `document` alone on stdout for programs (a command's own JSON)."""
    if fmt is OutputFormat.JSON:
        print_json(document)
        return
    for r in renderables:
        console.print(r)


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
    wide: bool = False,
) -> None:
    """A run's results wherever its command sends them: its `views` (`wide`: every column; or the
    result as JSON alone on stdout), the result files under `out`, the HTML page at `html`."""
    if fmt is OutputFormat.JSON:
        print_json(result.model_dump(mode="json", exclude={"samples"}))  # samples: a file of their own
    else:
        for view in views:
            (wider(*views) if wide else console).print(view)
    if out is not None:
        from wanstack.report.files import write_result

        for path in write_result(result, out):
            notes(fmt).print(f"wrote {path}")
    if html is not None:
        from wanstack.report.html import run_report

        write_page(html, run_report(result, title), fmt)


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


class LoggedProgress(Progress):
    """rich's bar on a terminal; elsewhere (a CI log, a pipe, `nohup`), where rich draws nothing, a line
    on stderr every LINE_EVERY_S seconds, so that a long run is seen to be alive."""

    LINE_EVERY_S = 10.0

    def __init__(self, *columns: Any, **options: Any) -> None:
        super().__init__(*columns, **options)
        self._said = time.monotonic()

    def update(self, task_id: TaskID, **changes: Any) -> None:
        super().update(task_id, **changes)
        self._line(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._line(task_id)

    def _line(self, task_id: TaskID) -> None:
        now = time.monotonic()
        if self.console.is_terminal or now - self._said < self.LINE_EVERY_S:
            return
        self._said = now
        task = self._tasks[task_id]
        self.console.print(f"{task.description}: {task.percentage:.0f} % after {task.elapsed or 0.0:.0f} s")


def progress_bar(total: float, label: str) -> tuple[Progress, TaskID]:
    """A bar on stderr (gone when done) for `total` steps, and its task to advance; as a line every
    10 s when stderr is not a terminal."""
    progress = LoggedProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )
    return progress, progress.add_task(label, total=total)


def spinner(text: str) -> Progress:
    """A spinner on stderr (gone when done) saying `text`, for work of unknown length."""
    p = Progress(SpinnerColumn(), TextColumn(text), TimeElapsedColumn(), console=errors, transient=True)
    p.add_task(text, total=None)
    return p
