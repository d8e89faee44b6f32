import sys, time, gc
sys.path.insert(0, "benchmarks")
import scale
sites, dur, mode = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if mode == "nogc":
    gc.disable()
r = scale.one(sites, "cells-per-subtree", dur, False, "sized")
print(f"{r['wall_s']:.1f}s events {r['events']:,} {r['events_per_s']:,.0f}/s rss {r['rss_mb']:.0f}MB", gc.get_count(), gc.get_stats()[2])
