"""Boots one after the other on the testbed's one edge host (the agents settings of
`benchmarks/testbed_wan.py`: libvirt-like driver, ML2/OVS), each traced with osprofiler: per boot, the
GET /allocations/{consumer} requests to Placement, and which of them are on the critical path. Run on
2026-12-07 at 25 ms one-way with 12 boots (`boots-on-one-host-25ms.jsonl`): every boot asked for its
own server's allocations only, whatever the servers already on the host (0 to 11).

    python benchmarks/results/tracker-2026-12-07/boots_on_one_host.py DELAY_MS BOOTS
"""

from __future__ import annotations

import json
import sys

sys.path.insert(0, "benchmarks")
from testbed_wan import scenario

from wanstack.scenario.load import parse
from wanstack.scenario.workload import OperationKind
from wanstack.testbed.testbed import Testbed
from wanstack.testbed.trace import traced
from wanstack.testbed.watch import StateWatch
from wanstack.testbed.workload import Runner


def main() -> None:
    delay, boots = float(sys.argv[1]), int(sys.argv[2])
    infra = parse(scenario(delay, 2, "agents"), "boots.yaml")
    with Testbed(infra, say=lambda t: print("  …", t, file=sys.stderr, flush=True)) as tb:
        runner = Runner({s: tb.apis(s) for s in tb.layout.sites}, tb.ids, StateWatch(tb.state_databases()))
        site = tb.layout.computes[0]
        stores = {s: st.url for s, st in tb.traces.items()}
        for k in range(boots):
            t = traced(runner, stores, OperationKind.BOOT.value, site)
            t0 = min(s.start for s in t.spans.values())
            allocations = sorted(
                (s.start - t0, (s.stop or s.start) - t0)
                for s in t.spans.values()
                if "/allocations/" in str(s.info.get("request", ""))
                and "GET" in str(s.info.get("request", ""))
            )
            on_path = [e.what for e in (t.critical or []) if "allocations" in e.what]
            print(json.dumps({"boot": k + 1, "allocs": allocations, "crit_allocs": on_path}), flush=True)


if __name__ == "__main__":
    main()
