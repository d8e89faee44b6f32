"""Scale: a hierarchy of sites × 100 hosts (each with nova-compute and its neutron agent), OpenStack's
default background periods and a boot workload of 1,000 servers; one simulated hour.

By default, the cloud as operators would deploy it at 100,000 and 1,000,000 hosts: Nova cells of 1,000
hosts (a regional site and its 9 edges) with their own conductor, database and broker, every station
sized for its load (`sized_stations`). Prints wall time, events, events/s, peak RSS, the boots and the
busiest station, and the wall-time growth from 100k to 1M hosts. `--series`: 10k, 30k and 100k hosts
under the centralized and cells-shared models with a control plane sized for 100k. `--exact SITES`:
every host simulated on its own against the fluid background, at SITES × 100 hosts.

    python benchmarks/scale.py                # 100k and 1M hosts (about a minute on 2 cores)
    python benchmarks/scale.py --exact 1000   # 100k hosts, every host on its own (long)
    python benchmarks/scale.py --quick        # 10 simulated minutes instead of an hour
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable

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

# Cells as operators deploy them: Nova leaves a cell's size to the operator; CERN, the largest
# documented cells v2 cloud, keeps each cell to a few hundred hosts with its own conductor, database
# and RabbitMQ (Moreira, "Moving from CellsV1 to CellsV2 at CERN", OpenStack Summit Vancouver 2018).
# Here a cell is a regional site and its 9 edge sites, 1,000 hosts (`cells-per-subtree`), the issue's
# ≤ 1,000–2,000 hosts per cell.
EDGES_PER_CELL = 9
# Each station kind gets the workers that keep its busiest instance at ≤ 70 % under OpenStack's
# default periodic load (a common capacity-planning headroom: past it an M/M/c queue's wait grows
# steeply).
TARGET_UTILISATION = 0.7


def sized_stations(hosts: int, hosts_per_cell: int, model: str) -> str:
    """A `stations:` section sized for `hosts` compute hosts (each with its L2 agent) from the default
    report periods and the simulator's own service times (`Params`), so the sizing follows the
    calibration: per cell (conductor, cell broker) or central (neutron-server, placement, the top
    site's broker, which carries the agents' reports to neutron-server)."""
    from wanstack.scenario.workload import Background
    from wanstack.sim.params import Params

    bg, stations = Background(), Params().stations
    nova = 1 / bg.nova_report_interval_s + 3 / bg.resource_tracker_interval_s  # conductor calls/s/host
    agents = 1 / bg.neutron_report_interval_s  # neutron-server calls/s/host
    inventory = 1 / bg.resource_tracker_interval_s  # placement requests/s/host
    cell = hosts if model == "centralized" else hosts_per_cell

    def report(kind: str) -> float:
        size = stations[kind]
        return size.service_ms if size.report_ms is None else size.report_ms

    # Offered load in Erlangs: requests per second × seconds of one worker's time each. A call passes
    # its broker twice (request and reply).
    loads = {
        "nova-conductor": cell * nova * report("nova-conductor") / 1000,
        "neutron-server": hosts * agents * report("neutron-server") / 1000,
        "placement": hosts * inventory * stations["placement"].service_ms / 1000,
        "rpc-broker": max(cell * nova, hosts * agents + (cell * nova if model == "centralized" else 0))
        * 2
        * stations["rpc-broker"].service_ms
        / 1000,
    }
    lines = [
        f"  {kind}: {{workers: {max(stations[kind].workers, math.ceil(load / TARGET_UTILISATION))}}}"
        for kind, load in loads.items()
    ]
    return "stations:\n" + "\n".join(lines) + "\n"


def scenario(sites: int, model: str, duration_s: float, plane: str) -> str:
    """`plane`: the control plane's sizes, `default`, `large` (for 100,000 hosts) or `sized` (cells of
    `EDGES_PER_CELL` + 1 sites, every station sized for the load: `sized_stations`)."""
    if plane == "sized":
        regional, edges = sites // (EDGES_PER_CELL + 1), EDGES_PER_CELL
    else:
        regional, edges = 10, sites // 10 - 1
    hosts = (1 + regional * (1 + edges)) * HOSTS_PER_SITE
    stations = {
        "default": "",
        "large": LARGE_CONTROL_PLANE,
        "sized": sized_stations(hosts, (1 + edges) * HOSTS_PER_SITE, model),
    }[plane]
    return f"""
name: scale-{hosts}
generate:
  kind: hierarchy
  regional: {regional}
  edge_per_regional: {edges}
  hosts:
    central: {{count: {HOSTS_PER_SITE}}}
    regional: {{count: {HOSTS_PER_SITE}}}
    edge: {{count: {HOSTS_PER_SITE}}}
model: {model}
workload:
  operations: [{{op: boot, times: 1000, concurrency: 10, image: cirros}}]
run: {{duration_s: {duration_s}, seed: 1}}
{stations}
"""


def one(sites: int, model: str, duration_s: float, fluid: bool, plane: str) -> dict[str, object]:
    """Run one case in this process and return its figures (peak RSS of this process)."""
    from wanstack.scenario.load import parse
    from wanstack.sim.engine import SimOptions, simulate

    infra = parse(scenario(sites, model, duration_s, plane), "scale.yaml")
    start = time.perf_counter()
    # Every host on its own runs for many minutes: say how far it is, on stderr (stdout is the result).
    result = simulate(infra, SimOptions(fluid_background=fluid), None if fluid else progress(sites, start))
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


def progress(sites: int, start: float) -> Callable[[float], None]:
    """A line on stderr at every 5 % of the simulated time: how far, and the wall time so far."""
    shown = [-1]

    def show(fraction: float) -> None:
        step = int(fraction * 20)
        if step > shown[0]:
            shown[0] = step
            wall = time.perf_counter() - start
            print(
                f"  {sites:,} sites, exact: {fraction:.0%} simulated, {wall:.0f} s",
                file=sys.stderr,
            )

    return show


def run(sites: int, model: str, duration_s: float, fluid: bool, plane: str) -> dict[str, object]:
    """Each case in a fresh process, so its peak RSS is its own (its progress lines pass through)."""
    cmd = [sys.executable, __file__, "--one", str(sites), model, str(duration_s), str(int(fluid)), plane]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def boot_latency(r: dict[str, object]) -> dict[str, float | None]:
    boot = next(o for o in r["operations"] if o["op"] == "boot")  # type: ignore[union-attr]
    return boot["latency_ms"]  # type: ignore[no-any-return]


def show(r: dict[str, object]) -> None:
    boot = next(o for o in r["operations"] if o["op"] == "boot")  # type: ignore[union-attr]
    lat = boot["latency_ms"]
    p50 = "–" if lat["p50"] is None else f"{lat['p50']:.0f} ms"
    p95 = "–" if lat["p95"] is None else f"{lat['p95']:.0f} ms"
    print(
        f"{r['hosts']:>9,} {r['model']:<17} {'fluid' if r['fluid'] else 'exact':<6} {r['wall_s']:>8.1f} s "
        f"{r['events']:>11,} {r['events_per_s']:>10,.0f} {r['rss_mb']:>8.0f} MB  boots {boot['succeeded']}/"
        f"{boot['submitted']} p50 {p50} p95 {p95}  busiest {r['busiest']}",
        flush=True,
    )


HEADER = f"{'hosts':>9} {'model':<17} {'bg':<6} {'wall':>10} {'events':>11} {'events/s':>10} {'peak RSS':>11}"


def sized(duration: float) -> None:
    """100,000 and 1,000,000 hosts in cells of 1,000, every station sized for its load."""
    print(
        f"cells of {(EDGES_PER_CELL + 1) * HOSTS_PER_SITE:,} hosts (a regional site and its "
        f"{EDGES_PER_CELL} edges), stations sized for ≤ {TARGET_UTILISATION:.0%}, {duration:.0f} s "
        "simulated, 1,000 boots"
    )
    print(HEADER)
    walls = {}
    for sites in (1000, 10000):
        r = run(sites, "cells-per-subtree", duration, True, "sized")
        show(r)
        walls[sites] = float(r["wall_s"])  # type: ignore[arg-type]
    print(f"  wall time 100k → 1M hosts: ×{walls[10000] / walls[1000]:.2f} (hosts ×10)")


def series(duration: float, plane: str) -> None:
    """10k, 30k and 100k hosts under the centralized and the cells-shared models."""
    print(
        f"hierarchy of sites × {HOSTS_PER_SITE} hosts, {duration:.0f} s simulated, 1,000 boots, "
        f"{plane} control plane"
    )
    print(HEADER)
    for model in ("centralized", "cells-shared"):
        walls = {}
        for sites in (100, 300, 1000):
            r = run(sites, model, duration, True, plane)
            show(r)
            walls[sites] = float(r["wall_s"])  # type: ignore[arg-type]
        print(
            f"  {model}: wall time 10k → 30k → 100k hosts: ×{walls[300] / walls[100]:.2f}, "
            f"×{walls[1000] / walls[100]:.2f} (hosts ×3, ×10)"
        )


def exact(duration: float, sites: int) -> None:
    """The sized cells at `sites` × 100 hosts with every host simulated on its own, against the
    fluid background: wall time and how far the fluid boot p50/p95 are from the exact ones."""
    print(
        f"exact against fluid, about {sites} sites × {HOSTS_PER_SITE} hosts (sized cells), "
        f"{duration:.0f} s simulated"
    )
    print(HEADER)
    fluid, every = (
        run(sites, "cells-per-subtree", duration, True, "sized"),
        run(sites, "cells-per-subtree", duration, False, "sized"),
    )
    show(fluid)
    show(every)
    for q in ("p50", "p95"):
        f, e = boot_latency(fluid)[q], boot_latency(every)[q]
        if f is not None and e is not None:
            print(f"  boot {q}: fluid {f:.1f} ms vs exact {e:.1f} ms: {abs(f - e) / e:.3%} apart")
    print(f"  exact took {every['wall_s']:.0f} s, fluid {fluid['wall_s']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="simulate 10 minutes instead of an hour")
    parser.add_argument(
        "--series", action="store_true", help="also 10k, 30k and 100k hosts, centralized and cells-shared"
    )
    parser.add_argument(
        "--default-sizes", action="store_true", help="the series with the default (small) control plane"
    )
    parser.add_argument(
        "--exact", type=int, metavar="SITES", help="every host on its own at SITES × 100 hosts, against fluid"
    )
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sites, model, duration, fluid, plane = args.one
        print(json.dumps(one(int(sites), model, float(duration), bool(int(fluid)), plane)))
        return
    duration = 600.0 if args.quick else 3600.0
    if args.exact:
        exact(duration, args.exact)
        return
    sized(duration)
    if args.series or args.default_sizes:
        series(duration, "default" if args.default_sizes else "large")


if __name__ == "__main__":
    main()
