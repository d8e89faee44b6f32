"""The simulator against the real bench on the default scenario (a central site and 10 edge sites,
centralized model, one RabbitMQ at the central site), for the messaging test cases at 0, 10 and 25 ms
one-way: p50 and p95 of each, and the simulator's relative error.

    python benchmarks/sim_vs_bench.py [--calibration calibration.yaml] [--messages 20] [--repeat 3]

Without --calibration it runs `wanstack calibrate` first (about 4 min). Needs rabbitmq-server
(installed by `make test`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from wanstack.bench.calibrate import calibration_file, load_calibration
from wanstack.bench.cases import Bus, CaseResult, run_case
from wanstack.bench.rabbit import RabbitNode
from wanstack.scenario.load import load, parse
from wanstack.scenario.testplan import DEFAULT_PAUSE_MS, default_cases
from wanstack.sim.cases import simulate_case
from wanstack.sim.engine import SimOptions


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calibration", type=Path)
    parser.add_argument("--messages", type=int, default=20, help="messages per client and case")
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 10.0, 25.0])
    parser.add_argument("--cases", nargs="+", help="only these cases (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="bench runs per case, pooled")
    parser.add_argument(
        "--pause", type=float, default=DEFAULT_PAUSE_MS, help="ms between a client's messages"
    )
    args = parser.parse_args()
    cal = calibration_file(args.calibration)
    # The bench runs every site's processes on this one machine: the simulator shares its cores likewise.
    options = SimOptions(params=load_calibration(cal, bench_host=True))
    default = load("default")
    top = default.placement.top_site
    edges = [s for s in default.sites if s != top]
    print(f"default scenario: {top} + {len(edges)} edge sites; calibration {cal}")
    columns = f"{'bench p50':>10} {'sim p50':>9} {'err':>7} {'bench p95':>10} {'sim p95':>9} {'err':>7}"
    print(f"{'delay':>6} {'case':<11} {columns} {'n':>5} {'fail':>4} {'dup':>4}  bench p50 per run")
    with RabbitNode(name="wanstack-sim-vs-bench") as broker:
        for delay in args.delays:
            infra = parse(f"generate: {{kind: star, edges: {len(edges)}, delay_ms: {delay}}}\n", "star.yaml")
            cases = [
                case
                for case in default_cases(top, edges, messages=args.messages, pause_ms=args.pause)
                if not args.cases or case.name in args.cases
            ]
            # Several runs pooled: one bench run moves by 10-20 % from run to run on 2 shared cores.
            # Rounds over all cases, not one case's runs back to back, so that a drift of the machine
            # (other tenants, its memory reclaim) falls on every case alike.
            runs: dict[str, list[CaseResult]] = {case.name: [] for case in cases}
            for _ in range(args.repeat):
                for case in cases:
                    runs[case.name].append(
                        run_case(Bus.single(broker, top, dict.fromkeys(edges, delay)), case)
                    )
            for case in cases:
                done = runs[case.name]
                latencies = [x for r in done for x in r.latencies_ms]
                sim = simulate_case(infra, case, options)
                b50, b95 = np.percentile(latencies, [50, 95])
                spread = [float(np.percentile(r.latencies_ms, 50)) for r in done]
                s50, s95 = np.percentile(sim, [50, 95])
                print(
                    f"{delay:>4.0f}ms {case.name:<11} {b50:>8.2f}ms {s50:>7.2f}ms {(s50 - b50) / b50:>+7.1%} "
                    f"{b95:>8.2f}ms {s95:>7.2f}ms {(s95 - b95) / b95:>+7.1%} {len(latencies):>5} "
                    f"{sum(r.failures for r in done):>4} {sum(r.duplicates for r in done):>4}"
                    f"  {min(spread):.2f}-{max(spread):.2f}ms",
                    flush=True,
                )


if __name__ == "__main__":
    main()
