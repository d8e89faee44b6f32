from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

# Tests do not time (benchmarks do): no example is failed for being slow, which it may be when
# `make unit-parallel` runs it at the lowest priority beside the bench (scripts/run-tests.sh).
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
