"""What a careless or hostile command line gets: non-finite numbers refused before any work with the
option or field named, `--out` onto a file refused without a traceback, and JSON files that every
JSON parser reads (no bare NaN or Infinity)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from wanstack.cli.main import app
from wanstack.results.json_text import json_text

runner = CliRunner(env={"COLUMNS": "200"})  # error boxes wide enough to keep a message on one line


def _strict(text: str) -> Any:
    """JSON as JavaScript's JSON.parse reads it: NaN and Infinity are errors."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["inventory", "--at", "nan"], "--at"),
        (["inventory", "--at", "inf"], "--at"),
        (["migrate", "rebalance", "--budget-gb", "inf"], "--budget-gb"),
        (["migrate", "advise", "--site", "edge-01", "--max-users-rtt", "nan"], "--max-users-rtt"),
        (["migrate", "evacuate", "--vms-per-host", "-inf"], "--vms-per-host"),  # an option of a group
    ],
)
def test_a_non_finite_option_is_refused_naming_it(argv: list[str], option: str) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert option in result.output and "finite" in result.output
    assert "Traceback" not in result.output


def test_every_command_checks_its_numbers() -> None:
    """The guard is on every command, present and future: each callback is the checked wrapper."""

    def commands(group: typer.Typer) -> list[Any]:
        found = [c.callback for c in group.registered_commands]
        for sub in group.registered_groups:
            assert sub.typer_instance is not None
            found += commands(sub.typer_instance)
        return found

    callbacks = commands(app)
    assert len(callbacks) > 20
    assert all(getattr(c, "__name__", "") and hasattr(c, "__wrapped__") for c in callbacks)


def test_an_infinite_default_is_not_refused() -> None:
    """migrate advise's --max-users-rtt is unbounded by default (inf): not the user's input."""
    assert runner.invoke(app, ["migrate", "advise", "--site", "edge-01"]).exit_code == 0


def test_a_non_finite_scenario_field_is_located(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: x\ngenerate: {kind: star, edges: 1, delay_ms: .inf}\nrun: {duration_s: .nan}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert "s.yaml:2:" in result.output and "generate.delay_ms" in result.output
    assert "s.yaml:3:" in result.output and "finite" in result.output
    # --set goes through the same validation.
    refused = runner.invoke(app, ["run", "default", "--set", "links.delay_ms=inf"])
    assert refused.exit_code == 2 and "delay_ms" in refused.output and "inf" in refused.output


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "default"],
        ["compare", "default", "--models", "centralized"],
        ["sweep", "default", "--set", "run.seed=1"],
    ],
)
def test_out_onto_a_file_is_refused_before_any_work(tmp_path: Path, argv: list[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine", encoding="utf-8")
    result = runner.invoke(app, [*argv, "--out", str(taken)])
    assert result.exit_code == 2, result.output
    assert "is a file" in result.output and "Traceback" not in result.output
    assert taken.read_text(encoding="utf-8") == "mine"


def test_json_files_hold_no_nan() -> None:
    text = json_text({"downtime_ms": float("nan"), "rows": [1.5, float("inf"), (float("-inf"),)]})
    assert _strict(text) == {"downtime_ms": None, "rows": [1.5, None, [None]]}


def test_a_plan_written_with_non_finite_figures_is_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`migrate evacuate --out` wrote bare NaN (309 of them) for figures that have none."""
    from wanstack.report import migration

    monkeypatch.setattr(
        migration, "plan_document", lambda plan, run: {"moves": [{"downtime_ms": float("nan")}]}
    )
    out = migration.write_plan(None, tmp_path, None)  # type: ignore[arg-type]
    assert _strict(out.read_text(encoding="utf-8")) == {"moves": [{"downtime_ms": None}]}


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "X"],
        ["compare", "X", "--models", "centralized"],
        ["sweep", "X", "--set", "run.seed=1,2"],
    ],
)
def test_a_run_nobody_would_wait_for_is_refused_with_its_cost(tmp_path: Path, argv: list[str]) -> None:
    """A scenario that validates but would simulate for centuries (run.duration_s: 1e15) used to run
    silently, its memory growing: it is refused with the estimate unless --force."""
    scenario = tmp_path / "long.yaml"
    scenario.write_text(
        "name: long\ngenerate: {kind: star, edges: 2, hosts: {count: 100}}\nrun: {duration_s: 1e15}\n",
        encoding="utf-8",
    )
    argv = [str(scenario) if a == "X" else a for a in argv]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert "events" in result.output and "years" in result.output and "--force" in result.output


def test_the_cost_estimate_is_the_right_order_of_magnitude() -> None:
    from wanstack import api

    for name, overrides in (
        ("default", {}),
        ("default", {"run.duration_s": 3600, "workload.operations": []}),
    ):
        infra = api.load_scenario(name, overrides)
        events = api.simulate(infra).result.events
        assert events is not None
        assert 0.5 < api.cost(infra).events / events < 2.0


def test_progress_is_a_line_now_and_then_where_no_bar_can_be_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI log or a pipe gets no bar from rich: a long run says where it is every so often."""
    import io

    from rich.console import Console

    from wanstack.cli import output

    out = io.StringIO()
    monkeypatch.setattr(output, "errors", Console(file=out, force_terminal=False))  # stderr under CI
    monkeypatch.setattr(output.LoggedProgress, "LINE_EVERY_S", 0.0)
    bar, task = output.progress_bar(10.0, "simulating x")
    with bar:
        bar.update(task, completed=5.0)
    assert "simulating x: 50 %" in out.getvalue()


def test_a_random_mesh_too_large_to_build_is_refused_at_once(tmp_path: Path) -> None:
    """100,000 random-geometric sites validated for over a minute and 310 MB before anything ran."""
    scenario = tmp_path / "mesh.yaml"
    scenario.write_text("name: mesh\ngenerate: {kind: random-geometric, sites: 100000}\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert "mesh.yaml:2:" in result.output and "generate.sites" in result.output


def test_a_stopped_sweep_says_what_it_kept_and_a_resumed_one_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during a sweep said nothing of the runs kept, and a resumed sweep nothing of resuming."""
    import wanstack.api

    def stopped(*_: object, on_done: Callable[[int, int], None], **__: object) -> None:
        on_done(1, 4)  # one run in the journal already
        on_done(2, 4)
        raise KeyboardInterrupt

    monkeypatch.setattr(wanstack.api, "sweep", stopped)
    argv = ["sweep", "default", "--set", "links.delay_ms=0,25", "--seeds", "2", "--out", str(tmp_path)]
    shown = runner.invoke(app, argv)
    assert shown.exit_code == 130
    said = " ".join(shown.output.split())
    assert "resuming from" in said and "1 of 4 runs already done" in said
    assert "stopped: 2 of 4 runs done, kept in" in said and "run the same command to resume" in said


def test_the_sweep_table_gives_the_rtt_and_failures_per_run() -> None:
    """The table showed the swept one-way delay where the page shows the RTT, and summed failures over
    seeds beside p50s averaged over them."""
    import pandas as pd

    from wanstack.report.sweep import sweep_table

    rows = pd.DataFrame(
        {
            "links_delay_ms": [25, 25],
            "seed": [1, 2],
            "op": ["boot", "boot"],
            "rtt_ms": [50.0, 50.0],
            "p50_ms": [100.0, 200.0],
            "p95_ms": [300.0, 400.0],
            "failed": [10, 0],
        }
    )
    console = Console(width=120, record=True)
    console.print(sweep_table(rows, ["links_delay_ms"], "t"))
    line = next(x for x in console.export_text().splitlines() if "boot" in x)
    assert [c.strip() for c in line.split("│")[3:7]] == ["50.0", "150.0", "350.0", "5.0"]
