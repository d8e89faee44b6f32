"""The quota service under load: many clients at once, each on an HTTP/1.1 keep-alive connection of its
own, claiming a server at its region, holding it for a while and releasing it, or waiting after a
refusal and trying again — with, optionally, a service killed (`kill -9`) and started again in the middle.

What is counted, and where from:

- the clients' view: every claim's answer and time (from its first send to its final answer, retries
  included), every connection error by kind (resets, refusals, a connection closed mid-answer, a
  timeout) and every 5xx;
- the regions' databases, read afterwards (`claim_rows`): the most servers held at once across the
  regions (over-commit: that peak above the limit), and each claim the clients saw granted matched with
  its row by its Idempotency-Key: lost (a 201 with no row), counted twice (a key with two rows), held
  for nobody (a row whose client never saw its 201), a release answered but not written.

A client retries a claim whose answer did not come (a reset, a refused connection while a region is
down, a 503) with the same Idempotency-Key, as the region's API asks (`multiregion/service/region.py`),
backing off from 50 ms, doubling, to at most 1 s, until `claim_deadline_s`; a release is retried the
same way (a 404 after a retry: it was released by the attempt whose answer was lost).
"""

from __future__ import annotations

import http.client
import json
import random
import resource
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from wanstack.lab.keystone import KeystoneServer
from wanstack.quotabench.runs import ClaimRow, claim_rows, peak_since, percentile
from wanstack.quotabench.sites import Cloud, QuotaSites, call, get

# A keep-alive connection idle this long is opened anew before the next request, as httpx does
# (`keepalive_expiry`, 5 s by default: httpx/_config.py DEFAULT_LIMITS); the services close one silent
# for 10 s (`multiregion/service/http.py`, TIMEOUT_S), and a request sent as the server closes its side
# is lost with a reset that is the client's doing, not the server's.
KEEPALIVE_EXPIRY_S = 5.0
# Retries: from 50 ms, doubling, at most 1 s apart (urllib3's Retry backoff with a cap; no standard).
BACKOFF_S = (0.05, 1.0)
# A thread's stack: 1,000 clients at Linux's default of 8 MiB each would reserve 8 GiB of address space;
# a client needs a few frames of http.client (CPython's own threads run on 256 KiB where asked).
STACK_BYTES = 512 * 1024
REGIONS = ["edge-1", "edge-2"]
# How long the clients wait for one another to be connected before they all start (a client that could
# not start breaks the barrier instead of leaving the others waiting).
BARRIER_S = 120.0
# Descriptors: a connection per client, its retries, and the relays beside them.
FILES_PER_CLIENT = 4


@dataclass(frozen=True)
class Answer:
    """One request's outcome after its retries: the final status (0: none within the deadline), the JSON
    body, how many times it was sent, and the errors on the way (by kind, e.g. `ConnectionResetError`,
    `HTTP 503`), and whether the service said it replayed an answer given before (`Idempotent-Replayed`)."""

    status: int
    body: Any
    tries: int
    errors: tuple[str, ...]
    replayed: bool = False


@dataclass(frozen=True)
class ClaimRecord:
    """A client's claim: its region, Idempotency-Key, final answer (0: none), the claim's id when granted,
    when it was first sent (`time.time()`), how long until its final answer (ms), how many times it was
    sent, the errors on the way (the release's included), the release's final status (0: not released by
    the client), and when the client was done with it."""

    region: str
    key: str
    status: int
    claim_id: str
    sent: float
    ms: float
    tries: int
    errors: tuple[str, ...]
    released: int = 0
    done: float = 0.0  # time.time() when the client was done with it (released, or refused)
    replayed: bool = False  # granted by an attempt whose answer was lost, told by a retry


class Client:
    """One client's HTTP/1.1 connection to its region, kept alive between requests, opened anew after an
    error or `KEEPALIVE_EXPIRY_S` idle."""

    def __init__(self, url: str, token: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token, self.timeout_s = token, timeout_s
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0.0
        self.opened = 0  # connections opened (the first one included)

    def open(self) -> None:
        """A new connection to the region (connected now: its errors are the caller's to count)."""
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        self.opened += 1
        self.conn.connect()
        self.used = time.monotonic()

    def close(self) -> None:
        """The connection closed, if there is one."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def once(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, bool]:
        """One request on the connection (opened first when there is none or it idled too long)."""
        if self.conn is None or time.monotonic() - self.used > KEEPALIVE_EXPIRY_S:
            self.close()
            self.open()
        assert self.conn is not None
        payload = json.dumps(body).encode() if body is not None else None
        sent = {"X-Auth-Token": self.token, "Content-Type": "application/json", **headers}
        self.conn.request(method, path, body=payload, headers=sent)
        response = self.conn.getresponse()
        raw = response.read()
        self.used = time.monotonic()
        if response.will_close:
            self.close()
        replayed = response.getheader("Idempotent-Replayed") == "true"
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:  # e.g. the server's own plain-text 500
            answer = raw.decode(errors="replace")
        return response.status, answer, replayed

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        deadline: float,
    ) -> Answer:
        """The request, sent again after a connection error or a 503 until it is answered or `deadline`
        (monotonic) passes."""
        errors: list[str] = []
        tries = 0
        wait = BACKOFF_S[0]
        while True:
            tries += 1
            try:
                status, answer, replayed = self.once(method, path, body, headers or {})
            except (OSError, http.client.HTTPException) as err:
                self.close()
                errors.append(type(err).__name__)
            else:
                if status != 503:
                    return Answer(status, answer, tries, tuple(errors), replayed)
                errors.append("HTTP 503")
            if time.monotonic() + wait > deadline:
                return Answer(0, None, tries, tuple(errors))
            time.sleep(wait)
            wait = min(BACKOFF_S[1], wait * 2)


@dataclass(frozen=True)
class LoadPlan:
    """A load run: `clients` at once spread evenly over the regions, each claiming `claim` for `project` for
    `duration_s`, holding a granted server an exponential `hold_s` and waiting an exponential `think_s`
    after a refusal (both cut short at the run's end, when every client releases what it holds); each
    claim answered within `claim_deadline_s` (retries included) or given up."""

    clients: int
    project: str
    token: str
    duration_s: float = 20.0
    hold_s: float = 1.0
    think_s: float = 1.0
    claim: dict[str, int] = field(default_factory=lambda: {"instances": 1, "cores": 1, "ram_mb": 512})
    claim_deadline_s: float = 60.0
    timeout_s: float = 30.0
    seed: int = 1
    tag: str = "load"  # the runs' Idempotency-Keys start with it (unique per run)


@dataclass
class LoadRun:
    """What the clients saw: every claim, the errors of connecting at the start, what happened when
    (`events`: (time.time(), what), e.g. a kill), and the run's wall-clock span."""

    plan: LoadPlan
    claims: list[ClaimRecord] = field(default_factory=list)
    connect_errors: Counter[str] = field(default_factory=Counter)
    connections: int = 0  # connections the clients opened, every client's first included
    events: list[tuple[float, str]] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def errors(self) -> Counter[str]:
        """Every connection error and 5xx the clients met, by kind, the start's connections included."""
        out = Counter(self.connect_errors)
        for c in self.claims:
            out.update(c.errors)
        return out

    @property
    def faulty(self) -> tuple[float, float] | None:
        """From the first fault's start to the last one's end (time.time()), None without faults."""
        return (self.events[0][0], self.events[-1][0]) if self.events else None

    def during_faults(self, claim: ClaimRecord) -> bool:
        """Whether the client was busy with `claim` (claiming, holding, releasing) while a fault was on."""
        span = self.faulty
        return span is not None and claim.sent <= span[1] and claim.done >= span[0]


def raise_open_files(clients: int) -> int:
    """The soft limit on open files raised to what `clients` need (at most the hard limit); the new limit.
    Processes started afterwards (the services) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1024 + FILES_PER_CLIENT * clients
    if soft != resource.RLIM_INFINITY and soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def run_load(
    urls: dict[str, str], plan: LoadPlan, faults: list[tuple[float, str, Callable[[], None]]]
) -> LoadRun:
    """`plan.clients` clients at once against the regions' services at `urls` (region → URL; client i at
    the (i mod n)-th), every connection opened before any client starts; `faults` (seconds after the
    start, what, action) run in a thread of their own as the clients go on."""
    raise_open_files(plan.clients)
    regions = sorted(urls)
    run = LoadRun(plan)
    lock = threading.Lock()
    start_at: list[float] = []

    def go() -> None:  # once every client is connected, before any is let go
        start_at.append(time.monotonic())
        run.started = time.time()

    ready = threading.Barrier(plan.clients + 1, action=go)

    def client(i: int) -> None:
        region = regions[i % len(regions)]
        rng = random.Random(f"{plan.seed}:{i}")
        me = Client(urls[region], plan.token, plan.timeout_s)
        try:
            me.open()
        except OSError as err:  # counted; the client connects again at its first claim
            me.close()
            with lock:
                run.connect_errors[type(err).__name__] += 1
        ready.wait(BARRIER_S)
        end = start_at[0] + plan.duration_s
        n = 0
        body = {"project": plan.project, "resources": plan.claim}
        while time.monotonic() < end:
            key = f"{plan.tag}:{i}:{n}"
            n += 1
            sent, t0 = time.time(), time.monotonic()
            got = me.request(
                "POST", "/v1/claims", body, {"Idempotency-Key": key}, deadline=t0 + plan.claim_deadline_s
            )
            ms = (time.monotonic() - t0) * 1000
            claim_id = got.body["claim"]["id"] if got.status == 201 else ""
            released = 0
            if got.status == 201:
                # Held its time, or until the run ends: every client gives back what it holds then.
                time.sleep(min(rng.expovariate(1 / plan.hold_s), max(0.0, end - time.monotonic())))
                gone = me.request(
                    "DELETE", f"/v1/claims/{claim_id}", deadline=time.monotonic() + plan.claim_deadline_s
                )
                # A 404 after a retry: the attempt whose answer was lost released it.
                released = 204 if gone.status == 404 and gone.tries > 1 else gone.status
                errors = got.errors + gone.errors
            else:
                time.sleep(min(rng.expovariate(1 / plan.think_s), max(0.0, end - time.monotonic())))
                errors = got.errors
            record = ClaimRecord(
                region,
                key,
                got.status,
                claim_id,
                sent,
                ms,
                got.tries,
                errors,
                released,
                time.time(),
                got.replayed,
            )
            with lock:
                run.claims.append(record)
        me.close()
        with lock:
            run.connections += me.opened

    def inject() -> None:
        for at_s, what, action in sorted(faults, key=lambda f: f[0]):
            time.sleep(max(0.0, start_at[0] + at_s - time.monotonic()))
            run.events.append((time.time(), f"{what} (started)"))
            action()
            run.events.append((time.time(), f"{what} (done)"))

    previous = threading.stack_size(STACK_BYTES)
    try:
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(plan.clients)]
        for thread in threads:
            thread.start()
    finally:
        threading.stack_size(previous)
    ready.wait(BARRIER_S)
    chaos = threading.Thread(target=inject, daemon=True)
    chaos.start()
    for thread in threads:
        thread.join(plan.duration_s + 2 * plan.claim_deadline_s + plan.hold_s * 20)
    chaos.join(120)
    run.ended = time.time()
    return run


def findings(run: LoadRun, rows: list[ClaimRow], limit: int) -> dict[str, Any]:
    """The run's figures: the clients' (claims, answers, errors, latency) and the databases' (peak held,
    over-commit, the clients' grants matched with the rows by Idempotency-Key)."""
    mine = [r for r in rows if r.key is not None and r.key.startswith(f"{run.plan.tag}:")]
    by_key: dict[str, list[ClaimRow]] = {}
    for r in mine:
        by_key.setdefault(r.key or "", []).append(r)
    granted = {c.key: c for c in run.claims if c.status == 201}
    answered = [c.ms for c in run.claims if c.status in (201, 403)]
    errors = run.errors()
    server_errors = sum(n for kind, n in errors.items() if kind.startswith("HTTP 5")) + sum(
        1 for c in run.claims if c.status >= 500
    )
    resets = sum(n for kind, n in errors.items() if not kind.startswith("HTTP"))
    in_faults = sum(
        1 for c in run.claims if run.during_faults(c) for e in c.errors if not e.startswith("HTTP")
    )
    calm = [c.ms for c in run.claims if c.status in (201, 403) and not run.during_faults(c)]
    released = {r.id for r in mine if r.released_at is not None}
    peak = peak_since(rows, run.started)
    return {
        "clients": run.plan.clients,
        "claims": len(run.claims),
        "granted": len(granted),
        "refused": sum(c.status == 403 for c in run.claims),
        "unanswered": sum(c.status == 0 for c in run.claims),
        "other": sum(c.status not in (0, 201, 403) for c in run.claims),
        "connection errors": resets,
        "connection errors during faults": in_faults,
        "server errors": server_errors,
        "errors by kind": dict(sorted(errors.items())),
        "connections": run.connections,
        "retried claims": sum(c.tries > 1 for c in run.claims),
        "replayed claims": sum(c.replayed for c in run.claims),
        "p50 ms": percentile(answered, 50),
        "p99 ms": percentile(answered, 99),
        "max ms": max(answered, default=None),
        "p99 ms away from faults": percentile(calm, 99),
        "limit": limit,
        "peak held": peak,
        "over-commit": max(0, peak - limit),
        # The clients' grants against the rows.
        "lost": sum(1 for k in granted if k not in by_key),
        "counted twice": sum(1 for k, found in by_key.items() if len(found) > 1),
        "wrong claim": sum(1 for k, c in granted.items() if k in by_key and c.claim_id != by_key[k][0].id),
        "held for nobody": sum(1 for k in by_key if k not in granted),
        "release lost": sum(1 for c in granted.values() if c.released == 204 and c.claim_id not in released),
        "held at the end": sum(1 for r in mine if r.released_at is None),
    }


# --- the runs on QuotaSites -------------------------------------------------------------------------------

# Cores and RAM far above what the runs claim (within the limits' bounds, `multiregion/service/bounds.py`):
# only instances limit the runs.
ROOMY = {"cores": 1_000_000, "ram": 1_000_000_000}


def set_limit(sites: QuotaSites, cloud: Cloud, instances: int) -> None:
    """The project's global limit of `instances` set at the coordinator (Kingbird's PUT)."""
    base = f"/v1.0/{cloud.project_id}/os-quota-sets/{cloud.project_id}"
    got = call(
        sites.urls["coordinator"],
        "PUT",
        base,
        cloud.admin_token,
        {"quota_set": {"instances": instances, **ROOMY}},
    )
    if got.status != 200:
        raise RuntimeError(f"setting the limit: {got.status} {got.error}")


def shares(sites: QuotaSites, cloud: Cloud) -> dict[str, int | None]:
    """Each region's share of the project's instances as the region holds it (None: none known)."""
    held: dict[str, int | None] = {}
    for region in sites.regions:
        for s in get(sites.urls[region], "/v1/shares", cloud.admin_token, timeout_s=60)["shares"]:
            if s["resource"] == "instances" and s["project"] == cloud.project_id:
                held[region] = s["share"]
    return held


def release_all(sites: QuotaSites, cloud: Cloud) -> int:
    """Every live claim of the project released at every region; how many there were."""
    n = 0
    for region in sites.regions:
        url = sites.urls[region]
        for claim in get(url, f"/v1/claims?project={cloud.project_id}", cloud.admin_token)["claims"]:
            call(url, "DELETE", f"/v1/claims/{claim['id']}", cloud.admin_token)
            n += 1
    return n


def settle(sites: QuotaSites, cloud: Cloud, limit: int, timeout_s: float = 120.0) -> None:
    """Nothing held, the limit set, and every region holding its share of it (the syncs done: together
    the limit, but for the remainder of an even split that the coordinator's pool may keep); each region
    has seen the member's token (checked at Keystone once, then kept, as a warm service has it)."""
    release_all(sites, cloud)
    set_limit(sites, cloud, limit)
    deadline = time.monotonic() + timeout_s
    while True:
        held = shares(sites, cloud)
        known = [s for s in held.values() if s is not None]
        if len(known) == len(sites.regions) and sum(known) > limit - len(sites.regions):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the shares did not add up to {limit}: {held}")
        time.sleep(0.2)
    for region in sites.regions:
        get(sites.urls[region], f"/v1/claims?project={cloud.project_id}", cloud.member_token, timeout_s=60)


def books_agree(sites: QuotaSites, cloud: Cloud, rows: list[ClaimRow]) -> dict[str, Any]:
    """The coordinator's books of the project's instances against the regions' databases, once every region
    has synced since: its pool plus every region's grant is the limit, and each region's usage as last
    reported is what the region's database holds live."""
    book = next(
        b
        for b in get(sites.urls["coordinator"], "/v1/books", cloud.admin_token)["books"]
        if b["project"] == cloud.project_id and b["resource"] == "instances"
    )
    live = Counter(r.region for r in rows if r.released_at is None for _ in range(r.instances))
    reported = {region: seen["used"] for region, seen in book["regions"].items()}
    return {
        "pool + granted = limit": book["pool"] + sum(g["granted"] for g in book["regions"].values())
        == book["limit"],
        "reported usage = databases": all(reported.get(r, 0) == live.get(r, 0) for r in sites.regions),
    }


@dataclass(frozen=True)
class LoadBench:
    """The load bench's runs: `clients` against a limit of `limit` instances, at one region, then at two
    (each behind relays of `delay_ms` one way to the top site), then at two with a region killed and with
    the coordinator killed `kill_at` of the way through each run, started again `down_s` later."""

    clients: int = 1000
    limit: int = 100
    duration_s: float = 30.0
    hold_s: float = 1.0
    think_s: float = 1.0
    delay_ms: float = 10.0
    rebalance_s: float = 1.0
    kill_at: float = 0.4
    down_s: float = 3.0
    runs: tuple[str, ...] = ("one region", "two regions", "region killed", "coordinator killed")

    def plan(self, cloud: Cloud, tag: str) -> LoadPlan:
        """One run's plan: the project's member claiming, its Idempotency-Keys starting with `tag`."""
        return LoadPlan(
            self.clients,
            cloud.project_id,
            cloud.member_token,
            duration_s=self.duration_s,
            hold_s=self.hold_s,
            think_s=self.think_s,
            tag=tag,
        )

    def run(
        self, keystone: KeystoneServer, cloud: Cloud, log: Callable[[str], None] = print
    ) -> dict[str, dict[str, Any]]:
        """Every run in `runs`, its figures by name (`findings`, plus the coordinator's books after it)."""
        out: dict[str, dict[str, Any]] = {}
        one = [r for r in self.runs if r == "one region"]
        two = [r for r in self.runs if r != "one region"]
        for regions, names in ((REGIONS[:1], one), (REGIONS, two)):
            if not names:
                continue
            raise_open_files(self.clients)  # before the services start: they inherit it
            with QuotaSites(keystone, regions, delay_ms=self.delay_ms, rebalance_s=self.rebalance_s) as sites:
                for name in names:
                    settle(sites, cloud, self.limit)
                    assert sites.root is not None
                    victim = {"region killed": regions[0], "coordinator killed": "coordinator"}.get(name)
                    faults: list[tuple[float, str, Callable[[], None]]] = []
                    if victim is not None:
                        at = self.kill_at * self.duration_s
                        faults = [
                            (at, f"kill -9 {victim}", partial(sites.kill, victim)),
                            (at + self.down_s, f"{victim} started again", partial(sites.revive, victim)),
                        ]
                    log(f"{name}: {self.clients} clients, limit {self.limit}, {self.duration_s:g} s …")
                    got = run_load(
                        {r: sites.urls[r] for r in regions}, self.plan(cloud, name.replace(" ", "-")), faults
                    )
                    time.sleep(3 * self.rebalance_s + 2 * self.delay_ms / 1000)  # every region synced since
                    rows = claim_rows(sites.root, regions, cloud.project_id)
                    figures = findings(got, rows, self.limit)
                    figures.update(books_agree(sites, cloud, rows))
                    figures["events"] = [(round(t - got.started, 2), what) for t, what in got.events]
                    out[name] = figures
        return out
