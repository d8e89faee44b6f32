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
