"""Quotas on the bench: the escrow quota service against oslo.limit as nova checks unified limits,
with a real Keystone (SQLite) at the top site and two edge regions behind WAN relays.

1. Claim latency at edge-1 against the one-way delay (0/10/25 ms): a local call to the region's
   service (its GET /, answered without work), a claim at the escrow service, a claim through
   oslo.limit (nova-api's check and the conductor's recheck).
2. A claim storm at 10 ms (Poisson claims at every region, servers kept an exponential time) with
   edge-1 cut off from the top site in the middle: the escrow service's over-commit (from the
   regions' own records) and what edge-1 could still do; oslo.limit's errors and hangs.
3. The simulator on the same storm (`region-per-site-central-keystone`, the same limit, rates and
   cut), its claim time and Keystone's calibrated on step 1 at 0 ms only: claim latency p50 side by
   side. Both runs are written in the common schema for `wanstack compare-results`.

    .venv/bin/python benchmarks/quota_bench.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from wanstack.bench.quota_runs import (
    Storm,
    latency,
    peak_from_clients,
    peak_from_databases,
    percentile,
    result,
)
from wanstack.bench.quota_sites import QuotaSites, call, prepare
from wanstack.multiregion.limits import apply, plan
from wanstack.results.schema import RunResult
from wanstack.scenario.load import parse
from wanstack.scenario.quotas import ProjectQuota
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sim.params import Params, StationParams
from wanstack.testbed.keystone import KeystoneServer

REGIONS = ["edge-1", "edge-2"]
BIG = {"instances": 1000, "cores": 4000, "ram_mb": 10**7}
CHECK_TRIPS = 3  # oslo.limit per Enforcer: limits model, endpoint, project limits (cached together)

SIM = """
generate: {kind: star, edges: 2, delay_ms: %(delay)s, hosts: {count: 8}, center_hosts: {count: 0}}
model: region-per-site-central-keystone
quotas:
  projects: [{name: demo, limits: {instances: %(limit)s}, mode: %(mode)s, rebalance_s: 1}]
workload:
  operations:
    - {op: boot, rate_per_s: %(rate)s, sites: [edge-1], project: demo}
    - {op: boot, rate_per_s: %(rate)s, sites: [edge-2], project: demo}
    - {op: delete, rate_per_s: %(release)s, sites: [edge-1], project: demo, start_s: 2}
    - {op: delete, rate_per_s: %(release)s, sites: [edge-2], project: demo, start_s: 2}
faults:
  - {at_s: %(cut_at)s, action: cut-link, link: [central, edge-1]}
  - {at_s: %(restore_at)s, action: restore-link, link: [central, edge-1]}
run: {duration_s: %(duration)s, seed: 1}
"""


def limits(coordinator: str, cloud: Any, values: dict[str, int]) -> None:
    base = f"/v1.0/{cloud.project_id}/os-quota-sets/{cloud.project_id}"
    kingbird = {"instances": values["instances"], "cores": values["cores"], "ram": values["ram_mb"]}
    answer = call(coordinator, "PUT", base, cloud.admin_token, {"quota_set": kingbird})
    if answer.status != 200:
        raise RuntimeError(f"setting the limits: {answer}")


def simulated(storm: Storm, *, mode: str, limit: int, delay_ms: float, params: Params) -> RunResult:
    text = SIM % {
        "delay": delay_ms,
        "limit": limit,
        "mode": mode,
        "rate": storm.rate_per_s,
        "release": (limit / len(REGIONS)) / storm.hold_s,
        "cut_at": storm.cut[0],
        "restore_at": storm.cut[1],
        "duration": storm.duration_s,
    }
    return simulate(parse(text, "quota-storm.yaml"), SimOptions(params=params))


def main() -> None:
    warnings.simplefilter("ignore")  # openstacksdk's deprecation chatter
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delays", default="0,10,25")
    ap.add_argument("--n", type=int, default=300, help="claims per delay at the escrow service")
    ap.add_argument("--oslo-n", type=int, default=60, help="claims per delay through oslo.limit")
    ap.add_argument("--storm-s", type=float, default=180.0)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="a short trial (30 claims, a 40 s storm)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results") / f"quota-{date.today()}")
    args = ap.parse_args()
    if args.quick:
        args.n, args.oslo_n, args.storm_s = 30, 10, 40.0
    delays = [float(d) for d in args.delays.split(",")]
    storm_delay = 10.0
    cut = (args.storm_s / 3, 2 * args.storm_s / 3)
    report: dict[str, Any] = {"delays": {}, "storm": {}}
    runs: dict[str, RunResult] = {}

    with KeystoneServer() as keystone:
        cloud = prepare(keystone, REGIONS)
        conn = keystone.connect()
        big = ProjectQuota.model_validate({"name": "demo", "limits": BIG})
        apply(conn, cloud.project_id, cloud.service_id, plan(big, REGIONS))
        with QuotaSites(keystone, REGIONS, rebalance_s=1.0) as sites:
            sites.start_enforcers(cloud)
            limits(sites.urls["coordinator"], cloud, BIG)
            time.sleep(3)  # every region has its share

            print("claim latency at edge-1 (ms; p50 / p95)")
            print(f"{'delay':>6} {'local call':>16} {'escrow service':>16} {'oslo.limit':>18}")
            for delay in delays:
                sites.set_delay(delay)
                got = latency(sites, cloud, "edge-1", args.n, oslo=args.oslo_n)
                row = {
                    k: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)}
                    for k, v in got.items()
                }
                report["delays"][f"{delay:g}"] = row
                cells = [
                    f"{row[k]['p50']:7.2f} / {row[k]['p95']:6.2f}"
                    for k in ("local call", "escrow", "oslo.limit")
                ]
                print(f"{delay:>4g} ms {cells[0]:>16} {cells[1]:>16} {cells[2]:>18}", flush=True)

            sites.set_delay(storm_delay)
            tight = {"instances": args.limit, **{k: v for k, v in BIG.items() if k != "instances"}}
            for mode in ("escrow", "unified-limits"):
                storm = Storm(duration_s=args.storm_s, cut=cut)
                if mode == "escrow":
                    limits(sites.urls["coordinator"], cloud, tight)
                    time.sleep(5)  # the shares follow the new limit
                    since = time.time()
                    storm.run(sites, cloud, "escrow")
                    peak = peak_from_databases(sites.root, REGIONS, cloud.project_id, since=since)
                else:
                    quota = ProjectQuota.model_validate({"name": "demo", "limits": tight})
                    apply(conn, cloud.project_id, cloud.service_id, plan(quota, REGIONS))
                    storm.run(sites, cloud, "oslo.limit")
                    peak = peak_from_clients(storm)
                runs[mode] = result(storm, mode=mode, limit=args.limit, peak=peak, delay_ms=storm_delay)
                report["storm"][mode] = {
                    "over_commit_peak": runs[mode].quotas[0].over_commit_peak,
                    "peak": peak,
                    "claims": len(storm.claims),
                    "claim_ms_p50": runs[mode].quotas[0].claim_ms_p50,
                    "edge-1 during the cut": storm.summary("edge-1"),
                    "edge-2 during the cut": storm.summary("edge-2"),
                }
                print(f"\nstorm ({mode}, {storm_delay:g} ms, edge-1 cut {cut[0]:g}-{cut[1]:g} s):")
                print(json.dumps(report["storm"][mode], indent=1), flush=True)

    # The simulator on the same storm, calibrated on step 1 at 0 ms only.
    zero = report["delays"].get("0")
    if zero is None:
        raise SystemExit("the calibration needs the 0 ms figures (--delays 0,…)")
    defaults = Params()
    stations = dict(defaults.stations)
    # One Keystone process under the GIL: one worker; its time per request from oslo.limit's claim
    # at 0 ms (two checks of CHECK_TRIPS requests each).
    stations["keystone"] = StationParams(workers=1, service_ms=zero["oslo.limit"]["p50"] / (2 * CHECK_TRIPS))
    params = replace(defaults, stations=stations, quota_claim_ms=zero["escrow"]["p50"])
    report["calibration"] = {
        "quota_claim_ms": params.quota_claim_ms,
        "keystone_ms": stations["keystone"].service_ms,
    }
    print("\nsimulator on the same storm (calibrated at 0 ms):")
    print(f"{'mode':>16} {'bench p50':>10} {'sim p50':>10} {'error':>8}")
    for mode, bench in list(runs.items()):
        sim = simulated(
            Storm(duration_s=args.storm_s, cut=cut),
            mode=mode,
            limit=args.limit,
            delay_ms=storm_delay,
            params=params,
        )
        runs[f"sim-{mode}"] = sim
        b, s = bench.quotas[0].claim_ms_p50, sim.quotas[0].claim_ms_p50
        err = (s - b) / b if b and s is not None else None
        report["storm"][mode]["sim_claim_ms_p50"] = s
        report["storm"][mode]["sim_error"] = err
        print(f"{mode:>16} {b:10.2f} {s:10.2f} {err:+8.1%}" if err is not None else f"{mode:>16} {b} {s}")

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for name, run in runs.items():
        folder = args.out / name
        folder.mkdir(exist_ok=True)
        (folder / "result.json").write_text(run.model_dump_json(indent=2), encoding="utf-8")
    print(f"\nwritten: {args.out}/report.json and a result.json per run (wanstack compare-results A B)")


if __name__ == "__main__":
    main()
