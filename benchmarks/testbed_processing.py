"""The simulator with the real control plane's processing, set beside the testbed delay by delay.

The stations' service times come from a control-plane calibration (`wanstack testbed calibrate`,
`wanstack.testbed.calibration.fit`): traced operations give the split between stations (by default the
stored traces of a boot, a delete, a pause and an unpause at an edge site, `tests/fixtures/trace-*-edge.json`)
and one factor on them the level, fitted to the first delay of a calibration run (`--level RUN.json`, a
`benchmarks/testbed_wan.py --json` run). The simulator is then set beside the testbed's p50 of
`TESTBED_WAN.json` at every delay — another run than the calibration's unless the same file is given, so
no figure compared was fitted. `--out FILE` writes the calibration (how wanstack's shipped default,
`wanstack/sim/calibrations/control-plane.yaml`, was made); `--calibration FILE` uses one instead of fitting.

    python benchmarks/testbed_processing.py TESTBED_WAN.json [--level RUN.json | --calibration F] [--out F]
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
from pathlib import Path

from testbed_wan import scenario  # the same scenario as the testbed's run (this folder)

from wanstack.scenario.load import parse
from wanstack.sim.calibration import load_calibration
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sim.params import Params
from wanstack.testbed.calibration import fit, stored_trace

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"
OPS = ("boot", "delete")
TRACED = ("boot", "delete", "pause", "unpause")


def simulated_p50(op: str, delay_ms: float, params: Params, times: int) -> float:
    found = simulate(
        parse(scenario(delay_ms, times), "testbed-wan.yaml"), SimOptions(params=params)
    ).operation(op)
    assert found is not None and found.latency_ms.p50 is not None
    return found.latency_ms.p50


def _in_repo(path: Path) -> str:
    """`path` as the repository names it, where it is in the repository."""
    full, repo = path.resolve(), FIXTURES.parent.parent.resolve()
    return str(full.relative_to(repo)) if full.is_relative_to(repo) else str(path)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("testbed", type=Path, help="testbed_wan.py --json output")
    parser.add_argument("--level", type=Path, help="another testbed_wan.py --json run: its first delay")
    parser.add_argument("--calibration", type=Path, help="a control-plane calibration instead of a fit")
    parser.add_argument("--out", type=Path, help="write the fitted calibration here")
    parser.add_argument(
        "--traces", type=Path, nargs="+", default=[FIXTURES / f"trace-{op}-edge.json" for op in TRACED]
    )
    parser.add_argument("--times", type=int, default=10)
    args = parser.parse_args()
    if args.calibration is not None:
        cal = load_calibration(args.calibration)
    else:
        level_file = args.level or args.testbed
        first = json.loads(level_file.read_text())[0]
        delay = float(first["delay_ms"])
        taken = [(stored_trace(path), _in_repo(path)) for path in args.traces]
        # The run's date: in its name (benchmarks/results/testbed_wan-YYYY-MM-DD…), else the file's.
        named = re.search(r"\d{4}-\d{2}-\d{2}", level_file.name)
        mtime = datetime.datetime.fromtimestamp(level_file.stat().st_mtime, datetime.UTC)
        cal = fit(
            parse(scenario(delay, args.times), "testbed-wan.yaml"),
            taken,
            {op: float(first[f"testbed_{op}_p50"]) for op in OPS},
            level_source=f"{_in_repo(level_file)} at {delay:g} ms",
            date=named[0] if named else mtime.date().isoformat(),
            settings={"virt": "fake", "neutron": "bind-all"},
        )
        if args.out is not None:
            cal.write(args.out)
            print(f"wrote {args.out}")
    params = cal.params()
    print("station service times (ms per request):")
    print(
        "  " + ", ".join(f"{kind} {params.station(kind).service_ms:.1f}" for kind in sorted(params.stations))
    )
    heads = ("boot testbed", "boot sim", "error", "delete testbed", "delete sim", "error")
    print(f"{'delay':>6} " + " ".join(f"{h:>15}" for h in heads))
    rows = json.loads(args.testbed.read_text())
    sims: dict[str, list[float]] = {op: [] for op in OPS}
    for row in rows:
        delay = float(row["delay_ms"])
        cells = []
        for op in OPS:
            sim = simulated_p50(op, delay, params, args.times)
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
