"""From a validated `Scenario` to the `Infrastructure` engines run on: generated sites and links
merged in, EnOS constraints applied, delays derived from distance, the topology graph built and the
deployment model applied. Every problem found on the way is collected and located."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FsPath

import yaml
from pydantic import ValidationError

from wanstack.scenario.checks import (
    check_links,
    check_reachability,
    check_references,
    check_sites,
)
from wanstack.scenario.deployment import DeploymentModel, find_model, library
from wanstack.scenario.enos import apply_constraints
from wanstack.scenario.errors import Path, Problem, did_you_mean
from wanstack.scenario.generators import generate
from wanstack.scenario.infrastructure import BackboneLink, LinkDefaults, Site
from wanstack.scenario.placement import Placement, place
from wanstack.scenario.schema import Scenario
from wanstack.scenario.services import Service
from wanstack.topology import Topology, WanLink, great_circle_km
from wanstack.topology.geo import fibre_delay_ms


@dataclass
class Infrastructure:
    """A scenario made concrete: what the engines (simulator, bench) take as input."""

    scenario: Scenario
    sites: dict[str, Site]
    topology: Topology
    placement: Placement
    model: DeploymentModel

    @property
    def links(self) -> tuple[WanLink, ...]:
        return self.topology.links


def _resolve_link(
    link: BackboneLink, sites: dict[str, Site], defaults: LinkDefaults, path: Path, problems: list[Problem]
) -> WanLink | None:
    a, b = sites[link.a], sites[link.b]
    distance = None
    if a.location is not None and b.location is not None:
        distance = great_circle_km(a.location.lat, a.location.lon, b.location.lat, b.location.lon)
    delay = link.delay_ms
    if delay is None:
        if distance is None:
            lacking = link.a if a.location is None else link.b
            problems.append(
                Problem(
                    path,
                    f"link {link.a}–{link.b} has no delay_ms and site {lacking!r} has no location",
                    "give the link a delay_ms, or both sites a location",
                )
            )
            return None
        delay = fibre_delay_ms(
            distance, defaults.fibre_us_per_km, defaults.per_link_ms, defaults.route_factor
        )
    reverse = link.reverse_delay_ms if link.reverse_delay_ms is not None else delay
    return WanLink(
        link.a, link.b, delay, reverse, link.jitter_ms, link.bandwidth_mbps, link.loss_pct, distance
    )


def _drawable(
    links: list[BackboneLink], paths: list[Path], sites: dict[str, Site]
) -> tuple[list[BackboneLink], list[Path]]:
    """The links whose ends are two known sites, the first of each pair (what `check_links` accepts)."""
    kept: list[BackboneLink] = []
    kept_paths: list[Path] = []
    pairs: set[frozenset[str]] = set()
    for link, path in zip(links, paths, strict=True):
        pair = frozenset((link.a, link.b))
        if link.a in sites and link.b in sites and len(pair) == 2 and pair not in pairs:
            pairs.add(pair)
            kept.append(link)
            kept_paths.append(path)
    return kept, kept_paths


def build(
    scenario: Scenario, base_dir: FsPath | None = None, *, reachability: bool = True
) -> tuple[Infrastructure | None, list[Problem]]:
    """The `Infrastructure`, or None and every problem found. `reachability=False` skips the check
    that every site reaches its control plane (a scenario with a site or link left out, in
    `scenario.load`'s salvage, would be cut where the file is not)."""
    problems: list[Problem] = []
    sites_in: list[Site] = []
    links_in: list[BackboneLink] = []
    site_paths: list[Path] = []
    link_paths: list[Path] = []
    if scenario.generate is not None:
        gen_sites, gen_links = generate(scenario.generate)
        # Generated links carry `link_defaults`' capacity, jitter and loss (its description says so;
        # before, they kept the field defaults whatever `link_defaults` held).
        carried = scenario.link_defaults
        gen_links = [
            link.model_copy(
                update={
                    "bandwidth_mbps": carried.bandwidth_mbps,
                    "jitter_ms": carried.jitter_ms,
                    "loss_pct": carried.loss_pct,
                }
            )
            for link in gen_links
        ]
        sites_in += gen_sites
        links_in += gen_links
        site_paths += [("generate",)] * len(gen_sites)
        link_paths += [("generate",)] * len(gen_links)
    sites_in += scenario.sites
    site_paths += [("sites", i) for i in range(len(scenario.sites))]
    # Explicit links keep their index so errors point at them; generated ones point at `generate`.
    links_in += scenario.links
    link_paths += [("links", i) for i in range(len(scenario.links))]

    if not sites_in:
        problems.append(
            Problem(("sites",), "the scenario has no site", "write `sites:` or a `generate:` block")
        )
        return None, problems
    check_sites(sites_in, site_paths, problems)
    sites = {s.name: s for s in sites_in}
    check_links(links_in, link_paths, sites, problems)
    if problems:
        # Go on with the links that can be drawn, so the checks below report their problems in the
        # same run (a newcomer fixing one problem at a time met new ones at every run).
        links_in, link_paths = _drawable(links_in, link_paths, sites)

    if scenario.network_constraints is not None:
        before = len(links_in)
        links_in = apply_constraints(scenario.network_constraints, sites_in, links_in, problems)
        if len(links_in) != before:  # a mesh was built: its links come from the block
            link_paths = [("network_constraints",)] * len(links_in)

    wan_links = [
        resolved
        for link, path in zip(links_in, link_paths, strict=True)
        if (resolved := _resolve_link(link, sites, scenario.link_defaults, path, problems)) is not None
    ]
    topology = Topology(sites, wan_links)
    check_references(scenario, sites, topology, problems)

    def resolve_model(name: str, path: Path) -> DeploymentModel | None:
        try:
            found = find_model(name, base_dir)
        except (ValidationError, OSError, yaml.YAMLError) as err:
            problems.append(
                Problem(
                    path,
                    f"cannot load deployment model file {name!r}: {err}".splitlines()[0],
                    "check it against a library model (`wanstack models --yaml NAME`)",
                )
            )
            return None
        if found is None:
            problems.append(
                Problem(
                    path,
                    f"unknown deployment model {name!r}",
                    did_you_mean(name, library())
                    or "run `wanstack models` for the built-in ones, or give a .yaml path",
                )
            )
        return found

    model = resolve_model(scenario.model, ("model",))
    if problems or model is None:
        return None, problems

    def region_model(index: int) -> DeploymentModel | None:
        name = scenario.regions[index].model
        return None if name is None else resolve_model(name, ("regions", index, "model"))

    placement = place(
        sites_in,
        scenario.regions,
        model,
        region_model,
        overrides={
            **scenario.placement,
            **(
                {}
                if scenario.messaging.broker_nodes is None
                else {Service.RPC_BUS: scenario.messaging.broker_nodes}
            ),
        },
        rpc_override=scenario.messaging.rpc,
        notification_override=scenario.messaging.notifications,
        nearest=topology.nearest,
        problems=problems,
    )
    where = {s.name: p for s, p in zip(sites_in, site_paths, strict=True)}
    if reachability:
        check_reachability(placement, topology, where, problems)
    if problems:
        return None, problems
    return Infrastructure(scenario, sites, topology, placement, model), problems
