"""The README's five-minute tour runs as written: each `$ wanstack …` command of its console blocks is
run on a clean folder, and every output line it shows (all but `…`) must be in what the command
printed; its Python block runs too. And the front door stays short, its links lead somewhere."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _tour() -> list[tuple[str, list[str]]]:
    """(command, the output lines shown under it) for every `$ ` line of the console blocks."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip() != "…":
                steps[-1][1].append(line.rstrip())
    return steps


def test_the_readme_is_a_front_door() -> None:
    assert len(README.splitlines()) < 200
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target


@pytest.mark.slow
def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    steps = _tour()
    assert [shlex.split(c)[1] for c, _ in steps] == ["validate", "run", "compare", "sweep"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("COLUMNS", None)  # the width a pipe gets, as in the README
    for command, shown in steps:
        done = subprocess.run(
            shlex.split(command),
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (command, done.stderr)
        printed = {line.rstrip() for line in done.stdout.splitlines()}
        missing = [line for line in shown if line not in printed]
        assert not missing, (command, missing, done.stdout)
    assert (tmp_path / "sweep" / "sweep.parquet").is_file()
    assert (tmp_path / "sweep.html").stat().st_size > 100_000  # plotly.js inlined: works offline


def test_the_readme_python_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
