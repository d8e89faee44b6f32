"""`benchmarks/scale.py --one SITES MODEL 3600 1 1` (the hierarchy of 10 regional sites, the control
plane sized for 100,000 hosts) with the station defaults of 7d568e7, for the code of either side:
run from a checkout's root, it takes that checkout's `scale.py` and `wanstack`. Both sides then
simulate the same control plane (the new code's periodic-report cost, `REPORT_MS`, is a property of
its default stations, which these replace), so their wall times compare like for like."""

from __future__ import annotations

import dataclasses
import inspect
import json
import resource
import sys
import time

sys.path.insert(0, "benchmarks")
from scale import scenario

from wanstack.scenario.load import parse
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sim.params import Params, StationParams

# 7d568e7's src/wanstack/sim/params.py DEFAULT_STATIONS: (workers, service_ms) of the control plane.
OLD = {
    "keystone": (8, 5.0),
    "nova-api": (8, 4.0),
    "nova-scheduler": (2, 20.0),
    "nova-superconductor": (8, 2.0),
    "nova-conductor": (8, 1.0),
    "placement": (8, 4.0),
    "api-database": (16, 0.5),
    "cell-database": (16, 0.5),
    "glance-api": (8, 3.0),
    "image-store": (8, 1.0),
    "image-cache": (8, 1.0),
    "neutron-server": (8, 6.0),
}


def main() -> None:
    sites, model = int(sys.argv[1]), sys.argv[2]
    base = Params()
    old = {kind: StationParams(workers=w, service_ms=ms) for kind, (w, ms) in OLD.items()}
    params = dataclasses.replace(base, stations=dict(base.stations) | old)
    large: object = "large" if "plane" in inspect.signature(scenario).parameters else True
    infra = parse(scenario(sites, model, 3600.0, large), "scale.yaml")  # type: ignore[arg-type]
    start = time.perf_counter()
    result = simulate(infra, SimOptions(params=params, fluid_background=True))
    wall = time.perf_counter() - start
    boot = next(o for o in result.operations if o.op == "boot")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"wall_s": wall, "events": result.events, "rss_mb": rss_mb, "p50": boot.latency_ms.p50}
    print(json.dumps(figures | {"boots": f"{boot.succeeded}/{boot.submitted}"}))


if __name__ == "__main__":
    main()
