"""`benchmarks/scale.py --one SITES MODEL 3600 1 1` with the simulator's station defaults of 7d568e7
(before issue 35's measured ones), so that the old code and the new one simulate the same control
plane (`sidebyside.sh`). Run from the repository's root."""

from __future__ import annotations

import dataclasses
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
    infra = parse(scenario(sites, model, 3600.0, True), "scale.yaml")
    start = time.perf_counter()
    result = simulate(infra, SimOptions(params=params, fluid_background=True))
    wall = time.perf_counter() - start
    boot = next(o for o in result.operations if o.op == "boot")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"wall_s": wall, "events": result.events, "rss_mb": rss_mb}
    print(json.dumps(figures | {"boots": f"{boot.succeeded}/{boot.submitted}"}))


if __name__ == "__main__":
    main()
