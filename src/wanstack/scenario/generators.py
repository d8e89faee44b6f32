"""Topology generators: write the sites and links of large cases from a few numbers.

Each generator is a pure function of its (validated) settings, so the same settings always give
the same topology. Sites carry a `parent`, which the per-subtree cell and region layouts use.
"""

from __future__ import annotations

import math

import numpy as np

from wanstack.scenario.infrastructure import (
    BackboneLink,
    HierarchyGenerator,
    Hosts,
    Location,
    RandomGeometricGenerator,
    Site,
    StarGenerator,
    Tier,
)

Generated = tuple[list[Site], list[BackboneLink]]
KM_PER_DEGREE_LAT = 111.32


def generate(settings: StarGenerator | HierarchyGenerator | RandomGeometricGenerator) -> Generated:
    if isinstance(settings, StarGenerator):
        return star(settings)
    if isinstance(settings, HierarchyGenerator):
        return hierarchy(settings)
    return random_geometric(settings)


def _offset(origin: Location, east_km: float, north_km: float) -> Location:
    lat = origin.lat + north_km / KM_PER_DEGREE_LAT
    lon = origin.lon + east_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return Location(lat=max(-90.0, min(90.0, lat)), lon=((lon + 180.0) % 360.0) - 180.0)


def star(settings: StarGenerator) -> Generated:
    """A center and `edges` spokes, evenly spread on a circle of `radius_km`."""
    origin = Location(lat=46.0, lon=2.0)
    width = len(str(settings.edges))
    sites = [Site(name=settings.center, tier=Tier.CENTRAL, location=origin, hosts=settings.center_hosts)]
    links = []
    for i in range(settings.edges):
        angle = 2 * math.pi * i / settings.edges
        name = f"edge-{i + 1:0{width}d}"
        where = _offset(origin, settings.radius_km * math.cos(angle), settings.radius_km * math.sin(angle))
        sites.append(
            Site(
                name=name,
                tier=settings.edge_tier,
                location=where,
                hosts=settings.hosts,
                parent=settings.center,
            )
        )
        links.append(BackboneLink(a=settings.center, b=name, delay_ms=settings.delay_ms))
    return sites, links


def hierarchy(settings: HierarchyGenerator) -> Generated:
    """central → `regional` regional sites → edge sites each → far-edge sites each."""

    def hosts(tier: Tier) -> Hosts:
        return settings.hosts.get(tier, Hosts())

    sites = [Site(name="central", tier=Tier.CENTRAL, hosts=hosts(Tier.CENTRAL))]
    links: list[BackboneLink] = []

    def add(name: str, tier: Tier, parent: str, delay_ms: float) -> None:
        sites.append(Site(name=name, tier=tier, hosts=hosts(tier), parent=parent))
        links.append(BackboneLink(a=parent, b=name, delay_ms=delay_ms))

    for r in range(1, settings.regional + 1):
        regional = f"r{r:03d}"
        add(regional, Tier.REGIONAL, "central", settings.central_regional_ms)
        for e in range(1, settings.edge_per_regional + 1):
            edge = f"{regional}-e{e:02d}"
            add(edge, Tier.EDGE, regional, settings.regional_edge_ms)
            for f in range(1, settings.far_edge_per_edge + 1):
                add(f"{edge}-f{f:02d}", Tier.FAR_EDGE, edge, settings.edge_far_edge_ms)
    return sites, links


def _pairs_within(xy: np.ndarray, radius: float) -> list[tuple[int, int, float]]:
    """All pairs closer than `radius`, by a sweep over x-sorted points (no n² matrix)."""
    order = np.argsort(xy[:, 0], kind="stable")
    pts = xy[order]
    ends = np.searchsorted(pts[:, 0], pts[:, 0] + radius, side="right")
    pairs = []
    for i in range(len(pts)):
        j = np.arange(i + 1, ends[i])
        if j.size == 0:
            continue
        d = np.hypot(pts[j, 0] - pts[i, 0], pts[j, 1] - pts[i, 1])
        for k in np.nonzero(d < radius)[0]:
            a, b = int(order[i]), int(order[j[k]])
            pairs.append((min(a, b), max(a, b), float(d[k])))
    pairs.sort()
    return pairs


def _join_components(n: int, xy: np.ndarray, pairs: list[tuple[int, int, float]]) -> None:
    """Add the shortest bridging link until every site is connected (keeps the topology usable)."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, _ in pairs:
        parent[find(a)] = find(b)
    while True:
        roots = sorted({find(i) for i in range(n)})
        if len(roots) == 1:
            return
        main = np.array([find(i) == roots[0] for i in range(n)])
        inside, outside = np.nonzero(main)[0], np.nonzero(~main)[0]
        d = np.hypot(xy[outside, None, 0] - xy[None, inside, 0], xy[outside, None, 1] - xy[None, inside, 1])
        o, i = np.unravel_index(int(np.argmin(d)), d.shape)
        a, b = int(outside[o]), int(inside[i])
        pairs.append((min(a, b), max(a, b), float(d[o, i])))
        parent[find(a)] = find(b)


def random_geometric(settings: RandomGeometricGenerator) -> Generated:
    n, side = settings.sites, settings.side_km
    rng = np.random.default_rng(settings.seed)
    xy = rng.uniform(0.0, side, size=(n, 2))
    # Connectivity threshold of a random geometric graph: r ≈ sqrt(ln n / (π n)) on the unit square
    # (Penrose, "Random Geometric Graphs", 2003); 1.5× that leaves few isolated sites to bridge.
    radius = settings.radius_km or 1.5 * side * math.sqrt(math.log(n) / (math.pi * n))
    pairs = _pairs_within(xy, radius)
    _join_components(n, xy, pairs)

    center = int(np.argmin(np.hypot(xy[:, 0] - side / 2, xy[:, 1] - side / 2)))
    others = [i for i in rng.permutation(n).tolist() if i != center]
    n_regional = round(settings.regional_fraction * (n - 1))
    n_edge = round(settings.edge_fraction * (n - 1))
    tier = {center: Tier.CENTRAL}
    tier.update({i: Tier.REGIONAL for i in others[:n_regional]})
    tier.update({i: Tier.EDGE for i in others[n_regional : n_regional + n_edge]})
    tier.update({i: Tier.FAR_EDGE for i in others[n_regional + n_edge :]})

    width = len(str(n))
    names = [f"s{i:0{width}d}" for i in range(n)]
    # Each site hangs from the nearest site of the next tier up (geographic hierarchy).
    by_tier = {t: np.array(sorted(i for i, ti in tier.items() if ti is t), dtype=int) for t in Tier}
    parents: dict[int, int] = {}
    for t in (Tier.REGIONAL, Tier.EDGE, Tier.FAR_EDGE):
        ups = next(
            (by_tier[u] for u in reversed(list(Tier)[: t.rank]) if by_tier[u].size), by_tier[Tier.CENTRAL]
        )
        for i in by_tier[t]:
            d = np.hypot(xy[ups, 0] - xy[i, 0], xy[ups, 1] - xy[i, 1])
            parents[int(i)] = int(ups[int(np.argmin(d))])

    sites = [
        Site(
            name=names[i],
            tier=tier[i],
            location=_offset(settings.origin, float(xy[i, 0]), float(xy[i, 1])),
            hosts=settings.hosts.get(tier[i], Hosts()),
            parent=names[parents[i]] if i in parents else None,
        )
        for i in range(n)
    ]
    links = [BackboneLink(a=names[a], b=names[b]) for a, b, _ in sorted(pairs)]
    return sites, links
