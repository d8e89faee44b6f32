"""Calibration files, as `wanstack calibrate` writes them, feed the simulator.

`fixtures/calibration.yaml` is a real calibration of this project's machine (2026-12-01, `wanstack
calibrate` with its defaults); `fixtures/calibration-first-format.yaml` is the same file as the first
format wrote it (flat keys), before the typed model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from wanstack.sim.calibration import SCHEMA_VERSION, CalibrationError, load_calibration
from wanstack.sim.params import Params

FIXTURES = Path(__file__).parent / "fixtures"
MEASURED = FIXTURES / "calibration.yaml"
FIRST_FORMAT = FIXTURES / "calibration-first-format.yaml"


def test_the_fit_derives_the_stored_parameters_from_the_stored_measurements() -> None:
    """No broker: the measured block alone gives the fitted parameters, to the stored digit."""
    from wanstack.bench.calibrate import derive

    cal = load_calibration(MEASURED)
    assert derive(cal.measured, cal.cores) == cal.fitted


def test_a_study_takes_the_messaging_costs_and_only_a_bench_prediction_takes_the_host() -> None:
    cal = load_calibration(MEASURED)
    params = cal.params()
    costs = cal.fitted.messaging
    assert (params.rpc_client_ms, params.cast_end_ms, params.notify_end_ms) == (
        costs.rpc_client_ms,
        costs.cast_client_ms,
        costs.notify_client_ms,
    )
    assert params.station("rpc-broker").service_ms == costs.broker_service_ms
    assert params.station("notification-broker").workers == costs.broker_workers == cal.cores
    assert params.rpc_envelope_bytes == costs.rpc_envelope_bytes
    assert params.station("nova-conductor") == Params().station("nova-conductor")  # not measured
    host = cal.bench_host()
    assert host.cores == cal.cores and host.relay_late_ms == cal.fitted.host.relay_late_ms > 0
    assert host.end_warmth == tuple(cal.fitted.host.end_warmth)
    assert cal.bench_host(shared_cpu=False).cores is None  # the replay: relays' timers only


def test_a_first_format_file_is_read_as_it_meant() -> None:
    old, new = load_calibration(FIRST_FORMAT), load_calibration(MEASURED)
    assert old.measured == new.measured
    assert old.fitted == new.fitted


def test_a_calibration_file_survives_writing_and_reading(tmp_path: Path) -> None:
    cal = load_calibration(FIRST_FORMAT)
    cal.write(tmp_path / "c.yaml")
    assert yaml.safe_load((tmp_path / "c.yaml").read_text())["schema_version"] == SCHEMA_VERSION
    assert load_calibration(tmp_path / "c.yaml") == cal


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[1, 2", "cannot read it"),
        ("rpc_client_ms: 0.3\n", "not a calibration file"),
        ("schema_version: 9\nmeasured: {}\n", "format 9 is newer"),
        ("schema_version: 2\nmeasured: {pairs: []}\n", "not a valid calibration file"),
        ("measured: {call_0ms_pause_p50_ms: 1.0}\n", "not a valid calibration file"),
    ],
)
def test_what_is_not_a_calibration_is_refused_saying_why(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CalibrationError, match=says):
        load_calibration(path)


def test_the_cli_refuses_a_bad_calibration_file_cleanly(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from wanstack.cli import app

    bad = tmp_path / "c.yaml"
    bad.write_text("rpc_client_ms: 0.3\n")
    for args in (["run", "default", "--calibration", str(bad)], ["calibrate", "--refit", "--out", str(bad)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "not a calibration file" in result.output
        assert "Traceback" not in result.output


def test_bench_simulate_and_compare_results(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from wanstack.cli import app

    runner = CliRunner()
    first = runner.invoke(
        app, ["bench", "default", "--simulate", "--messages", "5", "--out", str(tmp_path / "a")]
    )
    assert first.exit_code == 0, first.output
    assert "tc1-call" in first.output and "tc3-fanout" in first.output
    runner.invoke(app, ["bench", "default", "--simulate", "--messages", "5", "--out", str(tmp_path / "b")])
    both = runner.invoke(
        app, ["compare-results", str(tmp_path / "a" / "result.json"), str(tmp_path / "b" / "result.json")]
    )
    assert both.exit_code == 0, both.output
    assert "+0.0%" in both.output  # same seed, same simulator: no difference
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert runner.invoke(app, ["compare-results", str(bad), str(bad)]).exit_code == 2
