"""The pages that quote figures read as summaries: every table cell short, the paragraphs before the
page's appendix short, the dated history after it; and every relative link in docs/ leads somewhere.

A reader found docs/validation.md a 498-line diary with paragraphs of up to 3,457 characters and no
word on where things stand, and docs/performance.md with table cells of 820 characters (issue 37)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SUMMARY_PAGES = ("docs/validation.md", "docs/performance.md")
MAX_CELL = 160
MAX_PARAGRAPH = 800

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s+")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _prose_lines(text: str) -> list[str]:
    """The page's lines with fenced code blocks blanked (their pipes and hashes are not Markdown)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return lines


def table_cells(text: str) -> list[str]:
    """Every cell of every Markdown table (a `\\|` inside a cell is part of it, not a border)."""
    cells: list[str] = []
    for line in _prose_lines(text):
        row = line.strip()
        if not row.startswith("|"):
            continue
        row = row.removeprefix("|")
        row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
        cells.extend(cell.strip() for cell in re.split(r"(?<!\\)\|", row))
    return cells


def paragraphs(text: str) -> list[str]:
    """The prose paragraphs of a page: blocks between blank lines, less tables and headings; each item
    of a list counts on its own."""
    found: list[str] = []
    current: list[str] = []

    def close() -> None:
        if current:
            found.append(" ".join(part.strip() for part in current))
            current.clear()

    for line in _prose_lines(text):
        if not line.strip() or line.lstrip().startswith("|") or _HEADING.match(line):
            close()
        elif _LIST_ITEM.match(line):
            close()
            current.append(line)
        else:
            current.append(line)
    close()
    return found


def split_at_appendix(text: str) -> tuple[str, str, int] | None:
    """The page before its first "Appendix" heading, the page from it on, and that heading's level."""
    lines = _prose_lines(text)
    for index, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading and heading.group(2).lower().startswith("appendix"):
            original = text.splitlines()
            return "\n".join(original[:index]), "\n".join(original[index:]), len(heading.group(1))
    return None


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor on a page, repeated headings numbered as GitHub numbers them."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in _prose_lines(text):
        heading = _HEADING.match(line)
        if not heading:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def _leads_somewhere(file: Path, anchor: str) -> bool:
    """Whether a link's file exists and, for an anchor into a Markdown page, the page has that heading."""
    if not file.exists():
        return False
    return not (anchor and file.suffix == ".md") or anchor in anchors(file.read_text(encoding="utf-8"))


def _read(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


def test_the_helpers_see_long_cells_paragraphs_and_the_appendix() -> None:
    """The checks below can fail: the helpers find what they look for."""
    page = (
        "# T\n\nshort\n\n| a | b \\| c |\n| --- | --- |\n| x | "
        + "y" * 200
        + " |\n\n- one item\n- "
        + "z" * 900
        + "\n\n```\n| not | a table |\n```\n\n## Appendix: history\n\nold\n"
    )
    assert table_cells(page)[:2] == ["a", "b \\| c"]
    assert max(map(len, table_cells(page))) == 200
    assert [len(p) for p in paragraphs(page)] == [5, 10, 902, 3]
    split = split_at_appendix(page)
    assert split is not None and split[1].startswith("## Appendix") and split[2] == 2
    assert slug("Real Rally against `testbed run`") == "real-rally-against-testbed-run"
    assert slug("Relay against the simulator's flows") == "relay-against-the-simulators-flows"
    assert anchors("# A\n## A\n") == {"a", "a-1"}


@pytest.mark.parametrize("page", [*SUMMARY_PAGES, "README.md"])
def test_every_table_cell_is_short(page: str) -> None:
    """A cell past 160 characters is a paragraph squeezed into a column: it belongs below the table."""
    long = [cell[:80] + "…" for cell in table_cells(_read(page)) if len(cell) > MAX_CELL]
    assert not long, f"{page}: {len(long)} table cells over {MAX_CELL} characters: {long}"


@pytest.mark.parametrize("page", SUMMARY_PAGES)
def test_the_summary_comes_first_and_the_history_in_an_appendix(page: str) -> None:
    """The page opens with where things stand (sections of their own) and keeps its dated history
    under an "Appendix" heading, after which no section of the summary's level starts again."""
    text = _read(page)
    split = split_at_appendix(text)
    assert split is not None, f"{page}: no heading starting with 'Appendix'"
    summary, history, level = split
    sections = [m for m in map(_HEADING.match, summary.splitlines()) if m and len(m.group(1)) >= 2]
    assert len(sections) >= 2, f"{page}: the summary before the appendix has no sections"
    assert len(paragraphs(summary)) >= 3, f"{page}: the summary before the appendix is empty"
    assert re.search(r"20\d\d-\d\d-\d\d", history), f"{page}: the appendix holds no dated entry"
    later = [
        m.group(2) for m in map(_HEADING.match, _prose_lines(history)[1:]) if m and len(m.group(1)) <= level
    ]
    assert not later, f"{page}: sections after the appendix: {later}"


@pytest.mark.parametrize("page", SUMMARY_PAGES)
def test_the_summary_paragraphs_are_short(page: str) -> None:
    """Before the appendix no paragraph (or list item) runs past 800 characters."""
    split = split_at_appendix(_read(page))
    assert split is not None, f"{page}: no appendix"
    long = [p[:80] + "…" for p in paragraphs(split[0]) if len(p) > MAX_PARAGRAPH]
    assert not long, f"{page}: paragraphs over {MAX_PARAGRAPH} characters: {long}"


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_relative_links_lead_to_files_and_headings_that_exist(page: str) -> None:
    """Every relative link (and image) in docs/ names a file of the repository, and an anchor into a
    Markdown page names one of its headings."""
    source = DOCS / page
    broken = []
    for line in _prose_lines(source.read_text(encoding="utf-8")):
        for match in _LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            target = match.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue
            path, _, anchor = target.partition("#")
            file = (source.parent / path).resolve() if path else source
            if not _leads_somewhere(file, anchor):
                broken.append(target)
    assert not broken, f"docs/{page}: links that lead nowhere: {broken}"


def test_the_readme_says_how_wanstack_gets_onto_the_path() -> None:
    """`make demo` installs wanstack into .venv; the README did not say how to call it afterwards."""
    readme = _read("README.md")
    assert "source .venv/bin/activate" in readme and ".venv/bin/wanstack" in readme
