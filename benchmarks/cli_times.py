"""How long the CLI's everyday commands take, interpreter start-up included: `wanstack show` on the
2,000-site example (the foundation issue's bar: under 2 s) and `wanstack compare default` (10 s).
These are figures of the machine, printed, not tests.

    python benchmarks/cli_times.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
COMMANDS = {
    "show random-geometric-2000.yaml": (["show", str(EXAMPLES / "random-geometric-2000.yaml")], 2.0),
    "compare default": (["compare", "default"], 10.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'command':<34} {'median':>8} {'runs':>24} {'bar':>6}")
    for name, (argv, bar) in COMMANDS.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "wanstack.cli", *argv], capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        runs = " ".join(f"{t:.2f}" for t in times)
        print(f"{name:<34} {statistics.median(times):>7.2f}s {runs:>24} {bar:>5.0f}s", flush=True)


if __name__ == "__main__":
    main()
