"""How a bench run's figures move with the CPU the hypervisor took while it ran, over the stored
`sim_vs_bench.py` runs (benchmarks/results/sim_vs_bench-*/run*.json that kept each run's steal):
each run of a figure against that figure's quietest run, when the quietest had less than 1 % stolen.
This is what `lab.steady.Steadiness`'s default gate is chosen from.

    python benchmarks/steal_effect.py [FILE ...]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

BANDS = ((0.0, 0.01, "< 1 %"), (0.01, 0.02, "1-2 %"), (0.02, 0.05, "2-5 %"), (0.05, 1.01, "> 5 %"))


def main() -> None:
    files = [Path(a) for a in sys.argv[1:]] or sorted(
        Path(__file__).parent.glob("results/sim_vs_bench-*/run*.json")
    )
    ratios: dict[str, list[tuple[float, float]]] = {label: [] for *_, label in BANDS}
    for path in files:
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]:
            steal = row.get("stolen_share_per_run")
            if not steal:
                continue  # runs saved before the steal was kept
            quietest = min(range(len(steal)), key=steal.__getitem__)
            if steal[quietest] >= 0.01:
                continue
            for i, share in enumerate(steal):
                if i == quietest:
                    continue
                label = next(label for low, high, label in BANDS if low <= share < high)
                ratios[label].append(
                    (
                        row["bench_p50_ms_per_run"][i] / row["bench_p50_ms_per_run"][quietest],
                        row["bench_p95_ms_per_run"][i] / row["bench_p95_ms_per_run"][quietest],
                    )
                )
    print(f"{len(files)} stored runs; each run of a figure against its quietest run (< 1 % stolen)")
    print(f"{'stolen':>7} {'runs':>5} {'p50 ×':>7} {'p95 ×':>7} {'p95 past 1.3×':>14}")
    for *_, label in BANDS:
        got = ratios[label]
        if not got:
            continue
        p50 = statistics.median(a for a, _ in got)
        p95 = statistics.median(b for _, b in got)
        past = sum(b > 1.3 for _, b in got) / len(got)
        print(f"{label:>7} {len(got):>5} {p50:>7.2f} {p95:>7.2f} {past:>14.0%}")


if __name__ == "__main__":
    main()
