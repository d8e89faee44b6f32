"""A global limit written as Keystone unified limits: the only limits Nova's unified-limits driver
can see are project limits scoped to its own region (oslo.limit's enforcer asks for its endpoint's
region; a limit with no region reads as 0 there: ../shared/multiregion.md), so a global limit has to
be split into one per region — and re-split as usage moves.

`plan` splits each limit as the escrow's rebalancing does: every region keeps what it uses and the
headroom is shared evenly; `apply` writes the plan with openstacksdk. Keystone's traps, from its code
(keystone/limit/core.py, keystone/api/limits.py): a project limit needs a registered limit for the
same service, region and resource; a registered limit cannot change while project limits refer to it;
an update to 0 is dropped by the PATCH (a falsy value) — so a limit going to 0 is deleted and
created again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wanstack.multiregion.quota import even_split
from wanstack.scenario.quotas import ProjectQuota

# Nova's unified-limits resource names (nova/limit/local.py `SERVER_COUNT_LIMIT`; nova/limit/
# placement.py: resource classes as "class:VCPU", "class:MEMORY_MB").
KEYSTONE_RESOURCE = {"instances": "servers", "cores": "class:VCPU", "ram_mb": "class:MEMORY_MB"}


@dataclass(frozen=True)
class RegionLimit:
    """One region's part of a project's global limit on one resource (wanstack's name), as a Keystone project
    limit for that region: the limit to write, and the usage the split started from."""

    region: str
    resource: str  # wanstack's name (instances, cores, ram_mb)
    limit: int
    used: int = 0


def plan(
    project: ProjectQuota, regions: list[str], usage: dict[tuple[str, str], int] | None = None
) -> list[RegionLimit]:
    """Each of `project`'s global limits split over `regions`: what each uses (`usage[region,
    resource]`) plus an even part of the headroom. Regions using more than the limit allows in all
    keep their usage and share nothing (the sum then exceeds the limit only by what is already used)."""
    usage = usage or {}
    out: list[RegionLimit] = []
    for resource, limit in project.limits.items():
        used = [usage.get((r, resource), 0) for r in regions]
        headroom = max(0, limit - sum(used))
        for region, u, part in zip(regions, used, even_split(headroom, len(regions)), strict=True):
            out.append(RegionLimit(region, resource, u + part, u))
    return out


def read(conn: Any, project_id: str, service_id: str) -> dict[tuple[str, str], int]:
    """The project's limits as Keystone holds them, by (region, wanstack resource name)."""
    names = {v: k for k, v in KEYSTONE_RESOURCE.items()}
    found = {}
    for limit in conn.identity.limits(project_id=project_id, service_id=service_id):
        if limit.resource_name in names:
            found[limit.region_id, names[limit.resource_name]] = int(limit.resource_limit)
    return found


def apply(conn: Any, project_id: str, service_id: str, planned: list[RegionLimit]) -> list[str]:
    """Write `planned` as project limits (registered limits made where missing, at 0); what was done,
    a line per change."""
    done = []
    registered = {
        (r.region_id, r.resource_name) for r in conn.identity.registered_limits(service_id=service_id)
    }
    current = {
        (x.region_id, x.resource_name): x
        for x in conn.identity.limits(project_id=project_id, service_id=service_id)
    }
    for p in planned:
        name = KEYSTONE_RESOURCE[p.resource]
        if (p.region, name) not in registered:
            conn.identity.create_registered_limit(
                service_id=service_id, region_id=p.region, resource_name=name, default_limit=0
            )
            registered.add((p.region, name))
            done.append(f"registered {name} in {p.region} (default 0)")
        old = current.get((p.region, name))
        was = "none" if old is None else str(old.resource_limit)
        if old is not None and int(old.resource_limit) == p.limit:
            continue
        if old is not None and p.limit != 0:
            conn.identity.update_limit(old, resource_limit=p.limit)
        else:
            if old is not None:
                conn.identity.delete_limit(old)  # an update to 0 would be dropped
            conn.identity.create_limit(
                project_id=project_id,
                service_id=service_id,
                region_id=p.region,
                resource_name=name,
                resource_limit=p.limit,
            )
        done.append(f"{name} in {p.region}: {was} -> {p.limit}")
    return done
