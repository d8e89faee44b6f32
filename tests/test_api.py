"""The Python API, results as data (flat CSV, samples, load_dir, the results schema), overrides, SLA
and sweeps (local workers and a real Dask cluster on loopback)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import wanstack
from wanstack.cli import app
from wanstack.report import files
from wanstack.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SMALL = {
    "name": "small",
    "generate": {
        "kind": "star",
        "edges": 3,
        "delay_ms": 25,
        "hosts": {"count": 4},
        "center_hosts": {"count": 2},
    },
    "workload": {"operations": [{"op": "boot", "times": 12, "concurrency": 3}]},
    "faults": [
        {"at_s": 100, "action": "cut-link", "link": ["central", "edge-1"]},
        {"at_s": 200, "action": "restore-link", "link": ["central", "edge-1"]},
    ],
    "run": {"duration_s": 300, "seed": 3},
}
runner = CliRunner()


def test_the_documented_notebook_runs() -> None:
    """docs/python-api.md's code blocks, in order, in one namespace: the page runs as written."""
    text = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/python-api.md", "exec"), namespace)
    assert "headline" in namespace


def test_every_function_the_page_names_for_a_command_exists() -> None:
    """docs/python-api.md's table of commands and functions names only what `wanstack.api` has, each
    function with a docstring."""
    import importlib

    text = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `") and "`wanstack.api" in line]
    assert len(rows) >= 6
    for row in rows:
        cell = row.split("|")[2]
        module, _, names = cell.partition(":")
        found = importlib.import_module(module.strip(" `"))
        for name in re.findall(r"`(\w+)`", names):
            function = getattr(found, name)
            assert callable(function) and function.__doc__, (module, name)


def test_overrides_reach_written_and_generated_links() -> None:
    generated = wanstack.load_scenario(SMALL, {"links.delay_ms": 7, "links.bandwidth_mbps": 50})
    assert {(link.delay_ab_ms, link.bandwidth_mbps) for link in generated.links} == {(7.0, 50.0)}
    written = {
        "sites": [
            {"name": "a", "tier": "central", "hosts": {"count": 1}},
            {"name": "b", "tier": "edge", "hosts": {"count": 1}},
        ],
        "links": [{"a": "a", "b": "b", "delay_ms": 3}],
    }
    infra = wanstack.load_scenario(written, {"links.0.delay_ms": 9, "model": "region-per-site"})
    assert infra.links[0].delay_ab_ms == 9.0
    assert infra.model.name == "region-per-site"


def test_a_bad_override_is_a_located_problem() -> None:
    with pytest.raises(ScenarioError) as err:
        wanstack.load_scenario(SMALL, {"links.colour": "blue"})
    assert "override links.colour" in err.value.problems[0].message
    with pytest.raises(ScenarioError) as err:
        wanstack.load_scenario(SMALL, {"run.duration_s": -5})
    assert err.value.problems[0].field() == "run.duration_s"


def test_csv_cells_are_flat_and_stale_files_go(tmp_path: Path) -> None:
    run = wanstack.simulate(SMALL)
    (tmp_path / "quotas.csv").write_text("from an older run\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    written = {p.name for p in run.save(tmp_path)}
    assert {"operations.csv", "faults.csv", "samples.csv"} <= written
    assert not (tmp_path / "quotas.csv").exists()  # this run has no quotas: the old table is gone
    assert (tmp_path / "notes.txt").exists()  # files wanstack never writes are left alone
    for table in tmp_path.glob("*.csv"):
        with table.open(encoding="utf-8") as fh:
            for row in csv.reader(fh):
                assert not any(cell.startswith(("{", "[")) for cell in row), (table.name, row)
    with (tmp_path / "faults.csv").open(encoding="utf-8") as fh:
        fault = next(csv.DictReader(fh))
    assert fault["isolated_sites"] == "edge-1"
    with (tmp_path / "operations.csv").open(encoding="utf-8") as fh:
        boot = next(csv.DictReader(fh))
    assert float(boot["p50_ms"]) == run.result.operations[0].latency_ms.p50


def test_load_dir_gives_back_the_run_with_its_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = wanstack.simulate(SMALL)
    assert len(run.samples) == sum(o.submitted for o in run.result.operations)
    run.save(tmp_path / "csv")
    monkeypatch.setattr(files, "PARQUET_ABOVE", 5)  # a large run's samples go to Parquet
    run.save(tmp_path / "parquet")
    assert (tmp_path / "parquet" / "samples.parquet").exists()
    for folder in ("csv", "parquet"):
        back = wanstack.load_dir(tmp_path / folder)
        assert isinstance(back, wanstack.Run)
        assert back.result.model_copy(update={"wall_time_s": None}) == run.result.model_copy(
            update={"wall_time_s": None}
        )
    both = wanstack.load_dir(tmp_path)
    assert isinstance(both, wanstack.Runs)
    assert sorted(both.operations["run"]) == ["csv", "parquet"]


def test_results_schema_is_published() -> None:
    out = runner.invoke(app, ["schema", "--results"])
    assert out.exit_code == 0, out.output
    document = json.loads(out.output)
    assert {"operations", "links", "faults", "sla"} <= set(document["properties"])
    assert "samples" not in document["properties"]  # not in result.json


def test_sla_fails_the_run_with_exit_code_1(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        json.dumps({**SMALL, "faults": [], "sla": {"boot": {"p95_s": 6, "failure_rate_pct": 1}}}),
        encoding="utf-8",
    )
    page = tmp_path / "run.html"
    slow = runner.invoke(app, ["run", str(scenario), "--set", "links.delay_ms=80", "--html", str(page)])
    assert slow.exit_code == 1, slow.output
    assert "SLA: FAILED" in slow.output
    assert "SLA: 1 of 2 criteria FAILED" in page.read_text(encoding="utf-8")  # the report shows it too
    fast = runner.invoke(app, ["run", str(scenario), "--set", "links.delay_ms=1"])
    assert fast.exit_code == 0, fast.output
    assert "SLA: passed" in fast.output


def test_sla_on_an_operation_never_run_fails() -> None:
    run = wanstack.simulate({**SMALL, "sla": {"delete": {"p50_s": 10}, "*": {"max_s": 600}}})
    checks = {(c.op, c.criterion): c.passed for c in run.result.sla}
    assert checks == {("delete", "submitted"): False, ("boot", "max_s"): True}
    with pytest.raises(ScenarioError) as err:
        wanstack.load_scenario({**SMALL, "sla": {"reboot": {"p50_s": 1}}})
    assert "sla" in err.value.problems[0].field()


GRID = {"links.delay_ms": [0, 40], "model": ["centralized", "region-per-site"]}


def test_sweep_is_the_same_on_one_or_two_workers_and_resumes(tmp_path: Path) -> None:
    serial = wanstack.sweep(SMALL, GRID, seeds=2, workers=1)
    assert len(serial) == 8  # 2 × 2 × 2 runs, one operation each
    assert list(serial.seed.unique()) == [3, 4]
    assert (
        serial.query("model == 'centralized'").groupby("links_delay_ms").p50_ms.mean().is_monotonic_increasing
    )
    parallel = wanstack.sweep(SMALL, GRID, seeds=2, workers=2, out=tmp_path)
    assert parallel.equals(serial)
    journal = tmp_path / "sweep.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines()
    journal.write_text("\n".join(lines[:5]) + '\n{"key": "cut sho', encoding="utf-8")  # stopped mid-write
    started: list[int] = []
    resumed = wanstack.sweep(SMALL, GRID, seeds=2, out=tmp_path, on_done=lambda done, _: started.append(done))
    assert started[0] == 5  # five runs were already done and kept
    assert resumed.equals(serial)


def test_sweep_command_writes_parquet_and_csv(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(json.dumps(SMALL), encoding="utf-8")
    out = runner.invoke(
        app,
        [
            "sweep",
            str(scenario),
            "--set",
            "links.delay_ms=0,40",
            "--set",
            "backend=broker,brokerless",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert out.exit_code == 0, out.output
    import pandas as pd

    table = pd.read_parquet(tmp_path / "o" / "sweep.parquet")
    assert set(table["backend"]) == {"broker", "brokerless"}
    assert set(table["rpc_backend"]) == {"broker", "brokerless"}
    assert pd.read_csv(tmp_path / "o" / "sweep.csv").shape == table.shape
    bad = runner.invoke(app, ["sweep", str(scenario), "--set", "model=centralised"])
    assert bad.exit_code == 2


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A real Dask scheduler and two one-thread workers on loopback, stopped even on failure."""
    from wanstack.sweeps.cluster import local_cluster

    with local_cluster(2, tmp_path / "dask") as address:
        yield address


@pytest.mark.slow
def test_sweep_on_a_real_dask_cluster_matches_local_workers(dask_cluster: str) -> None:
    local = wanstack.sweep(SMALL, GRID, seeds=2, workers=2)
    remote = wanstack.sweep(SMALL, GRID, seeds=2, scheduler=dask_cluster)
    assert remote.equals(local)
