"""A WAN cut on the real control plane, and in the simulator: how long until the API lists the cut-off
site's nova-compute down, and how long after the link comes back until it lists it up again.

The centralized model with one edge site 10 ms away. On the testbed the link's relays are cut (every
connection across it stalls, new ones are refused, `lab.relay.DelayRelay.cut`); the API is asked
for the compute service's state every second from the top site. Nova sees a service down once its last
report is older than `service_down_time` (60 s; reports every `report_interval`, 10 s:
nova/servicegroup/drivers/db.py), so the first figure is 50-60 s plus what the last report was late.
The simulator runs the same cut (`faults:`) and reports the same outage (`outages:` of its result).

    python benchmarks/testbed_cut.py [--cut-s 90] [--delay-ms 10]
"""

from __future__ import annotations

import argparse
import sys
import time

from wanstack.scenario.load import parse
from wanstack.sim.engine import simulate
from wanstack.testbed.testbed import Testbed

POLL_S = 1.0


def scenario(delay_ms: float, cut_at_s: float, restore_at_s: float) -> str:
    return f"""
name: testbed-cut
generate: {{kind: star, edges: 1, delay_ms: {delay_ms}, hosts: {{count: 1}}, center_hosts: {{count: 0}}}}
model: centralized
faults:
  - {{at_s: {cut_at_s}, action: cut-link, link: [central, edge-1]}}
  - {{at_s: {restore_at_s}, action: restore-link, link: [central, edge-1]}}
run: {{duration_s: {restore_at_s + 300}, seed: 1}}
"""


def compute_state(cloud: object) -> str:
    for service in cloud.compute.services():  # type: ignore[attr-defined]
        if service.binary == "nova-compute" and service.host == "edge-1":
            return str(service.state)
    return "missing"


def wait_for(cloud: object, state: str, since: float, timeout_s: float) -> float:
    """Seconds from `since` until the API lists the edge's compute in `state`."""
    deadline = since + timeout_s
    while time.monotonic() < deadline:
        if compute_state(cloud) == state:
            return time.monotonic() - since
        time.sleep(POLL_S)
    raise TimeoutError(f"nova-compute@edge-1 not {state} in {timeout_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--cut-s", type=float, default=90.0, help="how long the link stays cut")
    args = parser.parse_args()
    infra = parse(scenario(args.delay_ms, 300.0, 300.0 + args.cut_s), "testbed-cut.yaml")
    with Testbed(infra, say=lambda text: print(f"  … {text}", file=sys.stderr, flush=True)) as testbed:
        cloud = testbed.cloud(testbed.layout.top)
        wait_for(cloud, "up", time.monotonic(), 120)
        time.sleep(15)  # a few reports in steady state
        cut = time.monotonic()
        relays = testbed.cut_link("central", "edge-1")
        down_s = wait_for(cloud, "down", cut, 300)
        # Keep it cut as long as asked (counted from the cut), then restore.
        time.sleep(max(0.0, cut + args.cut_s - time.monotonic()))
        restored = time.monotonic()
        testbed.restore_link("central", "edge-1")
        up_s = wait_for(cloud, "up", restored, 300)
    result = simulate(infra)
    (outage,) = (o for o in result.outages if o.service == "nova-compute" and o.site == "edge-1")
    sim_down = outage.down_at_s - 300.0
    sim_up = (outage.up_at_s or float("nan")) - (300.0 + args.cut_s)
    print(f"link central–edge-1 ({args.delay_ms:g} ms one-way) cut for {args.cut_s:.0f} s ({relays} relays)")
    print(f"{'':<38} {'testbed':>8} {'simulator':>10}")
    print(f"{'cut -> nova-compute listed down':<38} {down_s:>7.1f}s {sim_down:>9.1f}s")
    print(f"{'restore -> nova-compute listed up':<38} {up_s:>7.1f}s {sim_up:>9.1f}s")
    print(f"(the testbed's figures are polled every {POLL_S:g} s)")


if __name__ == "__main__":
    main()
