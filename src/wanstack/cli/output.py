"""Where a command's output goes: its tables on the console (fitted to its width), or JSON alone on
stdout with notes on stderr; result files and HTML pages; progress bars and spinners."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

from wanstack.cli.options import OutputFormat
from wanstack.report.fit import page_width, wider
from wanstack.results.json_text import json_text

if TYPE_CHECKING:
    from wanstack.results.schema import RunResult

# No emoji codes: a location such as `s.yaml:100:5` holds one (":100:"), which rich would print as 💯.
console = Console(width=page_width(), emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


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
