"""The simulator with the real control plane's processing, set beside the testbed delay by delay.

The stations' service times come from traced operations (`wanstack testbed trace --save`; by default
the stored traces of a boot and a delete at an edge site, `tests/fixtures/trace-*-edge.json`): each
station's own time per request on the operation's critical path. Traced runs are slower than untraced
ones (osprofiler writes every SQL statement to Redis), so the traces give the split between stations
and a calibration run gives the level: with `--calibrate RUN.json`, every station's time is scaled,
per operation, until the simulator's p50 at the calibration run's first delay (0 ms) is that run's.
The simulator is then set beside the testbed's p50 of `TESTBED_WAN.json` (a `benchmarks/testbed_wan.py
--json` run; another run than the calibration's, so no figure compared was fitted) at every delay.

    python benchmarks/testbed_processing.py TESTBED_WAN.json [--calibrate RUN.json] [--traces boot=F delete=F]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from testbed_wan import scenario  # the same scenario as the testbed's run (this folder)

from wanstack.scenario.load import parse
from wanstack.sim.engine import simulate
from wanstack.testbed.processing import mean_service_ms, service_times
from wanstack.testbed.trace import operation_spans, spans

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"
OPS = ("boot", "delete")


def simulated_p50(op: str, delay_ms: float, stations: dict[str, float], times: int) -> float:
    block = "stations:\n" + "".join(f"  {kind}: {{service_ms: {ms:.3f}}}\n" for kind, ms in stations.items())
    found = simulate(parse(scenario(delay_ms, times) + block, "testbed-wan.yaml")).operation(op)
    assert found is not None and found.latency_ms.p50 is not None
    return found.latency_ms.p50


def calibrated(op: str, stations: dict[str, float], delay_ms: float, p50: float, times: int) -> float:
    """The factor on every station's time that gives the simulator the testbed's p50 at `delay_ms`.
    At concurrency 1 the p50 is close to linear in the factor: a secant step or three settles it."""
    low, high = 0.5, 1.0
    f_low = simulated_p50(op, delay_ms, {k: v * low for k, v in stations.items()}, times) - p50
    f_high = simulated_p50(op, delay_ms, stations, times) - p50
    for _ in range(4):
        if f_high == f_low:
            break
        low, high = high, high - f_high * (high - low) / (f_high - f_low)
        f_low, f_high = (
            f_high,
            simulated_p50(op, delay_ms, {k: v * high for k, v in stations.items()}, times) - p50,
        )
        if abs(f_high) < 0.005 * p50:
            break
    return high


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("testbed", type=Path, help="testbed_wan.py --json output")
    parser.add_argument("--calibrate", type=Path, help="another testbed_wan.py --json run: its first delay")
    parser.add_argument(
        "--traces",
        nargs="+",
        default=[f"{op}={FIXTURES / f'trace-{op}-edge.json'}" for op in OPS],
    )
    parser.add_argument("--times", type=int, default=10)
    args = parser.parse_args()
    own: dict[str, dict[str, list[float]]] = {}
    for item in args.traces:
        op, _, path = item.partition("=")
        events = json.loads(Path(path).read_text())
        own[op] = service_times(op, operation_spans(op, spans([(e["site"], e) for e in events])))
    # Per operation: a boot's Neutron requests are mostly reads, a delete's are a port's deletion.
    stations = {op: mean_service_ms([times]) for op, times in own.items()}
    if args.calibrate is not None:
        first = json.loads(args.calibrate.read_text())[0]
        for op in OPS:
            factor = calibrated(
                op, stations[op], float(first["delay_ms"]), float(first[f"testbed_{op}_p50"]), args.times
            )
            print(f"{op}: the traced times × {factor:.3f} give the p50 at {first['delay_ms']:g} ms")
            stations[op] = {k: v * factor for k, v in stations[op].items()}
    print("station service times (ms per request on the critical path):")
    for op, times in stations.items():
        print(f"  {op}: " + ", ".join(f"{kind} {ms:.1f}" for kind, ms in times.items()))
    heads = ("boot testbed", "boot sim", "error", "delete testbed", "delete sim", "error")
    print(f"{'delay':>6} " + " ".join(f"{h:>15}" for h in heads))
    rows = json.loads(args.testbed.read_text())
    sims: dict[str, list[float]] = {op: [] for op in OPS}
    for row in rows:
        delay = float(row["delay_ms"])
        cells = []
        for op in OPS:
            sim = simulated_p50(op, delay, stations[op], args.times)
            sims[op].append(sim)
            real = float(row[f"testbed_{op}_p50"])
            cells += [f"{real:>15,.0f}", f"{sim:>15,.0f}", f"{sim / real - 1:>+15.0%}"]
        print(f"{delay:>5g}ms " + " ".join(cells))
    first, last = rows[0], rows[-1]
    span = float(last["delay_ms"]) - float(first["delay_ms"])
    for op in OPS:
        real = (float(last[f"testbed_{op}_p50"]) - float(first[f"testbed_{op}_p50"])) / span
        sim = (sims[op][-1] - sims[op][0]) / span
        print(
            f"{op}: growth {first['delay_ms']:g} -> {last['delay_ms']:g} ms: testbed {real:.1f}, "
            f"sim {sim:.1f} ms per ms ({sim / real - 1:+.0%})"
        )


if __name__ == "__main__":
    main()
