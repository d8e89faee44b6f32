"""How long the calibration's fit takes (`sim.host_fit.derive`, what `wanstack calibrate` and
`--refit` run after measuring), on the calibrations stored with the tests: simulations run and wall
time, each fit in a fresh process. With `--against REV`, the same fit of that git revision's
fit module runs alternately beside it (e.g. `--against e5bc49b`, the bisection fit; before the fit
moved to `sim/host_fit.py` it was in `bench/calibrate.py`).

    python benchmarks/calibration_fit.py [--repeat 2] [--against REV]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
MACHINES = ["calibration.yaml", "calibration-2026-12-02.yaml"]

# Run in a child process: the fit module (this version's, or an older one's file put first on the
# path as `calibrate_under_test`), its simulations counted.
CHILD = """
import json, sys, time
from pathlib import Path
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
    import calibrate_under_test as fit
else:
    import wanstack.sim.host_fit as fit
from wanstack.sim.calibration import load_calibration
count = [0]
simulate = fit.simulate_case
def counted(*args, **kwargs):
    count[0] += 1
    return simulate(*args, **kwargs)
fit.simulate_case = counted
cal = load_calibration(Path(sys.argv[2]))
start = time.perf_counter()
fit.derive(cal.measured, cal.cores)
print(json.dumps({"s": time.perf_counter() - start, "simulations": count[0]}))
"""


def run(module_dir: str, machine: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, module_dir, str(FIXTURES / machine)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def fit_source(revision: str) -> str:
    """The fit module of `revision`: `sim/host_fit.py`, or `bench/calibrate.py` where the fit was
    before it moved."""
    for path in (
        "src/wanstack/sim/host_fit.py",
        "src/wanstack/sim/host/fit.py",
        "src/wanstack/bench/calibrate.py",
    ):
        shown = subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if shown.returncode == 0:
            return shown.stdout
    raise SystemExit(f"{revision}: no fit module")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--against", help="a git revision whose fit runs alternately beside this one")
    args = parser.parse_args()
    versions = {"this version": ""}
    if args.against:
        folder = tempfile.mkdtemp(prefix="wanstack-fit-")
        source = fit_source(args.against)
        (Path(folder) / "calibrate_under_test.py").write_text(source, encoding="utf-8")
        versions[args.against] = folder
    print(f"{'calibration':<30} {'version':<14} {'simulations':>11} {'median s':>9} {'runs s':>16}")
    for machine in MACHINES:
        times: dict[str, list[float]] = {name: [] for name in versions}
        counts: dict[str, int] = {}
        for _ in range(args.repeat):
            for name, folder in versions.items():  # alternately: a drifting machine drifts for both
                result = run(folder, machine)
                times[name].append(result["s"])
                counts[name] = int(result["simulations"])
        for name in versions:
            runs = ", ".join(f"{t:.1f}" for t in times[name])
            median = statistics.median(times[name])
            print(f"{machine:<30} {name:<14} {counts[name]:>11} {median:>9.1f} {runs:>16}")


if __name__ == "__main__":
    main()
