from __future__ import annotations

import os

# The commands run in this process print at 200 columns, whatever the terminal or the runner: their
# tables are fitted to the width (`report.fit`), and a test reading what a command said should not
# find it cut or wrapped by where it ran (under pytest-xdist the width seen was 80). Set before any
# wanstack module makes its console. The tests of narrow output run `wanstack` with COLUMNS=80.
os.environ["COLUMNS"] = "200"

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

# Tests do not time (benchmarks do): no example is failed for being slow, which it may be when
# make test's second session runs it beside other tests on every core (scripts/run-tests.sh).
settings.register_profile("wanstack", deadline=None)
settings.load_profile("wanstack")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write scenario text to a file and return its path."""

    def _write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with more slow tests first (the order otherwise kept): make test's second session hands
    whole modules to its workers in this order (pytest-xdist's loadscope, not reordered), so the
    longest ones start first instead of keeping one worker busy after the others are done."""
    slow = Counter(item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.nodeid.split("::")[0]])  # a stable sort
