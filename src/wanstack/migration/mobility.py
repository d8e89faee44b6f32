"""Mobile edge: a user moves, and the VM serving them may follow (follow-me migration).

A trace is a sequence of (time, position) — a site name, or a latitude/longitude mapped to the nearest
site with a location. Three policies are replayed on it, second by second:

- `stay`: the VM never moves;
- `nearest`: the VM is migrated to the user's nearest site whenever that changes;
- `advisor`: at each change, the advisor (`advisor.advise`, users at the new site, its horizon the
  time the user is expected to stay) decides whether to move and where.

While a move runs the VM serves from its old site; it is down for the move's downtime at the switch.
The user's round trip is the WAN path's RTT between their site and the VM's, plus `access_rtt_ms`.
Reported per policy: mean and p95 round trip, migrations, bytes over the WAN, total downtime.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from wanstack.migration.advisor import Weights
from wanstack.migration.context import Conditions, advise_vm, rtt_ms
from wanstack.migration.fleet import Fleet, Vm
from wanstack.migration.inputs import read_model
from wanstack.migration.routes import move_cost, route
from wanstack.migration.settings import MigrationSettings
from wanstack.scenario.build import Infrastructure
from wanstack.topology import great_circle_km

# Assumed radio access round trip (user equipment to its edge site), 4G/5G order of magnitude.
ACCESS_RTT_MS = 10.0


class TracePoint(BaseModel):
    """Where the user is from `t_s` (s) on: a site of the scenario, or a latitude and longitude (the nearest
    site with a location)."""

    model_config = ConfigDict(extra="forbid")

    t_s: float = Field(ge=0)
    site: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)

    @model_validator(mode="after")
    def _where(self) -> TracePoint:
        if self.site is None and (self.lat is None or self.lon is None):
            raise ValueError("give a site, or lat and lon")
        return self


class Trace(BaseModel):
    """A user's trace (a file for `load_trace`): their positions in time, and when it ends."""

    model_config = ConfigDict(extra="forbid")

    points: list[TracePoint] = Field(min_length=1)
    end_s: float | None = Field(None, description="End of the trace (default: last point + 10 min).")


def load_trace(path: FsPath) -> Trace:
    """A trace from a YAML or JSON file (`Trace`); ValueError naming the file and the wrong field."""
    return read_model(path, Trace)


def site_of(infra: Infrastructure, p: TracePoint) -> str:
    """The scenario's site where the user at `p` is: its site, or the site with a location nearest its
    position (great-circle distance). ValueError for a site not in the scenario, or a position when no site
    has a location."""
    if p.site is not None:
        if p.site not in infra.sites:
            raise ValueError(f"trace point at {p.t_s} s: no site {p.site!r} in the scenario")
        return p.site
    lat, lon = p.lat, p.lon
    assert lat is not None and lon is not None  # TracePoint's validator
    located = {
        n: great_circle_km(lat, lon, s.location.lat, s.location.lon)
        for n, s in infra.sites.items()
        if s.location is not None
    }
    if not located:
        raise ValueError("the trace gives positions but no site of the scenario has a location")
    return min(located, key=lambda n: (located[n], n))


def random_trace(infra: Infrastructure, steps: int, mean_dwell_s: float = 600.0, seed: int = 1) -> Trace:
    """A user hopping between sites: exponential dwell times, each next site one of the three nearest
    (a commuter moves to neighbouring cells, not across the country)."""
    rng = random.Random(seed)
    names = sorted(infra.sites)
    here = rng.choice(names)
    t = 0.0
    points = [TracePoint(t_s=t, site=here)]
    for _ in range(steps - 1):
        t += rng.expovariate(1.0 / mean_dwell_s)
        near = sorted((s for s in names if s != here), key=lambda s: (rtt_ms(infra, here, s), s))[:3]
        here = rng.choice(near)
        points.append(TracePoint(t_s=round(t, 1), site=here))
    return Trace(points=points, end_s=t + mean_dwell_s)


@dataclass
class PolicyOutcome:
    """What a policy gave the user over a trace: the round trip to the serving VM each second (ms, its mean
    and 95th percentile as properties), the migrations, their bytes over the WAN and their total downtime
    (ms)."""

    policy: str
    rtt_ms: list[float] = field(default_factory=list)  # one per second of the trace
    migrations: int = 0
    wan_bytes: float = 0.0
    downtime_ms: float = 0.0

    @property
    def mean_rtt_ms(self) -> float:
        return float(np.mean(self.rtt_ms)) if self.rtt_ms else 0.0

    @property
    def p95_rtt_ms(self) -> float:
        return float(np.percentile(self.rtt_ms, 95)) if self.rtt_ms else 0.0


def follow(
    infra: Infrastructure,
    fleet: Fleet,
    vm: Vm,
    trace: Trace,
    *,
    settings: MigrationSettings | None = None,
    access_rtt_ms: float = ACCESS_RTT_MS,
) -> list[PolicyOutcome]:
    """`vm` serving a user who moves as `trace` says (`load_trace`, `random_trace`), under each policy
    (stay, follow to the nearest site, follow the advisor): the user's round trips (the access network's
    `access_rtt_ms` added), the migrations and what they cost. Raises ValueError for a trace point no
    site matches."""
    s = settings or MigrationSettings()
    sites = [(p.t_s, site_of(infra, p)) for p in sorted(trace.points, key=lambda p: p.t_s)]
    end = trace.end_s if trace.end_s is not None else sites[-1][0] + 600.0
    dwell = (end - sites[0][0]) / max(1, len(sites))
    return [
        _replay(infra, fleet, vm, sites, end=end, s=s, access=access_rtt_ms, policy=policy, dwell_s=dwell)
        for policy in ("stay", "nearest", "advisor")
    ]


def _replay(
    infra: Infrastructure,
    fleet: Fleet,
    vm: Vm,
    sites: list[tuple[float, str]],
    *,
    end: float,
    s: MigrationSettings,
    access: float,
    policy: str,
    dwell_s: float,
) -> PolicyOutcome:
    out = PolicyOutcome(policy)
    at = vm.site
    switches: list[tuple[float, str]] = []  # (when the VM serves from the new site, site)
    busy_until = -math.inf
    for t, user in sites:
        if policy == "stay" or t < busy_until:
            continue
        target: str | None = None
        if policy == "nearest":
            target = user if user != at else None
        else:
            here = replace(vm, site=at)
            conditions = Conditions(users_at=user)
            advice = advise_vm(infra, fleet, here, conditions, weights=Weights(horizon_s=dwell_s), settings=s)
            target = advice.move_to
        if target is None or target == at:
            continue
        r = route(infra, at, target, s)
        cost = move_cost(vm, r, s) if r is not None else None
        if cost is None:
            continue
        out.migrations += 1
        out.wan_bytes += cost.wan_bytes
        out.downtime_ms += cost.downtime_ms
        busy_until = t + cost.total_s
        switches.append((busy_until, target))
        at = target
    # Second by second: where the user is, where the VM serves from.
    user_i = sw_i = 0
    serving = vm.site
    user = sites[0][1]
    for second in range(int(sites[0][0]), math.ceil(end)):
        while user_i < len(sites) and sites[user_i][0] <= second:
            user = sites[user_i][1]
            user_i += 1
        while sw_i < len(switches) and switches[sw_i][0] <= second:
            serving = switches[sw_i][1]
            sw_i += 1
        out.rtt_ms.append(access + rtt_ms(infra, user, serving))
    return out
