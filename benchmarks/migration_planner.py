"""Planner time and plan quality for evacuations of 1k, 10k and 50k VMs, then the acceptance case
(edge-metro: 2,000 VMs off a 100-host site to its 3 nearest sites over 1–10 Gbit/s) planned and
simulated.

    python benchmarks/migration_planner.py [--sizes 1000 10000 50000] [--time-limit 20]

Each size evacuates one site of N VMs (20 per host) to three sites over 1, 2.5 and 10 Gbit/s links;
every solver that the size allows is timed (CP-SAT up to planner.CP_SAT_MAX_PAIRS pairs).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from wanstack.migration.fleet import generate
from wanstack.migration.planner import CP_SAT_MAX_PAIRS, Planning, evacuate
from wanstack.scenario.load import load, parse
from wanstack.sim.migrations import simulate_plan


def scenario(vms: int) -> str:
    hosts = max(1, vms // 20)
    return f"""
name: evacuate-{vms}
sites:
  - {{name: src, tier: edge, hosts: {{count: {hosts}}}}}
  - {{name: a, tier: edge, hosts: {{count: {hosts}}}}}
  - {{name: b, tier: regional, hosts: {{count: {hosts}}}}}
  - {{name: c, tier: central, hosts: {{count: {hosts}}}}}
links:
  - {{a: src, b: a, delay_ms: 1, bandwidth_mbps: 1gbit}}
  - {{a: src, b: b, delay_ms: 2, bandwidth_mbps: 2.5gbit}}
  - {{a: src, b: c, delay_ms: 5, bandwidth_mbps: 10gbit}}
run: {{seed: 1}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args()
    print(
        f"{'VMs':>7} {'solver':<16} {'plan time':>10} {'makespan':>10} {'bound':>10} {'gap':>7} "
        f"{'unplaced':>8}"
    )
    for n in args.sizes:
        infra = parse(scenario(n), f"evacuate-{n}.yaml")
        fleet = generate(infra, {"src": 20.0, "a": 8.0, "b": 8.0, "c": 8.0})
        count = len(fleet.at("src"))
        solvers = ["greedy"] + (["cp-sat"] if count * 3 <= CP_SAT_MAX_PAIRS else [])
        for solver in solvers:
            started = time.perf_counter()
            plan = evacuate(
                infra, fleet, "src", Planning(time_limit_s=args.time_limit, solver=solver), nearest=3
            )
            took = time.perf_counter() - started
            print(
                f"{count:>7,} {plan.solver:<16} {took:>9.1f}s {plan.makespan_s:>9.0f}s "
                f"{plan.lower_bound_s:>9.0f}s {plan.gap:>7.2%} {len(plan.unplaced):>8,}",
                flush=True,
            )
    print("\nacceptance: edge-metro, evacuate edge-part-dieu to its 3 nearest sites")
    infra = load("edge-metro")
    fleet = generate(infra, 20.0)
    started = time.perf_counter()
    plan = evacuate(infra, fleet, "edge-part-dieu", Planning(time_limit_s=args.time_limit), nearest=3)
    took = time.perf_counter() - started
    print(
        f"  {len(plan.moves):,} VMs planned in {took:.1f} s ({plan.solver}); "
        f"makespan {plan.makespan_s:.0f} s, "
        f"lower bound {plan.lower_bound_s:.0f} s, gap {plan.gap:.2%}, {plan.wan_bytes / 1e12:.2f} TB"
    )
    for key, r in sorted(plan.routes.items()):
        moved = [m for m in plan.moves if (m.src, m.dst) == key]
        print(
            f"  {key[0]} -> {key[1]}: {r.bandwidth_mbps / 1000:.1f} Gbit/s, {r.lanes} lanes, "
            f"{len(moved):,} VMs"
        )
    started = time.perf_counter()
    run = simulate_plan(infra, plan, fleet.by_id(), baseline=True)
    took = time.perf_counter() - started
    down = np.array([m.downtime_ms for m in run.moved])
    print(
        f"  simulated in {took:.1f} s: {len(run.moved):,} moved, makespan {run.makespan_s:.0f} s "
        f"({run.makespan_s / plan.makespan_s - 1:+.1%} against the plan); downtime p50 "
        f"{np.percentile(down, 50):.0f} ms, p95 {np.percentile(down, 95):.0f} ms, max {down.max():.0f} ms"
    )
    boots = {o.op: o for o in run.result.operations}.get("boot")
    base = {o.op: o for o in run.baseline.operations}.get("boot") if run.baseline else None
    if boots and base and boots.latency_ms and base.latency_ms:
        print(
            f"  boots meanwhile: p50 {boots.latency_ms.p50:.0f} ms, "
            f"without the plan {base.latency_ms.p50:.0f} ms"
        )


if __name__ == "__main__":
    main()
