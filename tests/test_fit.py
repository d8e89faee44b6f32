"""Tables fit the width they are given with nothing cut (issue 37): a number or a name is never
shortened to "…"; the least important columns go first and the caption names them; a column with one
value in every row is said once."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from wanstack.report.fit import Column, fitted


def _render(table: object, width: int) -> str:
    console = Console(file=io.StringIO(), width=width)
    console.print(table)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


COLUMNS = [
    Column("model", ["region-per-site-central-keystone", "centralized"]),
    Column("RPC", ["broker", "broker"], 1, once=True),
    Column("boot p95", ["4565.1 ms", "3351.5 ms"], 0, "right"),
    Column("WAN bytes/op", ["13.6 MB", "443 B"], 1, "right"),
    Column("boot p50", ["4429.5 ms", "3239.9 ms"], 3, "right"),
    Column("busiest broker", ["0.7% (rpc-broker @ central)", "0.1% (rpc-broker @ edge-01)"], 2),
    Column(
        "under faults", ["at edge-01 boots: 10 fail during the cut and for 29 s after it", "ok"], words=True
    ),
]


def test_columns_go_by_priority_and_the_caption_names_them() -> None:
    table = fitted(COLUMNS, width=80)
    headers = [str(c.header) for c in table.columns]
    assert headers == ["model", "boot p95", "WAN bytes/op", "under faults"]
    assert table.caption is not None
    assert "same in every row: RPC broker" in str(table.caption)
    assert "--wide adds: boot p50, busiest broker" in str(table.caption)
    every = fitted(COLUMNS, width=None)
    assert [str(c.header) for c in every.columns] == [c.header for c in COLUMNS]


@settings(deadline=None, max_examples=40)
@given(st.integers(min_value=60, max_value=220))
def test_nothing_is_ever_cut(width: int) -> None:
    table = fitted(COLUMNS, width=width)
    out = _render(table, width)
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= width
    for name in ("region-per-site-central-keystone", "4565.1 ms"):  # the columns always shown
        assert name in out
    shown = [str(c.header) for c in table.columns]
    for col in COLUMNS:  # every other one shown, or named in the caption
        assert col.header in shown or col.header in str(table.caption)


def _at_80(*args: str) -> str:
    env = {
        **os.environ,
        "COLUMNS": "80",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["wanstack", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    # "… (+6)": a list shortened on purpose, saying by how much; any other "…" is a cut.
    assert not re.search(r"…(?! \(\+\d+\))", done.stdout), done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    return done.stdout


@pytest.mark.parametrize(
    "args",
    [("show", "default"), ("models",), ("inventory", "default"), ("explain", "boot", "--site", "edge-01")],
)
def test_other_tables_at_80_columns_cut_nothing(args: tuple[str, ...]) -> None:
    _at_80(*args)


def test_run_at_80_columns_cuts_nothing() -> None:
    out = _at_80("run", "default")
    assert "4565.1 ms" in out and "--wide adds" in out
    # The faults table in the verdict's words (they wrap: read across the lines).
    words = re.sub(r"[│\s]+", " ", out)
    assert "at edge-01 boots: 10 fail during the cut and for 29 s after it" in words
