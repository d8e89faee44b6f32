"""A boot replayed for real against the simulator's prediction, on the default scenario's shape (a
central site and edge sites, centralized model, one RabbitMQ at the centre) at 0, 10 and 25 ms one-way:
p50 of each, the simulator's error, and how fast each grows with the delay (ms per ms: WAN crossings).

    python benchmarks/workflow_replay.py [--calibration calibration.yaml] [--times 5] [--local-ms 100]

Without --calibration it runs `wanstack calibrate` first (about 6 min). `--local-ms` shortens the
host's own work (libvirt's spawn, 2 s by default) which both sides only sleep.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from wanstack.bench.calibrate import calibration_file
from wanstack.bench.replay import Replay, replay_params, simulated
from wanstack.scenario.load import parse
from wanstack.scenario.workload import OperationKind
from wanstack.sim.calibration import load_calibration


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calibration", type=Path)
    parser.add_argument("--times", type=int, default=5)
    parser.add_argument("--local-ms", type=float, default=100.0)
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 10.0, 25.0])
    parser.add_argument("--op", default="boot")
    args = parser.parse_args()
    cal = calibration_file(args.calibration)
    calibrated = load_calibration(cal)
    params = replay_params(calibrated.params(), args.local_ms)
    # The replay crosses the bench's relays (their late timers count); its roles are threads of one
    # process, whose CPU is not modelled.
    host = calibrated.bench_host(shared_cpu=False)
    op = OperationKind(args.op)
    print(
        f"{op.value} at edge-01, {args.times} after a warm-up, host work {args.local_ms:.0f} ms; "
        f"calibration {cal}"
    )
    print(f"{'delay':>6} {'bench p50':>10} {'sim p50':>9} {'error':>7}")
    rows = []
    for delay in args.delays:
        infra = parse(f"generate: {{kind: star, edges: 10, delay_ms: {delay}}}\n", "star.yaml")
        with Replay(infra, op, "edge-01", params) as replay:
            real = replay.run(args.times)
        sim = simulated(infra, op, "edge-01", args.times, params=params, host=host)
        b, s = float(np.percentile(real.latencies_ms, 50)), float(np.percentile(sim, 50))
        rows.append((delay, b, s))
        print(
            f"{delay:>4.0f}ms {b:>8.1f}ms {s:>7.1f}ms {(s - b) / b:>+7.1%}  failures {real.failures or 0}",
            flush=True,
        )
    for (d0, b0, s0), (d1, b1, s1) in itertools.pairwise(rows):
        bench, sim = (b1 - b0) / (d1 - d0), (s1 - s0) / (d1 - d0)
        print(
            f"{d0:.0f} -> {d1:.0f} ms: bench {bench:.1f} ms per ms, sim {sim:.1f} ms per ms "
            f"({(sim - bench) / bench:+.1%})"
        )


if __name__ == "__main__":
    main()
