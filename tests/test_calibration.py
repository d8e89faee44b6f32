"""Calibration files, as `wanstack calibrate` writes them, feed the simulator.

`fixtures/calibration.yaml` is a real calibration of this project's machine (2026-12-01, `wanstack
calibrate` with its defaults); `fixtures/calibration-first-format.yaml` is the same file as the first
format wrote it (flat keys), before the typed model. `fixtures/calibration-2026-12-02.yaml` is the
calibration of another session's machine, taken by `benchmarks/sim_vs_bench.py` between its bench
rounds (benchmarks/results/sim_vs_bench-2026-12-02/), which behaves otherwise: there a call 20 ms
apart costs about as much as one back to back, on the first nearly as much as one 200 ms apart."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import yaml

from wanstack.sim.calibration import SCHEMA_VERSION, Calibration, CalibrationError, Fitted, load_calibration
from wanstack.sim.params import Params

FIXTURES = Path(__file__).parent / "fixtures"
MEASURED = FIXTURES / "calibration.yaml"
FIRST_FORMAT = FIXTURES / "calibration-first-format.yaml"


MACHINES = ["calibration.yaml", "calibration-2026-12-02.yaml"]


def _fit(name: str) -> tuple[Calibration, Fitted]:
    from wanstack.sim.host_fit import derive

    cal = load_calibration(FIXTURES / name)
    return cal, derive(cal.measured, cal.cores)


@functools.cache
def _fits() -> dict[str, tuple[Calibration, Fitted]]:
    """Every stored machine's fit, one process each: 20 s each on a fast machine, a minute on a slow
    one (2026-12-02's evening), and nothing else runs meanwhile."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(len(MACHINES)) as pool:
        return dict(zip(MACHINES, pool.map(_fit, MACHINES), strict=True))


def fit_of(name: str) -> tuple[Calibration, Fitted]:
    """A stored calibration and its measured block fitted again (no broker)."""
    return _fits()[name]


@pytest.mark.parametrize("name", MACHINES)
def test_the_fit_derives_the_stored_parameters_from_the_stored_measurements(name: str) -> None:
    """No broker: the measured block alone gives the fitted parameters, to the stored digit."""
    cal, fitted = fit_of(name)
    assert fitted == cal.fitted


@pytest.mark.parametrize("name", MACHINES)
def test_each_machine_fit_gives_back_its_own_pairs_and_crowd(name: str) -> None:
    """Issue 20: one bench-host model fitted to two machines that behave unlike each other gives each
    its own lone pair's figures (calls, casts and notifications at every pause measured) and its
    crowd's, in the simulator on the calibration's set-up. Casts back to back are left out: their
    latency times the receiver's queue, which nothing fits."""
    from wanstack.sim.cases import simulate_case
    from wanstack.sim.host_fit import Trial, simulated_pair, star_case

    cal, fitted = fit_of(name)
    trial = Trial(fitted.messaging.apply(Params()), fitted.host.bench_host())
    for pair in cal.measured.pairs:
        if pair.kind == "cast" and pair.pause_ms == 0.0:
            continue
        p50 = float(np.percentile(simulated_pair(trial, pair.kind, pair.pause_ms), 50))
        # The pause's own figures are fitted each alone; the shorter pauses' share one warmth curve,
        # held to the bench's bar (calls back to back and every kind 20 ms apart at once).
        bar = 0.03 if pair.pause_ms == max(cal.measured.pauses(pair.kind)) else 0.15
        assert p50 == pytest.approx(pair.p50_ms, rel=bar), (pair.kind, pair.pause_ms, p50)
    crowd = cal.measured.crowd
    assert crowd is not None
    infra, case = star_case("call", crowd.pairs, crowd.pause_ms, 100)
    latencies = simulate_case(infra, case, trial.options())
    # Its p50 fits the crowding factor, its p95 the spread's, and the spread moves the p50 back; a
    # percentile of simulated calls moves in steps, so the fit lands within a few percent.
    assert float(np.percentile(latencies, 50)) == pytest.approx(crowd.p50_ms, rel=0.05)
    assert float(np.percentile(latencies, 95)) == pytest.approx(crowd.p95_ms, rel=0.15)


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
    flat = yaml.safe_load(FIRST_FORMAT.read_text())["params"]
    costs, host = old.fitted.messaging, old.fitted.host
    assert (costs.rpc_client_ms, costs.cast_client_ms, costs.notify_client_ms) == (
        flat["rpc_client_ms"],
        flat["cast_client_ms"],
        flat["notify_client_ms"],
    )
    assert costs.rpc_envelope_bytes == flat["rpc_envelope_bytes"]
    assert costs.broker_service_ms == flat["stations"]["rpc-broker"]["service_ms"]
    assert (host.end_cpu_ms, host.end_cv, host.relay_late_ms) == (
        flat["rpc_client_cpu_ms"],
        flat["rpc_client_cv"],
        flat["wan_overhead_ms"],
    )
    assert host.end_warmth == [tuple(p) for p in flat["end_warmth"]]
    assert host.end_crowding_spread == [tuple(p) for p in flat["end_crowding_spread"]]
    assert host.model == 1  # fitted before the bench-host model had versions


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


def test_a_fit_for_another_bench_host_model_is_refused_saying_how_to_fit_it_again(tmp_path: Path) -> None:
    """Issue 20 changed what the bench-host parameters mean: a file fitted before (no `model`, the
    first) would predict the bench with numbers fitted for another model, silently. Its messaging
    costs still serve a study; its bench host is refused until `calibrate --refit`."""
    from typer.testing import CliRunner

    from wanstack.cli import app

    document = yaml.safe_load(MEASURED.read_text())
    del document["fitted"]["host"]["model"]
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump(document, sort_keys=False))
    cal = load_calibration(old)
    assert cal.params() == load_calibration(MEASURED).params()
    with pytest.raises(CalibrationError, match="fitted for model 1"):
        cal.bench_host()
    runner = CliRunner()
    args = ["bench", "default", "--simulate", "--messages", "2", "--calibration", str(old)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "old.yaml" in result.output and "wanstack calibrate --refit" in result.output
    assert "Traceback" not in result.output
    assert runner.invoke(app, ["run", "default", "--calibration", str(old)]).exit_code == 0


def test_a_fit_at_the_edge_of_its_range_is_said() -> None:
    """A crowd far slower than its lone pairs (2026-12-02, an unsteady machine: eight pairs' p95 22.7
    ms against a lone pair's 8.5) drives the crowding fits to the top of their ranges, and a warm end
    may be fitted to cost nothing: `derive` says so instead of writing such a fit silently."""
    from dataclasses import replace

    from wanstack.sim.host_fit import CROWDING_MAX, CROWDING_SPREAD_MAX, END_CV_MAX, at_the_edge

    cal, fitted = fit_of("calibration-2026-12-02.yaml")
    host = fitted.host.bench_host()
    assert at_the_edge(host, cal.measured) == []
    crowded = replace(
        host,
        end_crowding=((3.0, 1.0), (31.0, CROWDING_MAX)),
        end_crowding_spread=((3.0, 1.0), (31.0, CROWDING_SPREAD_MAX)),
        end_warmth=((0.0, 0.0), *host.end_warmth[1:]),
    )
    problems = at_the_edge(crowded, cal.measured)
    assert len(problems) == 3
    assert "costs nothing" in problems[0]
    assert f"p50 ({cal.measured.crowd.p50_ms} ms)" in problems[1]  # type: ignore[union-attr]
    assert "p95" in problems[2]
    # A crowd faster than its lone pairs and lone calls with a long tail (2026-12-03: a slow spell
    # during the lone calls) drive the fits to the other ends.
    slow_spell = replace(
        host,
        end_cv=END_CV_MAX,
        end_crowding=((3.0, 1.0), (31.0, 0.0)),
        end_crowding_spread=((3.0, 1.0), (31.0, 0.0)),
    )
    problems = at_the_edge(slow_spell, cal.measured)
    assert len(problems) == 3
    assert "lone calls' p95" in problems[0] and "CV 3.0" in problems[0]
    assert all("bottom of its range" in p for p in problems[1:])
