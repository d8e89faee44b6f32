"""Apply deployment models to a topology: regions, cells, and the site of every service instance.

A model says *relative* things ("nova-conductor: cell"); this module turns them into sites for one
concrete topology, and answers which instance serves a given site (`Placement.serving`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from wanstack.scenario.deployment import DeploymentModel
from wanstack.scenario.errors import Problem
from wanstack.scenario.infrastructure import Region, Site
from wanstack.scenario.services import (
    Anchor,
    CellLayout,
    NotificationBackend,
    RegionLayout,
    RpcBackend,
    Service,
)

# Keystone's default region name (keystone-manage bootstrap --bootstrap-region-id, as devstack uses it).
SINGLE_REGION_NAME = "RegionOne"


@dataclass(frozen=True)
class Cell:
    name: str
    region: str
    site: str  # where the cell's conductor, database and bus run
    sites: tuple[str, ...]


@dataclass(frozen=True)
class RegionPlan:
    name: str
    control_site: str
    sites: tuple[str, ...]
    cells: tuple[Cell, ...]
    model: DeploymentModel
    rpc: RpcBackend
    notifications: NotificationBackend


@dataclass(frozen=True)
class ServiceInstance:
    service: Service
    site: str
    scope: Anchor  # GLOBAL/REGION/CELL/SITE, or NONE for an explicit (user-placed) instance
    region: str | None = None
    cell: str | None = None


@dataclass
class Placement:
    top_site: str
    regions: tuple[RegionPlan, ...]
    instances: tuple[ServiceInstance, ...]
    region_of: dict[str, str]
    cell_of: dict[str, str]
    # For user-placed services: site -> the nearest instance's site.
    nearest: dict[Service, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index: dict[tuple[Service, Anchor, str | None], str] = {}
        for inst in self.instances:
            key = {
                Anchor.GLOBAL: None,
                Anchor.REGION: inst.region,
                Anchor.CELL: inst.cell,
                Anchor.SITE: inst.site,
                Anchor.NONE: inst.site,
            }[inst.scope]
            self._index[(inst.service, inst.scope, key)] = inst.site
        self.region_by_name = {r.name: r for r in self.regions}

    def serving(self, service: Service, site: str) -> str | None:
        """The site of the instance of `service` that serves `site`: the site's own, else its cell's,
        else its region's, else the global one (None when the service is not deployed for it)."""
        if service in self.nearest:
            return self.nearest[service].get(site)
        for scope, key in (
            (Anchor.SITE, site),
            (Anchor.CELL, self.cell_of.get(site)),
            (Anchor.REGION, self.region_of.get(site)),
            (Anchor.GLOBAL, None),
        ):
            found = self._index.get((service, scope, key))
            if found is not None:
                return found
        return None

    def sites_of(self, service: Service) -> list[str]:
        return sorted({i.site for i in self.instances if i.service is service})


def most_central(candidates: Sequence[Site]) -> Site:
    """The control-plane site of a group: lowest tier rank, then most hosts, then first written."""
    return min(candidates, key=lambda s: (s.tier.rank, -s.host_count))


def _subtree_root(site: str, below: str, parent: Mapping[str, str | None]) -> str:
    """The ancestor of `site` that hangs directly from `below` (the site itself if it does not)."""
    node, seen = site, set()
    while node not in seen:
        seen.add(node)
        up = parent.get(node)
        if up is None:
            return site
        if up == below:
            return node
        node = up
    return site  # a parent cycle (reported by the checks)


def _group_by_subtree(
    sites: Sequence[str], top: str, parent: Mapping[str, str | None]
) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for s in sites:
        groups[top if s == top else _subtree_root(s, top, parent)].append(s)
    return groups


def layout_regions(
    sites: Sequence[Site], declared: Sequence[Region], layout: RegionLayout, top: str
) -> list[tuple[Region, list[str]]]:
    """Regions with their member sites: as declared, or as the model's region layout makes them."""
    names = [s.name for s in sites]
    if declared:
        taken = {n for r in declared if r.sites != "*" for n in r.sites}
        rest = [n for n in names if n not in taken]
        return [(r, rest if r.sites == "*" else list(r.sites)) for r in declared]
    if layout is RegionLayout.SINGLE:
        return [(Region(name=SINGLE_REGION_NAME, sites="*"), names)]
    if layout is RegionLayout.PER_SITE:
        return [(Region(name=n, sites=[n]), [n]) for n in names]
    groups = _group_by_subtree(names, top, {s.name: s.parent for s in sites})
    return [(Region(name=root, sites=members), members) for root, members in groups.items()]


def layout_cells(
    region: str, control: str, members: Sequence[str], layout: CellLayout, parent: Mapping[str, str | None]
) -> tuple[Cell, ...]:
    if layout is CellLayout.NONE:
        return (Cell(name=f"{region}/cell1", region=region, site=control, sites=tuple(members)),)
    if layout is CellLayout.PER_SITE:
        return tuple(Cell(name=f"{region}/{s}", region=region, site=s, sites=(s,)) for s in members)
    groups = _group_by_subtree(members, control, parent)
    return tuple(
        Cell(name=f"{region}/{root}", region=region, site=root, sites=tuple(m)) for root, m in groups.items()
    )


def place(
    sites: Sequence[Site],
    declared_regions: Sequence[Region],
    default_model: DeploymentModel,
    region_model: Callable[[int], DeploymentModel | None],
    *,
    overrides: Mapping[Service, Sequence[str]],
    rpc_override: RpcBackend | None,
    notification_override: NotificationBackend | None,
    nearest: Callable[[Sequence[str]], dict[str, str]],
    problems: list[Problem],
) -> Placement:
    """Resolve regions, cells and service instances. Names are assumed checked (see `checks`)."""
    by_name = {s.name: s for s in sites}
    parent = {s.name: s.parent for s in sites}
    top = most_central(sites).name
    plans: list[RegionPlan] = []
    instances: list[ServiceInstance] = []
    global_done: set[Service] = set()
    for i, (region, members) in enumerate(
        layout_regions(sites, declared_regions, default_model.region_layout, top)
    ):
        # Declared regions may name their own model (a mix); generated regions use the default.
        model = (region_model(i) if declared_regions else None) or default_model
        if not members:
            problems.append(
                Problem(
                    ("regions", i, "sites"),
                    f"region {region.name!r} has no site",
                    "list its sites, or remove the region",
                )
            )
            continue
        control = region.control_site or most_central([by_name[m] for m in members]).name
        cells = layout_cells(region.name, control, members, model.cell_layout, parent)
        plans.append(
            RegionPlan(
                region.name,
                control,
                tuple(members),
                cells,
                model,
                rpc_override or model.messaging.rpc,
                notification_override or model.messaging.notifications,
            )
        )
        for service, anchor in model.services.items():
            if service in overrides:
                continue
            if anchor is Anchor.GLOBAL and service not in global_done:
                global_done.add(service)
                instances.append(ServiceInstance(service, top, Anchor.GLOBAL))
            elif anchor is Anchor.REGION:
                instances.append(ServiceInstance(service, control, Anchor.REGION, region=region.name))
            elif anchor is Anchor.CELL:
                instances += [
                    ServiceInstance(service, c.site, Anchor.CELL, region.name, c.name) for c in cells
                ]
            elif anchor is Anchor.SITE:
                instances += [ServiceInstance(service, m, Anchor.SITE, region.name) for m in members]

    region_of = {m: p.name for p in plans for m in p.sites}
    cell_of = {m: c.name for p in plans for c in p.cells for m in c.sites}
    explicit: dict[Service, dict[str, str]] = {}
    for service, where in overrides.items():
        instances += [ServiceInstance(service, s, Anchor.NONE, region_of.get(s)) for s in where]
        explicit[service] = nearest(list(where))
    return Placement(top, tuple(plans), tuple(instances), region_of, cell_of, explicit)
