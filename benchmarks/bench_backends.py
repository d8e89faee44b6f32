"""The messaging test cases benched on every bus this machine can run, with the simulator beside each:
one RabbitMQ at the central site (centralized), a RabbitMQ per cell (cells-shared) or per region
(region-per-site), a RabbitMQ cluster with a member at the centre and at two edges, and a router per
site (the router-mesh model on NATS servers). A star of a central site and `--edges` edge sites at
`--delay` ms one-way; per case the p50 and p95 of both engines and the simulator's error, and the
WAN messages and bytes per message of the bench.

    python benchmarks/bench_backends.py [--calibration calibration.yaml] [--edges 4] [--delay 10]

Without --calibration it runs `wanstack calibrate` first (about 6 min). Needs rabbitmq-server and
nats-server (installed by `make test`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from wanstack.bench.calibrate import calibration_file
from wanstack.bench.scenario_bench import bench_scenario, scenario_cases
from wanstack.results.schema import RunResult
from wanstack.scenario.load import parse
from wanstack.sim.calibration import load_calibration
from wanstack.sim.cases import simulate_cases
from wanstack.sim.engine import SimOptions

BUSES = {
    "one RabbitMQ (centralized)": "model: centralized\n",
    "RabbitMQ per cell (cells-shared)": "model: cells-shared\n",
    "RabbitMQ per region (region-per-site)": "model: region-per-site\n",
    "RabbitMQ cluster, 3 members": (
        "messaging: {rpc: broker-cluster}\nplacement: {rpc-bus: [central, edge-1, edge-2]}\n"
    ),
    "NATS server per site (router mesh)": "model: centralized-router-mesh\n",
}


def wan(result: RunResult) -> tuple[float, float]:
    messages = sum(x.messages_ab + x.messages_ba for x in result.links)
    nbytes = sum(x.bytes_ab + x.bytes_ba for x in result.links)
    return messages, nbytes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calibration", type=Path)
    parser.add_argument("--edges", type=int, default=4)
    parser.add_argument("--delay", type=float, default=10.0)
    parser.add_argument("--messages", type=int, default=20, help="messages per client and case")
    args = parser.parse_args()
    cal = calibration_file(args.calibration)
    calibrated = load_calibration(cal)
    options = SimOptions(params=calibrated.params(), host=calibrated.bench_host())
    print(f"central + {args.edges} edge sites at {args.delay:.0f} ms one-way; calibration {cal}")
    head = f"{'case':<11} {'bench p50':>10} {'sim p50':>9} {'err':>7}"
    head += f" {'bench p95':>10} {'sim p95':>9} {'err':>7}"
    for name, model in BUSES.items():
        text = f"generate: {{kind: star, edges: {args.edges}, delay_ms: {args.delay}}}\n{model}"
        infra = parse(text, "backends.yaml")
        cases = scenario_cases(infra, messages=args.messages)
        start = time.perf_counter()
        bench = bench_scenario(infra, cases)
        took = time.perf_counter() - start
        sim = simulate_cases(infra, cases, options)
        print(f"\n{name}: benched in {took:.0f} s")
        print(f"{head} {'WAN B/msg':>10} {'fail':>5}")
        for real, model_op in zip(bench.operations, sim.operations, strict=True):
            b50, b95 = real.latency_ms.p50 or 0.0, real.latency_ms.p95 or 0.0
            s50, s95 = model_op.latency_ms.p50 or 0.0, model_op.latency_ms.p95 or 0.0
            per_msg = (real.wan_bytes_per_op or 0.0) if real.succeeded else 0.0
            print(
                f"{real.op:<11} {b50:>8.2f}ms {s50:>7.2f}ms {(s50 - b50) / b50:>+7.1%} "
                f"{b95:>8.2f}ms {s95:>7.2f}ms {(s95 - b95) / b95:>+7.1%} "
                f"{per_msg:>10.0f} {real.failed:>5}"
            )
        (bench_msgs, bench_bytes), (sim_msgs, sim_bytes) = wan(bench), wan(sim)
        jobs = sum(s.jobs for s in bench.stations)
        sim_jobs = sum(s.jobs for s in sim.stations)
        print(
            f"{'all cases':<11} WAN messages bench {bench_msgs:.0f} / sim {sim_msgs:.0f}, "
            f"WAN bytes bench {bench_bytes / 1e3:.0f} kB / sim {sim_bytes / 1e3:.0f} kB, "
            f"bus deliveries bench {jobs} / sim {sim_jobs}",
            flush=True,
        )


if __name__ == "__main__":
    main()
