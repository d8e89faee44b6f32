"""The house's plan holds: the import-linter contracts of pyproject.toml are kept and do catch a breach,
no module is in an import circle (imports inside functions counted), and docs/architecture.md names
only modules that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the package under `src`, with the repository's contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=src,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_contracts_are_kept() -> None:
    done = _lint_imports(SRC)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" not in done.stdout.lower().replace("0 broken", "")


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("report/__init__.py", "import wanstack.cli", "Layers"),  # a view reaching up to the CLI
        ("sim/__init__.py", "import wanstack.lab.ports", "starts no real process"),  # sim on the lab
        ("testbed/__init__.py", "import wanstack.bench.cases", "Layers"),  # an engine on a sibling
        ("lab/ports.py", "from wanstack.lab import relay", "circle"),  # relay imports ports
    ],
)
def test_a_breach_of_the_plan_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """The contracts are not vacuous: the same tree with one import added against the plan fails."""
    copy = tmp_path / "src"
    shutil.copytree(SRC / "wanstack", copy / "wanstack", ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "wanstack" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    done = _lint_imports(copy)
    assert done.returncode != 0, done.stdout
    broken = done.stdout.split("Broken contracts", 1)[-1]
    assert contract.lower() in broken.lower(), done.stdout


def test_no_module_is_in_an_import_circle() -> None:
    """Every import counts, at the top of a module or inside a function (grimp reads both)."""
    graph = grimp.build_graph("wanstack", cache_dir=None)
    imports = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            # A module importing its own package's __init__ (`from wanstack import x`) is how Python
            # reaches a sibling, not a dependency on the package's contents.
            if not module.startswith(imported + "."):
                imports.add_edge(module, imported)
    circles = [sorted(c) for c in nx.strongly_connected_components(imports) if len(c) > 1]
    assert circles == []


# A module named in the docs: `wanstack.x.y`, a path such as `sim/world.py` / `src/wanstack/sim/`, or
# a file of the package named in its row (`tables.py`).
_DOTTED = re.compile(r"`(wanstack(?:\.\w+)+)")
_PATH = re.compile(r"`(?:src/wanstack/)?((?:[a-z_]+/)+(?:[a-z_]+\.py)?)`")
_FILE = re.compile(r"`([a-z_]+\.py)`")


def _exists(parts: list[str]) -> bool:
    base = SRC / "wanstack" / Path(*parts) if parts else SRC / "wanstack"
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _module_exists(dotted: str) -> bool:
    """A module or package, or a name defined in one (`wanstack.sim.world.build` is fine)."""
    parts = dotted.split(".")[1:]
    while parts and not _exists(parts):
        parts = parts[:-1]
    return bool(parts) or dotted == "wanstack"


def test_the_architecture_page_names_only_modules_that_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [name for name in _DOTTED.findall(text) if not _module_exists(name)]
    for path in _PATH.findall(text):
        top = path.split("/", 1)[0]
        if top in {"tests", "benchmarks", "docs", "openstack", "scripts", "examples"}:
            if not (ROOT / path).exists():
                missing.append(path)
            continue
        parts = [p for p in path.removesuffix(".py").split("/") if p]
        target = SRC / "wanstack" / Path(*parts)
        if not (target.with_suffix(".py").exists() or target.is_dir()):
            missing.append(path)
    files = {p.name for p in [*(SRC / "wanstack").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]}
    missing += [name for name in _FILE.findall(text) if name not in files]
    assert missing == []


def test_the_architecture_page_draws_the_layers_of_the_contract() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in contracts["contracts"] if c["type"] == "layers")["layers"]
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawing = text.split("## The layers", 1)[1].split("```", 2)[1].strip().splitlines()
    assert drawing == layers
