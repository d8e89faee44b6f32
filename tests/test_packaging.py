"""Packaging: the simulator runs with none of the extras installed, a command needing one says which
(one line, exit 2), and every third-party import of src/wanstack is declared in pyproject.

The extras are made unimportable by a `sitecustomize` put first on PYTHONPATH: a `sys.meta_path`
finder raising ModuleNotFoundError for their top-level packages, as a core-only install would."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest
import typer
from packaging.requirements import Requirement

from wanstack.extras import EXTRAS, MissingExtraError, importing, missing, require

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Installed by an extra, never by the core (plus what these pull in that src imports directly).
BLOCKED = sorted({name for names in EXTRAS.values() for name in names})

BLOCKER = """
import sys

BLOCKED = frozenset({blocked!r})


class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
"""


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    """The distributions requirements install: theirs, and those of their extras (`dask[distributed]`
    installs `distributed`)."""
    out = set()
    for text in requirements:
        req = Requirement(text)
        out.add(_norm(req.name))
        for extra in req.extras:
            for sub in map(Requirement, requires(req.name) or []):
                if sub.marker is not None and sub.marker.evaluate({"extra": extra}):
                    out.add(_norm(sub.name))
    return out


CORE = _names(PYPROJECT["project"]["dependencies"])
OPTIONAL = {extra: _names(reqs) for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items()}


@pytest.fixture(scope="module")
def blocked_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("blocker")
    (folder / "sitecustomize.py").write_text(BLOCKER.format(blocked=BLOCKED), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(SRC)])
    env["COLUMNS"] = "200"
    return env


def _python(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _wanstack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wanstack", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


def test_the_blocker_blocks(blocked_env: dict[str, str]) -> None:
    """Else the tests below would pass for nothing: each blocked package really cannot be imported."""
    for name in ("ortools", "oslo_messaging", "plotly", "sqlalchemy", "openstack", "pyarrow"):
        done = _python(blocked_env, f"import {name}")
        assert done.returncode == 1 and "blocked by the test" in done.stderr, name


SIMULATOR_COMMANDS = [
    ("run", "default"),
    ("validate", "default"),
    ("models",),
    ("schema",),
    ("explain", "boot"),
    ("compare", "default", "--models", "centralized,cells-shared", "--processes", "1"),
    ("migrate", "evacuate", "--solver", "greedy", "--no-simulate"),
    ("bench", "--simulate", "--messages", "2"),
]


@pytest.mark.parametrize("args", SIMULATOR_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_the_simulator_runs_without_any_extra(blocked_env: dict[str, str], args: tuple[str, ...]) -> None:
    done = _wanstack(blocked_env, *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.strip()


def test_importing_wanstack_and_its_simulator_imports_no_extra(blocked_env: dict[str, str]) -> None:
    code = (
        "import sys, wanstack, wanstack.cli, wanstack.sim.engine, wanstack.report.tables;"
        f"print(sorted(n for n in sys.modules if n.partition('.')[0] in {BLOCKED!r}))"
    )
    done = _python(blocked_env, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


NEEDS_AN_EXTRA = [
    (("bench", "--messages", "2"), "wanstack bench needs the bench extra: pip install 'wanstack[bench]'"),
    (("replay", "boot"), "wanstack replay needs the bench extra"),
    (("calibrate",), "wanstack calibrate needs the bench extra"),
    (("migrate", "evacuate"), "wanstack migrate evacuate needs the plan extra: pip install 'wanstack[plan]'"),
    (("migrate", "rebalance", "--solver", "cp-sat"), "wanstack migrate rebalance needs the plan extra"),
    (
        ("migrate", "evacuate", "--solver", "greedy", "--html", "plan.html"),
        "wanstack migrate evacuate needs the html extra: pip install 'wanstack[html]'",
    ),
    (("inventory", "--cloud", "x"), "wanstack inventory --cloud needs the cloud extra"),
    (("quota", "apply", "--cloud", "x"), "wanstack quota apply needs the cloud extra"),
    (("quota", "serve", "region", "r", "--coordinator", "http://x", "--no-auth"), "needs the bench extra"),
    (("testbed", "up"), "wanstack testbed up needs the testbed extra"),
]


@pytest.mark.parametrize("args,message", NEEDS_AN_EXTRA, ids=lambda a: " ".join(a[:2]) if a else "")
def test_a_command_needing_a_missing_extra_says_which_in_one_line(
    blocked_env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    done = _wanstack(blocked_env, *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_a_missing_extra_found_deep_inside_a_command_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The entry point's safety net: a lazy import no command checked for still names the extra."""
    import wanstack.cli.main
    from wanstack.cli.main import main

    def deep() -> None:
        from wanstack.extras import importing

        with importing("plan", "a CP-SAT migration plan"):
            raise ModuleNotFoundError("No module named 'ortools'", name="ortools.sat")

    monkeypatch.setattr(wanstack.cli.main, "app", deep)
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "a CP-SAT migration plan needs the plan extra: pip install 'wanstack[plan]'"
    )

    app = typer.Typer()

    @app.command()
    def bench(scenario: str) -> None:
        raise ModuleNotFoundError("No module named 'nats'", name="nats")

    @app.command()
    def other() -> None:
        pass

    monkeypatch.setattr(wanstack.cli.main, "app", app)
    monkeypatch.setattr(sys, "argv", ["wanstack", "bench", "default"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert capsys.readouterr().err.strip() == (
        "wanstack bench needs the bench extra: pip install 'wanstack[bench]'"
    )

    def unrelated() -> None:  # not an extra's package: a bug, shown as one
        raise ModuleNotFoundError("No module named 'nonesuch'", name="nonesuch")

    monkeypatch.setattr(wanstack.cli.main, "app", unrelated)
    with pytest.raises(ModuleNotFoundError):
        main()


def test_require_and_missing() -> None:
    assert missing("plan") == []  # the dev environment has every extra
    require("plan", "x")
    with pytest.raises(ValueError, match="no extra"):
        MissingExtraError("nonesuch", "x")
    with pytest.raises(MissingExtraError, match="x needs the sweep extra"), importing("sweep", "x"):
        raise ModuleNotFoundError("no", name="dask.distributed")
    with pytest.raises(ModuleNotFoundError) as err, importing("sweep", "x"):  # another extra's: as is
        raise ModuleNotFoundError("no", name="ortools")
    assert not isinstance(err.value, MissingExtraError)


def _third_party_imports() -> dict[str, set[str]]:
    """Every top-level package src/wanstack imports (anywhere: lazily too), with the files importing it."""
    found: dict[str, set[str]] = {}
    for path in sorted((SRC / "wanstack").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in ("wanstack", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


# Imported, not declared: part of a declared distribution (which pins it).
PROVIDED_BY = {"pydantic-core": "pydantic"}


def test_every_third_party_import_is_declared_in_the_core_or_an_extra() -> None:
    distributions = packages_distributions()
    imports = _third_party_imports()
    assert {"numpy", "ortools", "oslo_messaging", "openstack"} <= set(imports)  # the walk sees lazy ones
    declared = CORE.union(*(names for extra, names in OPTIONAL.items() if extra not in ("all", "dev")))
    undeclared = {}
    for top, files in imports.items():
        dists = {_norm(d) for d in distributions.get(top, [])}
        assert dists, f"{top} (imported by {sorted(files)}) is not installed here"
        ok = dists & declared
        for dist in dists - declared:
            parent = PROVIDED_BY.get(dist)
            if parent in declared and dist in {_norm(Requirement(r).name) for r in requires(parent) or []}:
                ok.add(dist)
        if not ok:
            undeclared[top] = sorted(files)
    assert not undeclared, f"imported but in neither the core nor an extra: {undeclared}"


def test_what_the_code_knows_of_the_extras_matches_pyproject() -> None:
    """wanstack.extras (what a command checks) and pyproject (what pip installs) say the same; `all` is
    every extra; an imported package outside the core is one of an extra's, so its absence is named."""
    distributions = packages_distributions()
    assert set(OPTIONAL) - {"all", "dev"} == set(EXTRAS)
    for extra, names in EXTRAS.items():
        for name in names:
            assert {_norm(d) for d in distributions[name]} & OPTIONAL[extra], (extra, name)
    assert OPTIONAL["all"] == set().union(*(OPTIONAL[e] for e in EXTRAS))
    for top in _third_party_imports():
        if not {_norm(d) for d in distributions[top]} & CORE and top != "pydantic_core":
            assert any(top in names for names in EXTRAS.values()), top
    assert not CORE & {"ortools", "oslo-messaging", "plotly", "openstacksdk", "pyarrow", "dask"}


def test_the_license_is_the_apache_license_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text


def test_make_installs_every_extra() -> None:
    assert '-e ".[all,dev]"' in (ROOT / "Makefile").read_text(encoding="utf-8")
    assert PYPROJECT["project"]["scripts"]["wanstack"] == "wanstack.cli.main:main"
