"""Scale: a hierarchy of 1,000 sites × 100 hosts (100,000 compute hosts with their neutron agents)
under the centralized and the cells models, OpenStack's default background periods, and a boot
workload of 1,000 servers; one simulated hour. Prints wall time, events/s, peak RSS and the
per-operation results; the wall time at 10k, 30k and 100k hosts and their ratios; and the boot p50
at 10k hosts with the fluid background against every host simulated on its own.

    python benchmarks/scale.py                # everything (about 5 minutes on 2 cores)
    python benchmarks/scale.py --quick        # 10 simulated minutes instead of an hour
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

HOSTS_PER_SITE = 100

# A control plane sized for 100,000 hosts: each station's workers set so the centralized model's
# background load stays under ~70 % (broker ≈ 33k msg/s × 0.35 ms, neutron-server ≈ 3.3k reports/s
# × 6 ms, conductor ≈ 15k calls/s × 1 ms, placement ≈ 1.7k req/s × 4 ms). The defaults (8 workers,
# a 2-worker broker) saturate at this size, which `--default-sizes` shows.
LARGE_CONTROL_PLANE = """
stations:
  rpc-broker: {workers: 24}
  neutron-server: {workers: 48}
  nova-conductor: {workers: 32}
  placement: {workers: 16}
"""


def scenario(sites: int, model: str, duration_s: float, large: bool) -> str:
    edges = sites // 10 - 1
    return f"""
name: scale-{sites * HOSTS_PER_SITE}
generate:
  kind: hierarchy
  regional: 10
  edge_per_regional: {edges}
  hosts:
    central: {{count: {HOSTS_PER_SITE}}}
    regional: {{count: {HOSTS_PER_SITE}}}
    edge: {{count: {HOSTS_PER_SITE}}}
model: {model}
workload:
  operations: [{{op: boot, times: 1000, concurrency: 10, image: cirros}}]
run: {{duration_s: {duration_s}, seed: 1}}
{LARGE_CONTROL_PLANE if large else ""}
"""


def one(sites: int, model: str, duration_s: float, fluid: bool, large: bool) -> dict[str, object]:
    """Run one case in this process and return its figures (peak RSS of this process)."""
    from wanstack.scenario.load import parse
    from wanstack.sim.engine import SimOptions, simulate

    infra = parse(scenario(sites, model, duration_s, large), "scale.yaml")
    start = time.perf_counter()
    result = simulate(infra, SimOptions(fluid_background=fluid))
    wall = time.perf_counter() - start
    busiest = max(result.stations, key=lambda s: s.utilisation)
    return {
        "hosts": int(result.totals["hosts"]),
        "model": model,
        "fluid": fluid,
        "wall_s": wall,
        "events": result.events,
        "events_per_s": (result.events or 0) / wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "operations": [o.model_dump(mode="json") for o in result.operations],
        "busiest": f"{busiest.kind}@{busiest.site} {busiest.utilisation:.0%}",
    }


def run(sites: int, model: str, duration_s: float, fluid: bool, large: bool) -> dict[str, object]:
    """Each case in a fresh process, so its peak RSS is its own."""
    cmd = [
        sys.executable,
        __file__,
        "--one",
        str(sites),
        model,
        str(duration_s),
        str(int(fluid)),
        str(int(large)),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def show(r: dict[str, object]) -> None:
    boot = next(o for o in r["operations"] if o["op"] == "boot")  # type: ignore[union-attr]
    lat = boot["latency_ms"]
    p50 = "–" if lat["p50"] is None else f"{lat['p50']:.0f} ms"
    p95 = "–" if lat["p95"] is None else f"{lat['p95']:.0f} ms"
    print(
        f"{r['hosts']:>8,} {r['model']:<14} {'fluid' if r['fluid'] else 'exact':<6} {r['wall_s']:>8.1f} s "
        f"{r['events']:>11,} {r['events_per_s']:>10,.0f} {r['rss_mb']:>8.0f} MB  boots {boot['succeeded']}/"
        f"{boot['submitted']} p50 {p50} p95 {p95}  busiest {r['busiest']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="simulate 10 minutes instead of an hour")
    parser.add_argument("--default-sizes", action="store_true", help="keep the default (small) control plane")
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sites, model, duration, fluid, large = args.one
        print(json.dumps(one(int(sites), model, float(duration), bool(int(fluid)), bool(int(large)))))
        return
    duration = 600.0 if args.quick else 3600.0
    large = not args.default_sizes
    print(
        f"hierarchy of sites × {HOSTS_PER_SITE} hosts, {duration:.0f} s simulated, 1,000 boots, "
        f"{'large' if large else 'default'} control plane"
    )
    print(
        f"{'hosts':>8} {'model':<14} {'bg':<6} {'wall':>10} {'events':>11} {'events/s':>10} {'peak RSS':>11}"
    )
    for model in ("centralized", "cells-shared"):
        walls = {}
        for sites in (100, 300, 1000):
            r = run(sites, model, duration, True, large)
            show(r)
            walls[sites] = float(r["wall_s"])  # type: ignore[arg-type]
        print(
            f"  {model}: wall time 10k → 30k → 100k hosts: ×{walls[300] / walls[100]:.2f}, "
            f"×{walls[1000] / walls[100]:.2f} (hosts ×3, ×10)"
        )
    # The default (small) control plane loads the central broker to ~65 % at 10k hosts: queueing
    # matters there, which makes it the demanding case for the fluid approximation.
    print(
        "accuracy: boot p50 at 10k hosts (default control plane), fluid background vs every host on its own"
    )
    for model in ("centralized", "cells-shared"):
        fluid, exact = run(100, model, duration, True, False), run(100, model, duration, False, False)
        show(fluid)
        show(exact)
        p50 = [
            next(o for o in r["operations"] if o["op"] == "boot")["latency_ms"]["p50"]  # type: ignore[union-attr]
            for r in (fluid, exact)
        ]
        print(
            f"  {model}: fluid {p50[0]:.1f} ms vs exact {p50[1]:.1f} ms: "
            f"{abs(p50[0] - p50[1]) / p50[1]:.3%} apart; exact took {exact['wall_s']:.0f} s, "
            f"fluid {fluid['wall_s']:.1f} s"
        )


if __name__ == "__main__":
    main()
