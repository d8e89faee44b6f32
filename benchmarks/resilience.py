"""ombt's TC5 on this machine (shared domain notes §5), across a 10 ms link:
- the broker restarts mid-run while casts flow, with durable queues and without;
- the server's link is cut for 60 s while calls and casts flow.

python benchmarks/resilience.py [--cut-s 60]
"""

from __future__ import annotations

import argparse

from wanstack.bench.resilience import Resilience, broker_restart, link_cut
from wanstack.lab.rabbit import RabbitNode


def _casts(r: Resilience) -> str:
    return (
        f"casts {r.casts}: acknowledged {r.acknowledged}, failed {r.failed}, lost {r.lost}, "
        f"duplicates {r.duplicates}; no delivery for {r.delivery_gap_s:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cut-s", type=float, default=60.0)
    args = parser.parse_args()
    for durable in (True, False):
        # A node per run: queues declared durable and not durable would clash on one node.
        with RabbitNode(name=f"wanstack-bench-restart-{'d' if durable else 't'}") as broker:
            r = broker_restart(broker, durable=durable)
        print(f"broker restart ({'durable' if durable else 'transient'} queues), down {r.outage_s:.1f} s")
        print(f"  {_casts(r)}")
    with RabbitNode(name="wanstack-bench-cut") as broker:
        cut = link_cut(broker, cut_for_s=args.cut_s)
    print(f"link cut for {cut.cut_s:.0f} s (calls time out after 10 s)")
    print(f"  calls {cut.calls}: failed {cut.calls_failed or 0}")
    print(f"  {_casts(cut.casts)}")
    print(
        f"  after the link is back: first cast in {cut.cast_recovery_s:.2f} s, "
        f"first call in {cut.call_recovery_s:.2f} s"
    )


if __name__ == "__main__":
    main()
