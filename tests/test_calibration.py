"""Calibration files, as `wanstack calibrate` writes them, feed the simulator."""

from __future__ import annotations

from pathlib import Path


def test_calibration_file_feeds_the_simulator(tmp_path: Path) -> None:
    """A calibration written in `wanstack calibrate`'s format changes the simulator's parameters."""
    import yaml

    from wanstack.bench.calibrate import load_calibration

    path = tmp_path / "calibration.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "params": {
                    "rpc_client_ms": 0.3,
                    "wan_overhead_ms": 0.4,
                    "stations": {"rpc-broker": {"workers": 2, "service_ms": 0.22}},
                }
            }
        )
    )
    params = load_calibration(path)
    assert (params.rpc_client_ms, params.wan_overhead_ms) == (0.3, 0.4)
    assert params.station("rpc-broker").service_ms == 0.22


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
