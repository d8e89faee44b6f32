"""Quotas on the bench: the escrow quota service against oslo.limit as nova checks unified limits,
with a real Keystone (SQLite) at the top site and two edge regions behind WAN relays.

1. Claim latency at edge-1 against the one-way delay (0/10/25 ms): a local call to the region's
   service (its GET /, answered without work), a claim at the escrow service, a claim through
   oslo.limit (nova-api's check and the conductor's recheck).
2. A claim storm at 10 ms (Poisson claims at every region, servers kept an exponential time) with
   edge-1 cut off from the top site in the middle: the escrow service's over-commit (from the
   regions' own records) and what edge-1 could still do; oslo.limit's errors and hangs.
3. The simulator on the same storm (`region-per-site-central-keystone`, the same limit, rates and
   cut), each mode's one processing time taken from step 1 at 0 ms (isolated claims: the region's
   claim; Keystone's time per request, a sixth of oslo.limit's two checks): claim latency p50 side by
   side, of granted claims (what a claim adds to a boot that goes ahead) and of all. Every run is
   written in the common schema for `wanstack compare-results`; `--from DIR` predicts again from a
   saved bench run.

    .venv/bin/python benchmarks/quota_bench.py [--quick] [--out DIR] [--from DIR]
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

from wanstack.lab.keystone import KeystoneServer
from wanstack.multiregion.limits import apply, plan
from wanstack.quotabench.runs import (
    Storm,
    latency,
    peak_from_clients,
    peak_from_databases,
    percentile,
    result,
)
from wanstack.quotabench.sites import QuotaSites, call, prepare
from wanstack.results.schema import RunResult
from wanstack.scenario.load import parse
from wanstack.scenario.quotas import ProjectQuota
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sim.params import Params, StationParams

REGIONS = ["edge-1", "edge-2"]
BIG = {"instances": 1000, "cores": 4000, "ram_mb": 10**7}
STORM_DELAY_MS = 10.0
CHECK_TRIPS = 3  # oslo.limit per Enforcer: limits model, endpoint, project limits (cached together)

SIM = """
generate: {kind: star, edges: 2, delay_ms: %(delay)s, hosts: {count: 8}, center_hosts: {count: 0}}
model: region-per-site-central-keystone
quotas:
  # The two edge sites hold the shares, as the bench's two regions do (the top site has no hosts).
  projects: [{name: demo, limits: {instances: %(limit)s}, mode: %(mode)s, rebalance_s: 1, holders: site}]
workload:
  operations:
    - {op: claim, rate_per_s: %(rate)s, sites: [edge-1], project: demo, hold_s: %(hold)s}
    - {op: claim, rate_per_s: %(rate)s, sites: [edge-2], project: demo, hold_s: %(hold)s}
%(faults)s
run: {duration_s: %(duration)s, seed: 1}
"""
FAULTS = """faults:
  - {at_s: %(cut_at)s, action: cut-link, link: [central, edge-1]}
  - {at_s: %(restore_at)s, action: restore-link, link: [central, edge-1]}"""


def limits(coordinator: str, cloud: Any, values: dict[str, int]) -> None:
    base = f"/v1.0/{cloud.project_id}/os-quota-sets/{cloud.project_id}"
    kingbird = {"instances": values["instances"], "cores": values["cores"], "ram": values["ram_mb"]}
    answer = call(coordinator, "PUT", base, cloud.admin_token, {"quota_set": kingbird})
    if answer.status != 200:
        raise RuntimeError(f"setting the limits: {answer}")


def simulated(storm: Storm, *, mode: str, limit: int, delay_ms: float, params: Params) -> RunResult:
    faults = FAULTS % {"cut_at": storm.cut[0], "restore_at": storm.cut[1]} if storm.cut else ""
    text = SIM % {
        "delay": delay_ms,
        "limit": limit,
        "mode": mode,
        "rate": storm.rate_per_s,
        "hold": storm.hold_s,
        "faults": faults,
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
    ap.add_argument("--hold-s", type=float, default=5.0)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="a short trial (30 claims, a 40 s storm)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results") / f"quota-{date.today()}")
    ap.add_argument("--from", dest="saved", type=Path, help="predict again from this saved bench run")
    args = ap.parse_args()
    if args.quick:
        args.n, args.oslo_n, args.storm_s = 30, 10, 40.0
    cut = (args.storm_s / 3, 2 * args.storm_s / 3)
    if args.saved is not None:
        report = json.loads((args.saved / "report.json").read_text(encoding="utf-8"))
        runs = {
            m: RunResult.model_validate_json((args.saved / m / "result.json").read_text(encoding="utf-8"))
            for m in ("escrow", "unified-limits")
        }
        cut = report.get("cut", cut)
    else:
        report, runs = measure(args, cut)
    predict(args, report, runs, tuple(cut))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for name, run in runs.items():
        folder = args.out / name
        folder.mkdir(exist_ok=True)
        (folder / "result.json").write_text(run.model_dump_json(indent=2), encoding="utf-8")
    print(f"\nwritten: {args.out}/report.json and a result.json per run (wanstack compare-results A B)")


def measure(
    args: argparse.Namespace, cut: tuple[float, float]
) -> tuple[dict[str, Any], dict[str, RunResult]]:
    delays = [float(d) for d in args.delays.split(",")]
    report: dict[str, Any] = {"delays": {}, "storm": {}, "cut": cut, "storm_delay_ms": STORM_DELAY_MS}
    runs: dict[str, RunResult] = {}
    storm_delay = STORM_DELAY_MS
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
            print(
                f"{'delay':>6} {'local call':>16} {'escrow service':>16} {'escrow refusal':>16}"
                f" {'oslo.limit':>18}"
            )
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
                    for k in ("local call", "escrow", "escrow refused", "oslo.limit")
                ]
                print(
                    f"{delay:>4g} ms {cells[0]:>16} {cells[1]:>16} {cells[2]:>16} {cells[3]:>18}", flush=True
                )

            sites.set_delay(storm_delay)
            tight = {"instances": args.limit, **{k: v for k, v in BIG.items() if k != "instances"}}
            limits(sites.urls["coordinator"], cloud, tight)
            quota = ProjectQuota.model_validate({"name": "demo", "limits": tight})
            apply(conn, cloud.project_id, cloud.service_id, plan(quota, REGIONS))
            time.sleep(5)  # the shares follow the new limit
            for mode in ("escrow", "unified-limits"):
                path = "escrow" if mode == "escrow" else "oslo.limit"
                storm = Storm(duration_s=args.storm_s, cut=cut, hold_s=args.hold_s)
                since = time.time()
                storm.run(sites, cloud, path)
                if mode == "escrow":
                    peak = peak_from_databases(sites.root, REGIONS, cloud.project_id, since=since)
                else:
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

    return report, runs


def predict(args: argparse.Namespace, report: dict[str, Any], runs: dict[str, RunResult], cut: Any) -> None:
    """The simulator on the bench's storm, with each mode's processing time from step 1 at 0 ms."""
    zero = report["delays"]["0"]
    defaults = Params()
    stations = dict(defaults.stations)
    # One Keystone process under the GIL: one worker; its time per request is a sixth of oslo.limit's
    # claim at 0 ms (two checks of CHECK_TRIPS requests each).
    stations["keystone"] = StationParams(workers=1, service_ms=zero["oslo.limit"]["p50"] / (2 * CHECK_TRIPS))
    # A refusal at the service writes nothing (measured from runs after 2026-12-02 08:40).
    refusal = zero.get("escrow refused", {}).get("p50")
    params = replace(
        defaults, stations=stations, quota_claim_ms=zero["escrow"]["p50"], quota_refusal_ms=refusal
    )
    report["calibration"] = {
        "quota_claim_ms": params.quota_claim_ms,
        "quota_refusal_ms": params.quota_refusal_ms,
        "keystone_ms": stations["keystone"].service_ms,
    }
    print(f"\ncalibration (step 1, 0 ms): {json.dumps(report['calibration'])}")
    print(f"simulator on the {report.get('storm_delay_ms', STORM_DELAY_MS):g} ms storm with its cut:")
    print(f"{'mode':>16} {'claims':>8} {'bench p50':>10} {'sim p50':>10} {'error':>8}")
    for mode in ("escrow", "unified-limits"):
        bench = runs[mode]
        storm = Storm(duration_s=args.storm_s, cut=cut, hold_s=args.hold_s)
        sim = simulated(storm, mode=mode, limit=args.limit, delay_ms=STORM_DELAY_MS, params=params)
        runs[f"sim-{mode}"] = sim
        for which in ("granted", "all"):
            field = "granted_claim_ms_p50" if which == "granted" else "claim_ms_p50"
            b, s = getattr(bench.quotas[0], field), getattr(sim.quotas[0], field)
            err = (s - b) / b if b and s is not None else None
            report["storm"][mode][f"sim_{field}"] = s
            report["storm"][mode][f"bench_{field}"] = b
            report["storm"][mode][f"sim_error_{which}"] = err
            line = (
                f"{mode:>16} {which:>8} {b:10.2f} {s:10.2f} {err:+8.1%}"
                if err is not None
                else f"{mode} {b} {s}"
            )
            print(line)


if __name__ == "__main__":
    main()
