"""Write a profile of the scale case for whoever optimises next.

    python benchmarks/profile_scale.py [--sites 1000] [--model cells-per-subtree] [--duration 600]
        [--plane sized|large|default] [--exact]

Writes `profile-scale.pstats` (open with `python -m pstats` or snakeviz) and prints the 25 functions
with the most cumulative time. cProfile is in the standard library, so this needs nothing installed.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import scale


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--model", default="cells-per-subtree")
    parser.add_argument(
        "--plane", default="sized", choices=["sized", "large", "default"], help="control plane (scale.py)"
    )
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--exact", action="store_true", help="every host simulated on its own")
    parser.add_argument("--out", type=Path, default=Path("profile-scale.pstats"))
    args = parser.parse_args()
    profiler = cProfile.Profile()
    profiler.runcall(scale.one, args.sites, args.model, args.duration, not args.exact, args.plane)
    profiler.dump_stats(args.out)
    print(f"wrote {args.out}")
    pstats.Stats(str(args.out)).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
