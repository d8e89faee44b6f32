"""Real OpenStack against the simulator as the WAN grows: the centralized model with one edge site at
0, 10, 25 and 50 ms one-way; 30 boots then 30 deletes at the edge site, one at a time, on the testbed
(a real control plane, `wanstack.testbed`) and in the simulator (the same scenario). Prints p50 and
p95 per delay for both, and how each grows in ms per ms of one-way delay.

    python benchmarks/testbed_wan.py [--delays 0 10 25 50] [--times 30] [--settings agents|old] [--json F]

Each delay brings a testbed up (about 75 s) and down. With `--settings agents` (the default) the
testbed runs as production does around a guest: an Open vSwitch and Neutron's OVS agent per compute
site (ML2 `openvswitch`), and the guestless libvirt driver (the image fetched from Glance into the
host's cache through the WAN, the VIF plugged, the wait for network-vif-plugged, a spawn time); with
`--settings old`, Nova's fake virt driver and wanstack's bind-all ML2 driver (no agent, no image).
Nova's notifications are off. The scenario's `openstack:` block gives the simulator the same, which
runs with its defaults: the shipped control-plane calibration, nothing fitted to this run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from wanstack.scenario.load import parse
from wanstack.sim.engine import simulate
from wanstack.testbed.testbed import Testbed
from wanstack.testbed.watch import StateWatch
from wanstack.testbed.workload import Runner, run_workload

OPS = ("boot", "delete")
# The Open vSwitch agent's loop period, `polling_interval` = 2 s (neutron/conf/plugins/ml2/drivers/
# ovs_conf.py): a boot waits U(0, 2 s) for the agent to notice its tap. Each iteration starts after a
# uniform pause over that period (`run_workload`'s `spread_s`), so that boots of a steady length do not
# keep one phase against the loop (seen on 2026-12-07: at 10 ms the 10 boots took ~4.0 s each, twice
# the period, and shared one draw). The median of n draws of U(0, 2 s) has a standard error of
# 1/(2 f √n) = 1/√n s (f = 1/2 per s, its density), so the growth from 0 to 50 ms, a difference of two
# medians over 50 ms, is known to about ±28/√n ms per ms: ±5 (9 % of the simulator's 56) for n = 30.
AGENT_POLLING_S = 2.0


SETTINGS = {"agents": "virt: libvirt, neutron: ml2-ovs", "old": "virt: fake, neutron: bind-all"}


def scenario(delay_ms: float, times: int, settings: str = "old") -> str:
    return f"""
name: testbed-wan-{delay_ms:g}ms
generate: {{kind: star, edges: 1, delay_ms: {delay_ms}, hosts: {{count: 1}}, center_hosts: {{count: 0}}}}
model: centralized
openstack: {{{SETTINGS[settings]}, notifications: none}}
workload:
  images: [{{name: cirros, size_mb: 1}}]
  operations:
    - {{op: boot, times: {times}, concurrency: 1, sites: [edge-1]}}
    - {{op: delete, times: {times}, concurrency: 1, sites: [edge-1], start_s: 600}}
run: {{duration_s: 1200, seed: 1}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 10.0, 25.0, 50.0])
    parser.add_argument("--times", type=int, default=30)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--settings", choices=sorted(SETTINGS), default="agents")
    args = parser.parse_args()
    rows = []
    for delay in args.delays:
        infra = parse(scenario(delay, args.times, args.settings), "testbed-wan.yaml")
        started = time.monotonic()
        with Testbed(infra, say=lambda text: print(f"  … {text}", file=sys.stderr, flush=True)) as testbed:
            ready = time.monotonic() - started
            runner = Runner(
                {site: testbed.apis(site) for site in testbed.layout.sites},
                testbed.ids,
                StateWatch(testbed.state_databases()),
            )
            before = {k: (r.forward.snapshot(), r.backward.snapshot()) for k, r in testbed.relays.items()}
            real = run_workload(infra, runner, testbed.layout.computes, spread_s=AGENT_POLLING_S)
            # What TCP's window cost on the WAN (both ways, every relay): rounds a crossing count misses.
            waits = sum(
                r.forward.since(before[k][0]).window_waits + r.backward.since(before[k][1]).window_waits
                for k, r in testbed.relays.items()
            )
        sim = simulate(infra)
        row: dict[str, object] = {"delay_ms": delay, "testbed_ready_s": ready, "window_waits": waits}
        for op in OPS:
            for engine, result, name in (
                (("testbed", real, op)),
                ("rally", real, f"{op} (rally)"),
                ("sim", sim, op),
            ):
                found = result.operation(name)
                assert found is not None, name
                latencies = found.latency_ms
                row[f"{engine}_{op}_p50"] = latencies.p50
                row[f"{engine}_{op}_p95"] = latencies.p95
                row[f"{engine}_{op}_ok"] = f"{found.succeeded}/{found.submitted}"
        rows.append(row)
        print(
            f"{delay:>4.0f} ms  ready in {ready:.0f} s  window waits {waits}  "
            + "  ".join(
                f"{op}: testbed {row[f'testbed_{op}_p50']:.0f}/{row[f'testbed_{op}_p95']:.0f} "
                f"(rally {row[f'rally_{op}_p50']:.0f}) "
                f"sim {row[f'sim_{op}_p50']:.0f}/{row[f'sim_{op}_p95']:.0f} ms"
                for op in OPS
            ),
            flush=True,
        )
    print()
    print("p50 / p95 in ms; growth in ms per ms of one-way delay, from the first delay to each")
    print(f"{'delay':>6} " + " ".join(f"{op + ' ' + e:>22}" for op in OPS for e in ("testbed", "sim")))
    for row in rows:
        cells = []
        for op in OPS:
            for engine in ("testbed", "sim"):
                cells.append(f"{row[f'{engine}_{op}_p50']:>10.0f} / {row[f'{engine}_{op}_p95']:>7.0f}")
        errors = "  ".join(
            f"{op} {float(row[f'sim_{op}_p50']) / float(row[f'testbed_{op}_p50']) - 1:+.0%}"  # type: ignore[arg-type]
            for op in OPS
        )
        print(
            f"{row['delay_ms']:>4.0f}ms "
            + " ".join(f"{c:>22}" for c in cells)
            + f"   sim vs testbed p50: {errors}"
        )
    first = rows[0]
    for row in rows[1:]:
        span = float(row["delay_ms"]) - float(first["delay_ms"])  # type: ignore[arg-type]
        growth = {
            (op, engine): (float(row[f"{engine}_{op}_p50"]) - float(first[f"{engine}_{op}_p50"])) / span  # type: ignore[arg-type]
            for op in OPS
            for engine in ("testbed", "sim")
        }
        print(
            f"{first['delay_ms']:.0f} -> {row['delay_ms']:.0f} ms: "
            + "  ".join(
                f"{op} testbed {growth[op, 'testbed']:.1f}, sim {growth[op, 'sim']:.1f} ms per ms"
                for op in OPS
            )
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
