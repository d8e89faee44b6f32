"""Every module of the engines' packages, and every public function and class at its top level, has a
docstring (the issue's "docstrings on every public function and class of the engines' entry points").
Read with `ast`, so nothing is imported and a missing one is named by path and line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "wanstack"

# Each package with its subpackages (sim/bus, sim/host, multiregion/service are walked with their parent).
PACKAGES = ["api", "sim", "bench", "testbed", "quotabench", "lab", "multiregion", "migration", "sweeps"]


def missing_docstrings(source: str, path: str) -> list[str]:
    """`path:line name` for the module (line 1, name `module`) and for each public function or class at
    its top level that has no docstring."""
    tree = ast.parse(source, filename=path)
    missing = [] if ast.get_docstring(tree) else [f"{path}:1 module"]
    for node in tree.body:
        match node:
            case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
                if not node.name.startswith("_") and not ast.get_docstring(node):
                    missing.append(f"{path}:{node.lineno} {node.name}")
            case _:
                pass
    return missing


def test_the_check_finds_what_is_missing() -> None:
    source = 'def shown():\n    """Said."""\n\n\nclass Hidden:\n    x = 1\n\n\ndef _private():\n    pass\n'
    assert missing_docstrings(source, "m.py") == ["m.py:1 module", "m.py:5 Hidden"]
    assert missing_docstrings('"""A module."""\n' + source, "m.py") == ["m.py:6 Hidden"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_has_a_docstring(package: str) -> None:
    modules = sorted((PACKAGE / package).rglob("*.py"))
    assert modules, f"no module under {package}/"
    missing = [
        line
        for module in modules
        for line in missing_docstrings(module.read_text(encoding="utf-8"), str(module.relative_to(ROOT)))
    ]
    assert not missing, f"{len(missing)} without a docstring:\n" + "\n".join(missing)
