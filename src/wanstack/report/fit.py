"""Tables that fit the terminal with nothing cut: a number or a name is never shortened to "…". Each
column says how much it matters (`priority`); at a narrow width the least important go first, and the
caption names them (`--wide` shows them all). A column with the same value in every row is said once,
in the caption, instead of repeated down the table."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True)
class Column:
    """One column: its header and cells; `priority` 0 is always shown, higher goes first when the
    table is too wide; `words` cells may wrap between words (sentences), others stay on one line
    (numbers, names); `once`: said in the caption when every row holds the same."""

    header: str
    cells: Sequence[RenderableType]
    priority: int = 0
    justify: Literal["left", "right"] = "left"
    words: bool = False
    once: bool = False
    min_width: int | None = None  # of a `words` column: narrower, its lines would read badly


def _text_len(cell: RenderableType) -> int:
    if isinstance(cell, str):
        return max((len(line) for line in Text.from_markup(cell).plain.splitlines()), default=0)
    if isinstance(cell, Text):
        return max((len(line) for line in cell.plain.splitlines()), default=0)
    return 0


def _build(columns: Sequence[Column], title: str | None, caption: str | None, compact: bool) -> Table:
    """The table; each one-line column exactly as wide as its widest cell and its header (`compact`:
    its header's longest word, the header wrapping). Rich shrinks a table too wide for the console by
    cutting every one-line column alike, so a column never asks for more than it needs."""
    table = Table(title=title, caption=caption, caption_justify="left")
    for col in columns:
        if col.words:
            table.add_column(col.header, justify=col.justify, overflow="fold", min_width=col.min_width)
            continue
        words = col.header.split() if compact else [col.header]
        width = max([_text_len(c) for c in col.cells] + [max(map(len, words), default=0)])
        header = Text(col.header, no_wrap=False, overflow="fold")
        table.add_column(header, justify=col.justify, no_wrap=True, min_width=width, max_width=width)
    for row in zip(*(col.cells for col in columns), strict=True):
        table.add_row(*row)
    return table


def min_width(table: Table) -> int:
    """The fewest columns of terminal `table` needs with nothing cut."""
    console = Console(file=io.StringIO(), width=10_000)
    return Measurement.get(console, console.options, table).minimum


def natural_width(*renderables: RenderableType) -> int:
    """The width at which the widest of `renderables` prints without wrapping (for `--wide`)."""
    console = Console(file=io.StringIO(), width=10_000)
    return max((Measurement.get(console, console.options, r).maximum for r in renderables), default=80)


def page_width() -> int | None:
    """The width a command's tables get: the terminal's, or COLUMNS' (rich reads both: None); piped
    output (CI logs, `| less`) without COLUMNS gets a wide page instead of rich's 80 columns."""
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 140


def wider(*renderables: RenderableType) -> Console:
    """A console on stdout wide enough that none of `renderables` is cut (`--wide`)."""
    return Console(width=natural_width(*renderables), emoji=False)


def fitted(
    columns: Sequence[Column],
    *,
    width: int | None,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> Table:
    """A table of `columns` within `width` terminal columns (None: every column, as `--wide`): the
    `once` columns that hold one value said in the caption, then the columns of highest `priority`
    left out, least important first, until it fits; the caption lists `notes` and what was left out."""
    rows = len(columns[0].cells) if columns else 0
    said = []
    kept = list(columns)
    if width is not None and rows > 1:
        for col in columns:
            values = {str(c) for c in col.cells}
            if col.once and len(values) == 1:
                said.append(f"{col.header} {values.pop()}")
                kept.remove(col)
    left_out: list[Column] = []
    lines = [*notes, *([f"same in every row: {', '.join(said)}"] if said else [])]
    while True:
        hidden = [f"--wide adds: {', '.join(c.header for c in left_out)}"] if left_out else []
        caption = "\n".join([*lines, *hidden]) or None
        table = _build(kept, title, caption, compact=False)
        if width is None or min_width(table) <= width:
            return table
        table = _build(kept, title, caption, compact=True)
        droppable = [c for c in kept if c.priority > 0]
        if not droppable or min_width(table) <= width:
            return table
        # The least important; among equals, the rightmost.
        worst = max(reversed(droppable), key=lambda c: c.priority)
        kept.remove(worst)
        left_out.append(worst)
