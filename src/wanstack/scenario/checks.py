"""Checks across objects: names that must exist, things written twice, sites cut off from their
control plane. Each check appends located `Problem`s and never raises, so one run reports all."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from wanstack.scenario.errors import Path, Problem
from wanstack.scenario.infrastructure import BackboneLink, Site
from wanstack.scenario.placement import Placement
from wanstack.scenario.schema import Scenario
from wanstack.scenario.services import STATION_KINDS, Service
from wanstack.scenario.workload import OperationKind
from wanstack.topology import Topology


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}?" if close else "check the spelling against `sites`"


def check_site_ref(
    name: str, sites: Mapping[str, object], path: Path, problems: list[Problem], what: str = "site"
) -> bool:
    if name in sites:
        return True
    problems.append(Problem(path, f"{what} {name!r} is not a site of this scenario", _suggest(name, sites)))
    return False


def check_sites(sites: Sequence[Site], where: Sequence[Path], problems: list[Problem]) -> None:
    counts = Counter(s.name for s in sites)
    seen: set[str] = set()
    for site, path in zip(sites, where, strict=True):
        if counts[site.name] > 1 and site.name in seen:
            problems.append(
                Problem(
                    (*path, "name"),
                    f"site name {site.name!r} is used more than once",
                    "give every site its own name",
                )
            )
        seen.add(site.name)
    by_name = {s.name: s for s in sites}
    for site, path in zip(sites, where, strict=True):
        if site.parent is None:
            continue
        if check_site_ref(site.parent, by_name, (*path, "parent"), problems, "parent"):
            node: str | None = site.parent
            chain = {site.name}
            while node is not None and node not in chain:
                chain.add(node)
                node = by_name[node].parent if node in by_name else None
            if node == site.name:
                problems.append(
                    Problem(
                        (*path, "parent"),
                        f"site {site.name!r} is its own ancestor",
                        "parents must form a tree toward the top site",
                    )
                )


def check_links(
    links: Sequence[BackboneLink], where: Sequence[Path], sites: Mapping[str, Site], problems: list[Problem]
) -> None:
    pairs: set[frozenset[str]] = set()
    for link, path in zip(links, where, strict=True):
        ok_a = check_site_ref(link.a, sites, (*path, "a"), problems, "link end")
        ok_b = check_site_ref(link.b, sites, (*path, "b"), problems, "link end")
        if link.a == link.b:
            problems.append(
                Problem(path, f"link joins {link.a!r} to itself", "a link joins two different sites")
            )
        elif ok_a and ok_b:
            pair = frozenset((link.a, link.b))
            if pair in pairs:
                problems.append(
                    Problem(
                        path,
                        f"a second link between {link.a!r} and {link.b!r}",
                        "keep one link per pair of sites",
                    )
                )
            pairs.add(pair)


def check_references(
    scenario: Scenario, sites: Mapping[str, Site], topology: Topology, problems: list[Problem]
) -> None:
    """Every name the scenario uses after `sites` and `links` must exist."""
    region_names = Counter(r.name for r in scenario.regions)
    member_of: dict[str, str] = {}
    stars = 0
    for i, region in enumerate(scenario.regions):
        path: Path = ("regions", i)
        if region_names[region.name] > 1:
            problems.append(
                Problem(
                    (*path, "name"),
                    f"region name {region.name!r} is used more than once",
                    "give every region its own name",
                )
            )
        if region.sites == "*":
            stars += 1
        else:
            for j, name in enumerate(region.sites):
                if check_site_ref(name, sites, (*path, "sites", j), problems):
                    if name in member_of:
                        problems.append(
                            Problem(
                                (*path, "sites", j),
                                f"site {name!r} is already in region {member_of[name]!r}",
                                "a site belongs to one region",
                            )
                        )
                    member_of[name] = region.name
        if region.control_site is not None and check_site_ref(
            region.control_site, sites, (*path, "control_site"), problems
        ):
            inside = region.sites == "*" or region.control_site in region.sites
            if not inside:
                problems.append(
                    Problem(
                        (*path, "control_site"),
                        f"control site {region.control_site!r} is not in region {region.name!r}",
                        "add it to the region's sites or pick one of them",
                    )
                )
    if stars > 1:
        problems.append(Problem(("regions",), "more than one region takes the rest ('*')", "keep one '*'"))
    if scenario.regions and not stars:
        missing = [n for n in sites if n not in member_of]
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            problems.append(
                Problem(
                    ("regions",),
                    f"sites in no region: {', '.join(missing[:5])}{more}",
                    "add them to a region, or give one region `sites: '*'`",
                )
            )

    for service, names in scenario.placement.items():
        for j, name in enumerate(names):
            check_site_ref(name, sites, ("placement", service.value, j), problems)
        if not names:
            problems.append(
                Problem(
                    ("placement", service.value),
                    f"{service.value} is placed on no site",
                    "list at least one site, or remove the entry",
                )
            )
    for j, name in enumerate(scenario.messaging.broker_nodes or []):
        check_site_ref(name, sites, ("messaging", "broker_nodes", j), problems)

    images = {img.name for img in scenario.workload.images}
    projects = [p.name for p in scenario.quotas.projects]
    for i, op in enumerate(scenario.workload.operations):
        for j, name in enumerate(op.sites or []):
            check_site_ref(name, sites, ("workload", "operations", i, "sites", j), problems)
        if op.project is not None and op.project not in projects:
            problems.append(
                Problem(
                    ("workload", "operations", i, "project"),
                    f"project {op.project!r} is not under quotas.projects",
                    f"use one of: {', '.join(projects)}" if projects else "add it under quotas: projects:",
                )
            )
        if op.op is OperationKind.CLAIM and not projects:
            problems.append(
                Problem(
                    ("workload", "operations", i, "op"),
                    "a claim needs a limit to be claimed against",
                    "add a project under quotas: projects:",
                )
            )
        if op.image not in images:
            problems.append(
                Problem(
                    ("workload", "operations", i, "image"),
                    f"image {op.image!r} is not defined",
                    f"define it under workload.images, or use one of: {', '.join(sorted(images))}",
                )
            )

    for kind in scenario.stations:
        if kind not in STATION_KINDS:
            close = difflib.get_close_matches(kind, STATION_KINDS, n=1, cutoff=0.5)
            problems.append(
                Problem(
                    ("stations", kind),
                    f"unknown station kind {kind!r}",
                    f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(STATION_KINDS)}",
                )
            )

    for i, fault in enumerate(scenario.faults):
        if fault.site is not None:
            check_site_ref(fault.site, sites, ("faults", i, "site"), problems)
        if fault.link is not None:
            a, b = fault.link
            ends_ok = all(
                [
                    check_site_ref(a, sites, ("faults", i, "link", 0), problems),
                    check_site_ref(b, sites, ("faults", i, "link", 1), problems),
                ]
            )
            if ends_ok and topology.link(a, b) is None:
                problems.append(
                    Problem(
                        ("faults", i, "link"),
                        f"there is no backbone link between {a!r} and {b!r}",
                        "cut a link that exists (see `wanstack show`)",
                    )
                )


def check_reachability(
    placement: Placement,
    topology: Topology,
    where: Mapping[str, Path],
    problems: list[Problem],
    limit: int = 20,
) -> None:
    """Every site must reach its region's control site and every service instance that serves it."""
    regions = placement.region_by_name
    cut_off = 0
    for site, region in placement.region_of.items():
        control = regions[region].control_site
        unreachable = [] if topology.reachable(site, control) else [f"its control site {control!r}"]
        for service in Service:
            server = placement.serving(service, site)
            if server is not None and server != control and not topology.reachable(site, server):
                unreachable.append(f"{service.value} at {server!r}")
        if unreachable:
            cut_off += 1
            if cut_off <= limit:
                problems.append(
                    Problem(
                        where[site],
                        f"site {site!r} cannot reach {', '.join(unreachable)}",
                        "add a backbone link joining it to the rest",
                    )
                )
    if cut_off > limit:
        problems.append(
            Problem(
                ("links",),
                f"{cut_off - limit} more sites are cut off from their control plane",
                "add backbone links joining them to the rest",
            )
        )
