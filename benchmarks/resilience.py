"""ombt's TC5 on this machine: casts across a 10 ms link while the broker restarts.

python benchmarks/resilience.py
"""

from __future__ import annotations

from wanstack.bench.rabbit import RabbitNode
from wanstack.bench.resilience import broker_restart


def main() -> None:
    with RabbitNode(name="wanstack-bench-resilience") as broker:
        r = broker_restart(broker)
    outcome = f"acknowledged {r.acknowledged}, failed {r.failed}, lost {r.lost}, duplicates {r.duplicates}"
    print(f"casts {r.casts}: {outcome}")
    print(f"broker down {r.broker_down_s:.1f} s, no delivery for {r.delivery_gap_s:.1f} s")


if __name__ == "__main__":
    main()
