"""The control plane's station times measured on the testbed (`wanstack testbed calibrate`): the fit
finds the level it was given, the file says where each figure comes from, and `run`, `compare`,
`sweep` and the Python API take it (`--calibration`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from wanstack import api
from wanstack.cli.main import app
from wanstack.results.schema import RunResult
from wanstack.scenario.load import parse
from wanstack.scenario.schema import StationSize
from wanstack.sim.calibration import CalibrationError, load_calibration
from wanstack.sim.control_plane import ControlPlaneCalibration
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sim.params import Params
from wanstack.testbed.calibration import TracedSplit, fit, level_of, stored_trace
from wanstack.testbed.trace import Trace

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHIPPED = ROOT / "src" / "wanstack" / "sim" / "calibrations" / "control-plane.yaml"
TRACED = ("boot", "delete", "pause", "unpause")
# The testbed's own scenario (benchmarks/testbed_wan.py): one edge site, the testbed's settings.
SCENARIO = """
name: testbed-wan-0ms
generate: {kind: star, edges: 1, delay_ms: 0, hosts: {count: 1}, center_hosts: {count: 0}}
model: centralized
openstack: {virt: fake, neutron: bind-all, notifications: none}
workload:
  images: [{name: cirros, size_mb: 1}]
  operations:
    - {op: boot, times: 5, concurrency: 1, sites: [edge-1]}
    - {op: delete, times: 5, concurrency: 1, sites: [edge-1], start_s: 600}
run: {duration_s: 1200, seed: 1}
"""
runner = CliRunner()


def _traces() -> list[tuple[Trace, str]]:
    return [(stored_trace(FIXTURES / f"trace-{op}-edge.json"), f"trace-{op}") for op in TRACED]


def _ground_truth(tmp_path: Path, factor: float) -> tuple[Path, Path, dict[str, float]]:
    """A scenario file, and a run of it (result.json) whose stations took the traced times × `factor`:
    what a fit must find again."""
    scenario = tmp_path / "testbed-wan.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    traced = TracedSplit.of(t for t, _ in _traces()).mean_ms()
    params = Params().with_overrides({k: StationSize(service_ms=v * factor) for k, v in traced.items()})
    result = simulate(parse(SCENARIO, "testbed-wan.yaml"), SimOptions(params=params))
    level = tmp_path / "result.json"
    level.write_text(result.model_dump_json(), encoding="utf-8")
    return scenario, level, traced


@pytest.mark.parametrize("factor", [0.4, 0.8])
def test_the_fit_finds_the_level_a_run_was_made_with(tmp_path: Path, factor: float) -> None:
    _, level, traced = _ground_truth(tmp_path, factor)
    measured = level_of(RunResult.model_validate_json(level.read_text()))
    assert set(measured) == {"boot", "delete"}
    cal = fit(parse(SCENARIO, "s.yaml"), _traces(), measured, level_source="x", date="d", settings={})
    assert cal.level_factor == pytest.approx(factor, rel=0.02)
    assert all(abs(p.error) < 0.02 for p in cal.level)
    for kind, t in cal.stations.items():
        assert t.traced_ms == pytest.approx(traced[kind])
        assert t.service_ms == pytest.approx(t.traced_ms * cal.level_factor)


def test_the_split_is_taken_per_station_over_every_traced_operation() -> None:
    split = TracedSplit.of(t for t, _ in _traces())
    # Every operation goes through nova-api and the conductor; only a boot schedules.
    assert set(split.operations["nova-api"]) == set(TRACED)
    assert split.operations["nova-scheduler"] == ["boot"]
    assert all(len(split.samples[k]) >= 1 for k in split.mean_ms())


def test_testbed_calibrate_writes_a_file_run_compare_and_sweep_take(tmp_path: Path) -> None:
    scenario, level, _ = _ground_truth(tmp_path, 0.6)
    out = tmp_path / "control-plane.yaml"
    traces = [arg for op in TRACED for arg in ("--trace", str(FIXTURES / f"trace-{op}-edge.json"))]
    made = runner.invoke(
        app, ["testbed", "calibrate", str(scenario), *traces, "--level", str(level), "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    assert "nova-conductor" in made.output and "× 0.6" in made.output
    cal = load_calibration(out)
    assert isinstance(cal, ControlPlaneCalibration)
    # Through the API: the file's station times, and nothing else, in place of the defaults.
    default = api.simulate(str(scenario)).result.operation("boot")
    calibrated = api.simulate(str(scenario), calibration=out).result.operation("boot")
    assert default is not None and calibrated is not None
    assert calibrated.latency_ms.p50 != default.latency_ms.p50
    expected = simulate(parse(SCENARIO, "s.yaml"), SimOptions(params=cal.params())).operation("boot")
    assert expected is not None and calibrated.latency_ms.p50 == expected.latency_ms.p50
    # The CLI's commands that simulate take it too.
    for command in (
        ["run", str(scenario), "--format", "json"],
        ["compare", str(scenario), "--models", "centralized", "--processes", "1", "--format", "json"],
        ["sweep", str(scenario), "--set", "run.seed=1", "--workers", "1", "--format", "json"],
    ):
        plain = runner.invoke(app, command)
        with_cal = runner.invoke(app, [*command, "--calibration", str(out)])
        assert plain.exit_code == 0 and with_cal.exit_code == 0, (plain.output, with_cal.output)
        assert json.loads(plain.stdout) != json.loads(with_cal.stdout), command


def test_the_shipped_calibration_says_where_each_figure_comes_from() -> None:
    cal = load_calibration(SHIPPED)
    assert isinstance(cal, ControlPlaneCalibration)
    assert cal.host and cal.cores >= 1 and cal.date[:4].isdigit() and cal.production
    for trace in cal.traces:
        assert (ROOT / trace.source).exists(), trace.source
    assert (ROOT / cal.level_source.split(" at ")[0]).exists()
    known = Params().stations
    for kind, t in cal.stations.items():
        assert kind in known
        assert t.service_ms == pytest.approx(t.traced_ms * cal.level_factor)
    # Fitted to its run: within 15 % of each of its operations.
    assert all(abs(p.error) < 0.15 for p in cal.level)


def test_a_bad_control_plane_file_is_named_and_refused(tmp_path: Path) -> None:
    document = yaml.safe_load(SHIPPED.read_text())
    del document["stations"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    with pytest.raises(CalibrationError, match=r"bad\.yaml.*testbed calibrate"):
        load_calibration(bad)
    # The bench's host model is not in it: predicting the bench with it is refused, clearly.
    with pytest.raises(CalibrationError, match="no bench host"):
        api.sim_options(SHIPPED, bench_host=True)


def test_calibrate_without_a_testbed_or_files_says_what_to_give(tmp_path: Path) -> None:
    scenario, _, _ = _ground_truth(tmp_path, 1.0)
    result = runner.invoke(app, ["testbed", "calibrate", str(scenario), "--folder", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no testbed is up" in result.output


def test_explain_says_where_each_station_time_comes_from() -> None:
    """The measured times name their machine and date (the shipped file's), the rest say they are
    assumed, and a scenario's own `stations:` time says it is the scenario's."""
    shipped = load_calibration(SHIPPED)
    assert isinstance(shipped, ControlPlaneCalibration)
    infra = api.load_scenario("default", {"stations.nova-api.service_ms": 3.0})
    stations = {t.kind: t for t in api.explain(infra, "boot").stations}
    assert {"nova-api", "neutron-server", "cell-database"} <= set(stations)
    neutron = stations["neutron-server"]
    assert neutron.service_ms == pytest.approx(shipped.stations["neutron-server"].service_ms)
    assert shipped.host in neutron.source and shipped.date in neutron.source
    assert stations["cell-database"].source.startswith("assumed")
    assert stations["nova-api"].service_ms == 3.0 and "scenario" in stations["nova-api"].source
    shown = runner.invoke(app, ["explain", "boot", "--site", "edge-01"])
    assert shown.exit_code == 0 and shipped.date in shown.output
