"""What the quota bench measures on `QuotaSites`: claim latency at a site against the WAN delay (the
quota service, oslo.limit as nova checks, and a plain local call for reference), and a claim storm
with a cut — over-commit, what the cut-off site could still do, how oslo.limit failed or hung —
written in the common result schema so `compare-results` sets it beside the simulator's run."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text

from wanstack.quotabench.sites import SERVER_CLAIM, Claim, Cloud, QuotaSites, call
from wanstack.results.schema import QuotaStats, RunResult


def percentile(values: list[float], q: float) -> float | None:
    """The `q`-th percentile (0-100) of `values`, or None when there are none."""
    return float(np.percentile(values, q)) if values else None


def latency(
    sites: QuotaSites, cloud: Cloud, region: str, n: int, *, oslo: int | None = None, gap_s: float = 0.1
) -> dict[str, list[float]]:
    """`n` claims and releases at `region` on each path (oslo.limit's: `oslo` of them), and `n`
    local calls (a GET of the region's service, answered without any work), `gap_s` apart: the
    pace of a site's claims, not back to back (on this kind of machine a process woken after an idle
    spell answers later than a busy one: the bench-host model's warmth)."""
    body = {"project": cloud.project_id, "resources": SERVER_CLAIM}
    out: dict[str, list[float]] = {"local call": [], "escrow": [], "escrow refused": [], "oslo.limit": []}
    # A refused claim: more servers than any share holds (decided from the counters, nothing written).
    too_many = {"project": cloud.project_id, "resources": {"instances": 10**9}}
    for _ in range(n):
        out["local call"].append(call(sites.urls[region], "GET", "/").ms)
        time.sleep(gap_s)
        got = call(sites.urls[region], "POST", "/v1/claims", cloud.member_token, too_many)
        if got.status != 403:
            raise RuntimeError(f"a claim of 10^9 servers at {region}: {got.status} {got.error}")
        out["escrow refused"].append(got.ms)
        time.sleep(gap_s)
    for path, url, token, count in (
        ("escrow", sites.urls.get(region), cloud.member_token, n),
        ("oslo.limit", sites.enforcers.get(region), "", n if oslo is None else oslo),
    ):
        if url is None:
            continue
        call(url, "POST", "/v1/claims", token, body)  # a warm-up: the token checked, connections made
        for _ in range(count):
            got = call(url, "POST", "/v1/claims", token, body)
            if got.status != 201:
                raise RuntimeError(f"{path} at {region}: {got.status} {got.error}")
            out[path].append(got.ms)
            call(url, "DELETE", f"/v1/claims/{got.id}", token)
            time.sleep(gap_s)
    return out


@dataclass
class Storm:
    """Claims arriving as a Poisson process at every region, each server kept for an exponential
    time then released; the first region is cut off from the top site during `cut`."""

    rate_per_s: float = 4.0
    hold_s: float = 5.0
    duration_s: float = 180.0
    cut: tuple[float, float] | None = (60.0, 120.0)
    seed: int = 1
    claims: list[tuple[str, Claim, float | None]] = field(default_factory=list)  # region, claim, released
    cut_wall: tuple[float, float] = (0.0, 0.0)  # the cut, in time.time()

    def run(self, sites: QuotaSites, cloud: Cloud, path: str) -> None:
        """`path`: "escrow" (the quota service) or "oslo.limit" (the enforcers)."""
        urls = sites.urls if path == "escrow" else sites.enforcers
        token = cloud.member_token if path == "escrow" else ""
        body = {"project": cloud.project_id, "resources": SERVER_CLAIM}
        lock = threading.Lock()
        threads: list[threading.Thread] = []
        start = time.monotonic()

        def one(region: str, rng_hold: float) -> None:
            got = call(urls[region], "POST", "/v1/claims", token, body, timeout_s=self.duration_s)
            released = None
            if got.status == 201:
                time.sleep(rng_hold)
                released = time.time()
                call(urls[region], "DELETE", f"/v1/claims/{got.id}", token, timeout_s=self.duration_s)
            with lock:
                self.claims.append((region, got, released))

        def arrivals(region: str, rng: random.Random) -> None:
            at = rng.expovariate(self.rate_per_s)
            while at < self.duration_s:
                time.sleep(max(0.0, start + at - time.monotonic()))
                thread = threading.Thread(
                    target=one, args=(region, rng.expovariate(1 / self.hold_s)), daemon=True
                )
                thread.start()
                with lock:
                    threads.append(thread)
                at += rng.expovariate(self.rate_per_s)

        makers = [
            threading.Thread(target=arrivals, args=(r, random.Random(f"{self.seed}:{r}")), daemon=True)
            for r in sites.regions
        ]
        if self.cut is not None:
            makers.append(threading.Thread(target=self._cut, args=(sites, start, self.cut), daemon=True))
        for t in makers:
            t.start()
        for t in makers:
            t.join()
        for t in list(threads):
            t.join(self.duration_s + 30)

    def _cut(self, sites: QuotaSites, start: float, cut: tuple[float, float]) -> None:
        time.sleep(max(0.0, start + cut[0] - time.monotonic()))
        sites.cut(sites.regions[0])
        self.cut_wall = (time.time(), time.time() + cut[1] - cut[0])
        time.sleep(max(0.0, start + cut[1] - time.monotonic()))
        sites.restore(sites.regions[0])

    # --- what it showed ---------------------------------------------------------------------------
    def during_cut(self, region: str) -> list[Claim]:
        a, b = self.cut_wall
        return [c for r, c, _ in self.claims if r == region and a <= c.started < b]

    def summary(self, region: str) -> dict[str, Any]:
        """What happened to the claims sent at `region` while it was cut off."""
        cut = self.during_cut(region)
        hung = [c for c in cut if c.ms > 1000]
        return {
            "claims": len(cut),
            "granted": sum(c.status == 201 for c in cut),
            "refused": sum(c.status == 403 for c in cut),
            "errors": sum(c.status not in (201, 403) for c in cut),
            "hung_over_1s": len(hung),
            "longest_s": round(max((c.ms for c in cut), default=0.0) / 1000, 1),
            "p50_ms": percentile([c.ms for c in cut], 50),
        }


def peak_from_databases(root: Path, regions: list[str], project: str, *, since: float = 0.0) -> int:
    """The most servers held at once across every region from `since` (time.time()) on, from the regions'
    own claim records (one machine, one clock)."""
    return peak_since(claim_rows(root, regions, project), since)


@dataclass(frozen=True)
class ClaimRow:
    """A claim as its region's database holds it."""

    region: str
    id: str
    key: str | None
    instances: int
    created_at: float
    released_at: float | None


def claim_rows(root: Path, regions: list[str], project: str) -> list[ClaimRow]:
    """Every claim of `project` in the regions' databases (`root/REGION.db`, as `QuotaSites` keeps them)."""
    rows = []
    for region in regions:
        engine = create_engine(f"sqlite:///{root / region}.db")
        try:
            with engine.connect() as conn:
                found = conn.execute(
                    text(
                        "SELECT id, idempotency_key, instances, created_at, released_at FROM region_claims"
                        " WHERE project = :p"
                    ),
                    {"p": project},
                )
                rows += [ClaimRow(region, *r) for r in found]
        finally:
            engine.dispose()
    return rows


def peak_since(rows: list[ClaimRow], since: float) -> int:
    """The most instances held at once across the regions from `since` (time.time()) on: the claims held
    then, and every claim and release after."""
    base = sum(
        r.instances
        for r in rows
        if r.created_at < since and (r.released_at is None or r.released_at >= since)
    )
    events = [(since, base)]
    for r in rows:
        if r.created_at >= since:
            events.append((r.created_at, r.instances))
        if r.released_at is not None and r.released_at >= since:
            events.append((r.released_at, -r.instances))
    return peak_held(events)


def peak_from_clients(storm: Storm) -> int:
    """The most servers granted and not yet released at once, as the clients saw them (from the
    answer to the release: a lower bound on what the enforcers held)."""
    events: list[tuple[float, int]] = []
    for _, claim, released in storm.claims:
        if claim.status == 201 and released is not None:
            events += [(claim.started + claim.ms / 1000, 1), (released, -1)]
    return peak_held(events)


def peak_held(events: list[tuple[float, int]]) -> int:
    """The most held at once, from (time, +n held / −n released) events."""
    peak = held = 0
    for _, n in sorted(events):  # a release before a claim at the same instant
        held += n
        peak = max(peak, held)
    return peak


def result(storm: Storm, *, mode: str, limit: int, peak: int, delay_ms: float) -> RunResult:
    """The storm in the common schema (the simulator's `quotas` rows)."""
    samples = [c.ms for _, c, _ in storm.claims]
    stats = QuotaStats(
        project="demo",
        resource="instances",
        mode=mode,
        limit=limit,
        claims=len(storm.claims),
        refused=sum(c.status != 201 for _, c, _ in storm.claims),
        peak_usage=peak,
        over_commit_peak=max(0, peak - limit),
        claim_ms_count=len(samples),
        claim_ms_p50=percentile(samples, 50),
        claim_ms_p95=percentile(samples, 95),
        granted_claim_ms_p50=percentile([c.ms for _, c, _ in storm.claims if c.status == 201], 50),
        refused_claim_ms_p50=percentile([c.ms for _, c, _ in storm.claims if c.status != 201], 50),
    )
    return RunResult(
        engine="bench",
        scenario=f"quota storm, {delay_ms:g} ms"
        + (f", cut {storm.cut[0]:g}-{storm.cut[1]:g} s" if storm.cut else ""),
        model="region-per-site-central-keystone",
        rpc_backend="-",
        notification_backend="-",
        seed=storm.seed,
        duration_s=storm.duration_s,
        quotas=[stats],
    )
