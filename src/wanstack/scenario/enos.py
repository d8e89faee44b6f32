"""Import of an EnOS-style `network_constraints` block.

EnOS (BeyondTheClouds/enos, docs "Network Emulation"; EnOSlib's netem/htb services) shapes traffic
between *groups* of hosts: `default_delay`/`default_rate`/`default_loss` apply between every pair of
groups, `except` leaves groups out, and each constraint `{src, dst, delay, rate, loss, symmetric}`
overrides one direction (both with `symmetric: true`). Delays are one-way, applied in each direction.

Here a group is a site name, a tier name (every site of that tier) or an EnOS range `edge-[1-4]`.
Constraints reshape the scenario's links; with no links at all, a full mesh is built first, as EnOS
constrains every pair of groups.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from wanstack.scenario.errors import Problem
from wanstack.scenario.infrastructure import BackboneLink, Site
from wanstack.scenario.schema import NetworkConstraints

_RANGE = re.compile(r"^(?P<prefix>.*)\[(?P<lo>\d+)-(?P<hi>\d+)\](?P<suffix>.*)$")
# A full mesh has n(n-1)/2 links: beyond this many sites write links or use a generator.
MAX_MESH_SITES = 300


def expand_group(group: str) -> list[str]:
    """`grp[2-4]` → grp2, grp3, grp4 (EnOS's group range syntax); anything else as is."""
    match = _RANGE.match(group)
    if not match:
        return [group]
    lo, hi = int(match["lo"]), int(match["hi"])
    return [f"{match['prefix']}{i}{match['suffix']}" for i in range(lo, hi + 1)]


def _members(group: str, sites: Sequence[Site]) -> set[str]:
    names = set(expand_group(group))
    return {s.name for s in sites if s.name in names or s.tier.value in names}


def apply_constraints(
    nc: NetworkConstraints, sites: Sequence[Site], links: list[BackboneLink], problems: list[Problem]
) -> list[BackboneLink]:
    """The links reshaped by a network_constraints block; problems are appended to `problems`."""
    if not nc.enable:
        return links
    where = ("network_constraints",)
    if not links:
        if len(sites) > MAX_MESH_SITES:
            problems.append(
                Problem(
                    where,
                    f"no links are written and a full mesh of {len(sites)} sites is too large",
                    f"write `links` or use `generate` (a mesh is built up to {MAX_MESH_SITES} sites)",
                )
            )
            return links
        links = [BackboneLink(a=x.name, b=y.name) for i, x in enumerate(sites) for y in sites[i + 1 :]]

    excluded: set[str] = set()
    for i, group in enumerate(nc.except_):
        members = _members(group, sites)
        if not members:
            problems.append(
                Problem(
                    (*where, "except", i),
                    f"group {group!r} matches no site",
                    "name a site, a tier, or a range like edge-[1-4]",
                )
            )
        excluded |= members
    # Directional delays and per-link rate/loss, starting from the defaults.
    delay: dict[tuple[str, str], float | None] = {}
    rate: dict[tuple[str, str], float | None] = {}
    loss: dict[tuple[str, str], float | None] = {}
    for link in links:
        key = (link.a, link.b)
        shaped = link.a not in excluded and link.b not in excluded
        delay[key] = nc.default_delay if shaped and nc.default_delay is not None else link.delay_ms
        delay[(link.b, link.a)] = (
            nc.default_delay
            if shaped and nc.default_delay is not None
            else link.reverse_delay_ms
            if link.reverse_delay_ms is not None
            else link.delay_ms
        )
        rate[key] = nc.default_rate if shaped and nc.default_rate is not None else link.bandwidth_mbps
        loss[key] = nc.default_loss if shaped and nc.default_loss is not None else link.loss_pct

    for i, c in enumerate(nc.constraints):
        src, dst = _members(c.src, sites), _members(c.dst, sites)
        for side, members, name in (("src", src, c.src), ("dst", dst, c.dst)):
            if not members:
                problems.append(
                    Problem(
                        (*where, "constraints", i, side),
                        f"group {name!r} matches no site",
                        "name a site, a tier, or a range like edge-[1-4]",
                    )
                )
        for link in links:
            for u, v in ((link.a, link.b), (link.b, link.a)):
                forward = u in src and v in dst
                backward = c.symmetric and v in src and u in dst
                if not (forward or backward):
                    continue
                if c.delay is not None:
                    delay[(u, v)] = c.delay
                if c.rate is not None:
                    rate[(link.a, link.b)] = c.rate
                if c.loss is not None:
                    loss[(link.a, link.b)] = c.loss

    out = []
    for link in links:
        ab, ba = delay[(link.a, link.b)], delay[(link.b, link.a)]
        out.append(
            link.model_copy(
                update={
                    "delay_ms": ab,
                    "reverse_delay_ms": ba if ba != ab else None,
                    "bandwidth_mbps": rate[(link.a, link.b)],
                    "loss_pct": loss[(link.a, link.b)],
                }
            )
        )
    return out
