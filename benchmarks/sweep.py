"""Sweep: 200 runs of the default scenario (4 WAN delays × 5 deployment models × 10 seeds), serial, on
2 local worker processes and on a 2-worker Dask cluster (a `dask scheduler` and `dask worker`s on
loopback, as on several machines). Prints each way's wall time, runs/s and parallel efficiency
(serial time over workers × parallel time), and checks the three tables are identical.

    python benchmarks/sweep.py            # 200 runs (about 3 minutes on 2 cores)
    python benchmarks/sweep.py --quick    # 40 runs
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import wanstack
from wanstack.sweeps.cluster import local_cluster

DELAYS_MS = [0, 10, 25, 50]
MODELS = ["centralized", "centralized-image-cache", "cells-shared", "cells-local-services", "region-per-site"]
WORKERS = 2


def timed(label: str, **how: object) -> tuple[float, object]:
    start = time.perf_counter()
    table = wanstack.sweep("default", GRID, seeds=SEEDS, **how)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    print(f"{label:<28} {wall:7.1f} s  {RUNS / wall:6.2f} runs/s", flush=True)
    return wall, table


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="2 seeds instead of 10 (40 runs)")
args = parser.parse_args()
SEEDS = 2 if args.quick else 10
GRID = {"links.delay_ms": DELAYS_MS, "model": MODELS}
RUNS = len(DELAYS_MS) * len(MODELS) * SEEDS
print(f"{RUNS} runs of the default scenario on {os.cpu_count()} cores; {WORKERS} workers in parallel")
serial, serial_table = timed("serial (1 process)", workers=1)
local, local_table = timed(f"{WORKERS} local worker processes", workers=WORKERS)
with tempfile.TemporaryDirectory() as tmp, local_cluster(WORKERS, Path(tmp)) as address:
    remote, dask_table = timed(f"Dask, {WORKERS} workers", scheduler=address)
for label, wall in (("local processes", local), ("Dask cluster", remote)):
    print(f"parallel efficiency, {label}: {serial / (WORKERS * wall):.0%} (speed-up {serial / wall:.2f}×)")
same = local_table.equals(serial_table) and dask_table.equals(serial_table)  # type: ignore[attr-defined]
print(f"tables identical across the three: {same}")
