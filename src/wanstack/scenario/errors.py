"""Located problems: what is wrong, where (file, line, column, field path), and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

Path = tuple[str | int, ...]


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """`did you mean 'X'?` for the known name closest to a misspelt one (difflib), or None."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    hint: str = ""
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def field(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out or "(top level)"

    def render(self, filename: str) -> str:
        where = filename
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: {self.field()}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class ScenarioError(Exception):
    """A scenario that cannot be used; carries every problem found, each located."""

    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(p.render(self.filename) for p in self.problems)
