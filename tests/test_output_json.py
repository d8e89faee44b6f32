"""`--format json`: each command that prints tables prints JSON instead, alone on stdout (progress and
notes on stderr), with the keys a program reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wanstack.cli import app

TINY = """
generate: {kind: star, edges: 2, delay_ms: 20, hosts: {count: 2}, center_hosts: {count: 1}}
model: centralized
quotas:
  projects: [{name: demo, limits: {instances: 12}, mode: central}]
workload:
  operations:
    - {op: boot, times: 3, concurrency: 1}
run: {duration_s: 100, seed: 1}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return str(path)


def _json(runner: CliRunner, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)  # the whole of stdout: nothing else is on it


def test_run(runner: CliRunner, tiny: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", tiny, "--format", "json", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"engine", "model", "operations", "links", "totals"} <= set(data)
    assert data["engine"] == "sim" and data["operations"][0]["op"] == "boot"
    assert "wrote" in result.stderr and "wrote" not in result.stdout


def test_the_default_stays_a_table(runner: CliRunner, tiny: str) -> None:
    result = runner.invoke(app, ["run", tiny])
    assert result.exit_code == 0, result.output
    assert "Operations" in result.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)
    assert runner.invoke(app, ["run", tiny, "--format", "yaml"]).exit_code == 2


def test_compare(runner: CliRunner, tiny: str) -> None:
    data = _json(runner, "compare", tiny, "--models", "centralized,cells-shared", "--processes", "1")
    runs = data["runs"]  # beside the verdict (tests/test_verdict.py)
    assert isinstance(runs, list) and [r["model"] for r in runs] == ["centralized", "cells-shared"]
    assert {"rpc_backend", "operations", "quotas"} <= set(runs[0])


def test_models(runner: CliRunner) -> None:
    data = _json(runner, "models")
    assert isinstance(data, list) and len(data) > 5
    assert {"name", "summary", "messaging"} <= set(data[0])
    one = _json(runner, "models", "--yaml", "centralized")
    assert one["name"] == "centralized"


def test_validate(runner: CliRunner, tiny: str, tmp_path: Path) -> None:
    data = _json(runner, "validate", tiny)
    assert data["ok"] is True and data["sites"] == 3 and data["model"] == "centralized"
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("model: centralized", "model: nonesuch"), encoding="utf-8")
    data = _json(runner, "validate", str(bad), code=2)
    assert data["ok"] is False
    (problem,) = data["problems"]
    assert problem["line"] == 3 and problem["field"] == "model" and "nonesuch" in problem["message"]


def test_inventory(runner: CliRunner, tiny: str) -> None:
    data = _json(runner, "inventory", tiny)
    assert isinstance(data, list) and {r["site"] for r in data} == {"central", "edge-1", "edge-2"}
    assert {"region", "source", "instances"} <= set(data[0])


def test_explain(runner: CliRunner, tiny: str) -> None:
    data = _json(runner, "explain", "boot", tiny)
    assert data["operation"] == "boot" and data["site"] == "edge-1"
    assert data["critical_crossings"] > 0 and data["steps"]
    assert {"step", "sites", "crossings"} == set(data["steps"][0])


def test_show(runner: CliRunner, tiny: str) -> None:
    data = _json(runner, "show", tiny)
    titles = [t.get("title") for t in data]
    assert "Sites per tier" in titles
    tiers = data[titles.index("Sites per tier")]
    assert tiers["rows"][0] == {"tier": "central", "sites": "1", "hosts": "1", "examples": "central"}


def test_a_table_as_data_holds_its_text_without_markup() -> None:
    from rich.table import Table
    from rich.text import Text

    from wanstack.cli.output import table_json

    table = Table(title="[bold]t[/bold]")
    table.add_column("a")
    table.add_column(Text("b"))
    table.add_row("[green]ok[/green]", Text("x", style="red"))
    assert table_json(table) == {"title": "t", "columns": ["a", "b"], "rows": [{"a": "ok", "b": "x"}]}


def test_bench_simulated_and_compare_results(runner: CliRunner, tiny: str, tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = runner.invoke(
            app,
            [
                "bench",
                tiny,
                "--simulate",
                "--messages",
                "2",
                "--format",
                "json",
                "--out",
                str(tmp_path / name),
            ],
        )
        assert result.exit_code == 0, result.output
        assert [op["op"] for op in json.loads(result.stdout)["operations"]][:1] == ["tc1-call"]
    data = _json(
        runner,
        "compare-results",
        str(tmp_path / "a" / "result.json"),
        str(tmp_path / "b" / "result.json"),
        "--html",
        str(tmp_path / "c.html"),
    )
    assert (tmp_path / "c.html").is_file()  # the page is written in JSON mode too
    assert data["first"]["engine"] == data["second"]["engine"] == "sim"
    operations = data["tables"][0]
    assert {"title", "columns", "rows"} <= set(operations) and operations["rows"]


def test_quota_plan(runner: CliRunner, tiny: str) -> None:
    data = _json(runner, "quota", "plan", tiny, "--regions", "r1,r2")
    assert {(r["region"], r["resource"], r["limit"]) for r in data} == {
        ("r1", "instances", 6),
        ("r2", "instances", 6),
    }
    assert data[0]["keystone_resource"]


def test_migrate(runner: CliRunner) -> None:
    args = ["edge-metro", "--vms-per-host", "1"]
    plan = _json(runner, "migrate", "evacuate", *args, "--solver", "greedy", "--no-simulate")
    assert plan["kind"] == "evacuate" and plan["moves"] and {"vm", "from", "to"} <= set(plan["moves"][0])
    advice = _json(runner, "migrate", "advise", *args, "--vm", "edge-part-dieu-vm00000")
    assert advice["rows"] and advice["columns"]
    follow = _json(runner, "migrate", "follow", "edge-metro", "--steps", "3")
    assert {r["policy"] for r in follow["rows"]}


def test_calibrate_refit(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The calibration's tables as data (a refit of a stored file, its fit skipped: tests/
    test_calibration.py runs it)."""
    from wanstack.bench import calibrate
    from wanstack.sim.calibration import load_calibration

    stored = tmp_path / "calibration.yaml"
    stored.write_bytes((Path(__file__).parent / "fixtures" / "calibration.yaml").read_bytes())
    monkeypatch.setattr(calibrate, "refit", load_calibration)
    tables = _json(runner, "calibrate", "--refit", "--out", str(stored))
    assert isinstance(tables, list) and tables
    assert all({"title", "columns", "rows"} <= set(t) for t in tables)
    assert any(t["rows"] for t in tables)
