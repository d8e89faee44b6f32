"""The scenario's operations against the testbed, the way Rally runs them, with its observation.

Rally (rally 5.1.1 with rally-openstack 4.1.0) installs here, but every client it makes takes its
service URLs from Keystone's catalog, which holds one URL per service: it could not play a user at an
edge site (every request would go straight to the top site's address, bypassing that site's WAN link;
`testbed.rally` runs Rally itself, as a user at the top site). So this is a runner of wanstack's own
that keeps what Rally's measurement depends on:
- `times` operations, `concurrency` at a time (Rally's constant runner), each at its target site;
- a new authentication per iteration (a new Keystone token, requested from the user's site);
- Rally's observation of a server's state: after the request, a pre-poll delay, then a GET every
  poll interval until the state is reached (`wanstack.scenario.rally`: boot 1.0 s then every 2.0 s;
  delete at once then every 2.0 s; pause and unpause 2.0 s then every 2.0 s).
Each operation is measured twice:
- `op` (e.g. `boot`): as the service sees it — from the request (the token is already there, as the
  simulator's steady state has it cached) to the moment Nova writes the state, read in its cells'
  databases (`watch.StateWatch`; without them, the first moment the API shows it, by a poll every
  FINE_POLL_S from the user's site, which sees it late by about a round trip); what the simulator's
  `api` observer predicts;
- `op (rally)`: as Rally reports its atomic action — from the request until the first of Rally's
  polls that would see the state (its pre-poll delay and interval applied to that moment, plus the
  GET's own time).
The requests are plain REST calls on a keystoneauth session, so every call is one the testbed's users
make (no version discovery, no catalog lookup).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from wanstack.lab.openstack_env import ADMIN_AUTH
from wanstack.results.header import run_header
from wanstack.results.schema import OperationResult, RunResult
from wanstack.results.stats import latency_stats
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.rally import RALLY, rally_sees
from wanstack.scenario.workload import Operation, OperationKind
from wanstack.testbed.watch import StateWatch

FINE_POLL_S = 0.1
TIMEOUT_S = 300.0  # Rally's nova_server_*_timeout


SUPPORTED = tuple(RALLY)
# The state each operation waits for (None: the server is gone).
TARGET = {
    OperationKind.BOOT: "ACTIVE",
    OperationKind.DELETE: None,
    OperationKind.PAUSE: "PAUSED",
    OperationKind.UNPAUSE: "ACTIVE",
}
# The state of a server an operation acts on.
NEEDS = {OperationKind.DELETE: "ACTIVE", OperationKind.PAUSE: "ACTIVE", OperationKind.UNPAUSE: "PAUSED"}


@dataclass
class Outcome:
    """One iteration of `op` at `site`: its latency as the API sees it (from the request to Nova's write of
    the state, ms) and as Rally would report it (ms), both None when it failed, with `error` saying why."""

    op: OperationKind
    site: str
    api_ms: float | None = None  # as the API sees it (None: failed)
    rally_ms: float | None = None
    error: str = ""


@dataclass
class Servers:
    """The servers the workload made, by site and state, for the operations that need one."""

    by_state: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, site: str, state: str, server: str) -> None:
        with self.lock:
            self.by_state.setdefault((site, state), []).append(server)

    def take(self, site: str, state: str) -> str | None:
        with self.lock:
            found = self.by_state.get((site, state))
            return found.pop(0) if found else None

    def take_all(self, site: str) -> list[str]:
        """Every server made at `site`, whatever its state, no longer kept."""
        with self.lock:
            found = [k for k in self.by_state if k[0] == site]
            return [server for k in found for server in self.by_state.pop(k)]


@dataclass
class Runner:
    """Runs operations against the APIs as each site's users reach them (`apis[site][service]`)."""

    apis: dict[str, dict[str, str]]
    resources: dict[str, str]  # flavor, image, network ids
    watch: StateWatch | None = None  # where Nova writes a server's state (None: the API's polls)
    servers: Servers = field(default_factory=Servers)

    def session(self, site: str) -> Any:
        """A new keystoneauth session at `site`: its first request gets a new token (re-authentication
        per iteration, as Rally's users do)."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        auth = v3.Password(auth_url=f"{self.apis[site]['keystone']}/v3", **ADMIN_AUTH)
        return session.Session(auth=auth)

    def run(self, op: OperationKind, site: str, extra: dict[str, str] | None = None) -> Outcome:
        """One iteration of `op` at `site`; `extra` headers go with the operation's request only (a
        trace's, `trace.traced`), not with the polls."""
        outcome = Outcome(op, site)
        nova = f"{self.apis[site]['nova-api']}/v2.1"
        server: str | None = None
        if op in NEEDS:
            server = self.servers.take(site, NEEDS[op])
            if server is None:
                outcome.error = f"no {NEEDS[op].lower()} server at the site"
                return outcome
        s = self.session(site)
        headers = {"OpenStack-API-Version": "compute 2.74"}
        request = {**headers, **(extra or {})}
        try:
            s.get_token()  # the iteration's authentication, from the user's site
            requested = time.monotonic()
            if op is OperationKind.BOOT:
                body = {
                    "server": {
                        "name": f"wanstack-{site}",
                        "imageRef": self.resources["image"],
                        "flavorRef": self.resources["flavor"],
                        "networks": [{"uuid": self.resources["network"]}],
                        "host": site,  # microversion 2.74: on this site's compute, through the scheduler
                    }
                }
                server = s.post(f"{nova}/servers", json=body, headers=request).json()["server"]["id"]
            elif op is OperationKind.DELETE:
                s.delete(f"{nova}/servers/{server}", headers=request)
            else:
                s.post(f"{nova}/servers/{server}/action", json={op.value: None}, headers=request)
            returned = time.monotonic()
            assert server is not None
            written = None if self.watch is None else self.watch.wait(server, TARGET[op], TIMEOUT_S)
            # The API shows it (at once when it was read as written): a GET's time for Rally's view.
            seen, get_s = self._wait(s, f"{nova}/servers/{server}", headers, TARGET[op])
            seen = seen if written is None else written
        except Exception as err:
            outcome.error = type(err).__name__ + (f": {err}" if str(err) else "")
            return outcome
        outcome.api_ms = (seen - requested) * 1000.0
        outcome.rally_ms = (rally_sees(RALLY[op], returned, seen) + get_s - requested) * 1000.0
        if TARGET[op] is not None:
            self.servers.add(site, str(TARGET[op]), server)
        return outcome

    def discard(self, site: str) -> int:
        """Delete every server this runner made at `site` and still holds, untimed, and wait until each
        is gone; how many there were."""
        servers = self.servers.take_all(site)
        if servers:
            s = self.session(site)
            nova = f"{self.apis[site]['nova-api']}/v2.1"
            headers = {"OpenStack-API-Version": "compute 2.74"}
            for server in servers:
                s.delete(f"{nova}/servers/{server}", headers=headers)
            for server in servers:
                self._wait(s, f"{nova}/servers/{server}", headers, None)
        return len(servers)

    def _wait(self, s: Any, url: str, headers: dict[str, str], target: str | None) -> tuple[float, float]:
        """Poll until the server is in `target` (None: DELETED or gone); when it first was, a GET's time."""
        deadline = time.monotonic() + TIMEOUT_S
        gets: list[float] = []
        while time.monotonic() < deadline:
            before = time.monotonic()
            response = s.get(url, headers=headers, raise_exc=False)
            now = time.monotonic()
            gets.append(now - before)
            if target is None and response.status_code == 404:
                return now, sum(gets) / len(gets)
            if response.status_code == 200:
                status = response.json()["server"]["status"]
                # A delete is done once the server shows DELETED, before its row goes (Rally's
                # `_delete_server` waits for "deleted" or a 404, rally's `utils.wait_for_status`).
                if status == target or (target is None and status == "DELETED"):
                    return now, sum(gets) / len(gets)
                if status == "ERROR":
                    fault = response.json()["server"].get("fault", {}).get("message", "")
                    raise RuntimeError(f"server in ERROR: {fault}")
            time.sleep(FINE_POLL_S)
        raise TimeoutError(f"not {target or 'gone'} in {TIMEOUT_S:.0f} s")


def run_workload(
    infra: Infrastructure,
    runner: Runner,
    sites: list[str],
    say: Callable[[str], None] | None = None,
    *,
    spread_s: float = 0.0,
) -> RunResult:
    """The scenario's operations with `times` (Rally's constant runner), one kind after the other, at
    their sites (default: the testbed's compute sites) — as one `RunResult` of engine `testbed`.

    `spread_s`: each iteration first waits a uniform draw in [0, spread_s) (seeded by the scenario's
    seed). Back-to-back iterations of a steady length keep one phase against a service's periodic
    loop (the Open vSwitch agent's, every `polling_interval`): every boot of a sample then waits the
    same part of the loop, one draw for all. Spread over the loop's period, each waits its own."""
    wall = time.perf_counter()
    outcomes: list[Outcome] = []
    started = time.monotonic()
    for spec in infra.scenario.workload.operations:
        if spec.op not in SUPPORTED or spec.times is None:
            raise ValueError(
                f"the testbed runs {', '.join(k.value for k in SUPPORTED)} with `times`, not {spec.op.value}"
            )
        targets = [s for s in (spec.sites or sites) if s in sites]
        if not targets:
            raise ValueError(f"{spec.op.value}: none of its sites runs a nova-compute on the testbed")
        pauses = random.Random(f"{infra.scenario.run.seed}:{spec.op.value}:{spec.start_s}")
        spread = [pauses.uniform(0.0, spread_s) if spread_s > 0 else 0.0 for _ in range(spec.times)]
        outcomes += _constant(runner, spec, targets, say, spread)
    return _result(infra, outcomes, time.monotonic() - started, time.perf_counter() - wall)


def _constant(
    runner: Runner,
    spec: Operation,
    sites: list[str],
    say: Callable[[str], None] | None,
    pauses_s: list[float],
) -> list[Outcome]:
    times = spec.times or 0
    done: list[Outcome] = []

    def one(i: int) -> Outcome:
        if pauses_s[i]:
            time.sleep(pauses_s[i])
        outcome = runner.run(spec.op, sites[i % len(sites)])
        if say is not None:
            took = "failed: " + outcome.error if outcome.api_ms is None else f"{outcome.api_ms:.0f} ms"
            say(f"{spec.op.value} {i + 1}/{times} at {outcome.site}: {took}")
        return outcome

    pool = ThreadPoolExecutor(max_workers=spec.concurrency)
    try:
        done += pool.map(one, range(times))
    finally:  # Ctrl-C: the iterations not yet started are not started
        pool.shutdown(wait=True, cancel_futures=True)
    return done


def _result(infra: Infrastructure, outcomes: list[Outcome], duration_s: float, wall_s: float) -> RunResult:
    operations = []
    for kind in SUPPORTED:
        mine = [o for o in outcomes if o.op is kind]
        if not mine:
            continue
        ok = [o for o in mine if o.api_ms is not None]
        reasons: dict[str, int] = {}
        for o in mine:
            if o.api_ms is None:
                reasons[o.error] = reasons.get(o.error, 0) + 1
        for name, values in (
            (kind.value, [o.api_ms for o in ok if o.api_ms is not None]),
            (f"{kind.value} (rally)", [o.rally_ms for o in ok if o.rally_ms is not None]),
        ):
            operations.append(
                OperationResult(
                    op=name,
                    submitted=len(mine),
                    succeeded=len(ok),
                    failed=len(mine) - len(ok),
                    timed_out=sum(1 for o in mine if o.error.startswith("TimeoutError")),
                    latency_ms=latency_stats(values),
                    failure_reasons=reasons,
                )
            )
    return RunResult(
        **run_header(infra, "testbed"),
        duration_s=duration_s,
        wall_time_s=wall_s,
        operations=operations,
    )
