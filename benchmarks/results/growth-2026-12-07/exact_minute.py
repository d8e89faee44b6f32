"""The sized cells at SITES × 100 hosts, every host on its own, for DURATION simulated seconds: wall
time, events, events/s, peak RSS and the cyclic collector's counts. Run from a checkout's root:

    PYTHONPATH=src python benchmarks/results/growth-2026-12-07/exact_minute.py 1000 60 gc
"""

import gc
import sys

sys.path.insert(0, "benchmarks")
import scale

sites, duration, mode = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if mode == "nogc":
    gc.disable()
r = scale.one(sites, "cells-per-subtree", duration, False, "sized")
print(
    f"{r['wall_s']:.1f}s events {r['events']:,} {r['events_per_s']:,.0f}/s rss {r['rss_mb']:.0f}MB",
    gc.get_count(),
    gc.get_stats()[2],
)
