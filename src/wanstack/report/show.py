"""`wanstack show`: a summary of a scenario as the engines will see it."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from wanstack.report.fit import Column, fitted
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.infrastructure import Tier
from wanstack.scenario.services import Service
from wanstack.words import count


def _names(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown}, … (+{len(names) - limit})" if len(names) > limit else shown


def _header(infra: Infrastructure) -> Text:
    sc, model = infra.scenario, infra.model
    text = Text()
    text.append(f"{sc.name}", style="bold")
    if sc.description:
        text.append(f" — {sc.description}")
    text.append(f"\nmodel {model.name}: {model.summary}")
    if model.levels:
        text.append(f"\nHotEdge capability levels: {', '.join(model.levels)}", style="dim")
    hosts = sum(s.host_count for s in infra.sites.values())
    text.append(
        f"\n{count(len(infra.sites), 'site')}, {count(hosts, 'compute host')}, "
        f"{count(len(infra.links), 'backbone link')}, {count(len(infra.placement.regions), 'region')}"
    )
    return text


def tiers_table(infra: Infrastructure) -> Table:
    table = Table(title="Sites per tier")
    for col in ("tier", "sites", "hosts", "examples"):
        table.add_column(col, justify="right" if col in ("sites", "hosts") else "left")
    by_tier: dict[Tier, list[str]] = defaultdict(list)
    for site in infra.sites.values():
        by_tier[site.tier].append(site.name)
    for tier in Tier:
        names = by_tier.get(tier, [])
        if names:
            hosts = sum(infra.sites[n].host_count for n in names)
            table.add_row(tier.value, f"{len(names):,}", f"{hosts:,}", _names(names))
    return table


def links_table(infra: Infrastructure) -> Table:
    table = Table(title="Backbone links")
    for col in ("", "min", "median", "max"):
        table.add_column(col, justify="right")
    links = infra.links
    if not links:
        table.add_row("(no links)", "", "", "")
        return table
    rows = {
        "one-way delay (ms)": [d for link in links for d in (link.delay_ab_ms, link.delay_ba_ms)],
        "RTT (ms)": [link.rtt_ms for link in links],
        "bandwidth (Mbit/s)": [link.bandwidth_mbps for link in links],
        "loss (%)": [link.loss_pct for link in links],
        "jitter (ms)": [link.jitter_ms for link in links],
    }
    for label, values in rows.items():
        table.add_row(label, f"{min(values):.4g}", f"{statistics.median(values):.4g}", f"{max(values):.4g}")
    return table


def regions_table(infra: Infrastructure, limit: int | None, *, width: int | None = None) -> Table:
    regions = infra.placement.regions
    shown = regions if limit is None else regions[:limit]
    title = "Regions (max delay: one-way, control site to its farthest site)"
    if len(shown) < len(regions):
        title += f" — first {len(shown)} of {len(regions):,}"
    topo = infra.topology
    worst = [max(topo.path_delay_ms(plan.control_site, s) for s in plan.sites) for plan in shown]
    columns = [
        Column("region", [plan.name for plan in shown]),
        Column("control site", [plan.control_site for plan in shown], 1),
        Column("sites", [f"{len(plan.sites):,}" for plan in shown], 0, "right"),
        Column("cells", [f"{len(plan.cells):,}" for plan in shown], 2, "right"),
        Column("model", [plan.model.name for plan in shown], 0, once=True),
        Column("RPC", [plan.rpc.value for plan in shown], 3, once=True),
        Column("notifications", [plan.notifications.value for plan in shown], 4, once=True),
        Column("max delay", [f"{w:.1f} ms" for w in worst]),
    ]
    return fitted(columns, width=width, title=title)


def service_map(infra: Infrastructure, limit: int | None) -> Table:
    """Which services run where: sites with the same tier and the same services share one row."""
    placed: dict[str, list[str]] = defaultdict(list)
    for inst in infra.placement.instances:
        if inst.service.value not in placed[inst.site]:
            placed[inst.site].append(inst.service.value)
    order = {s.value: i for i, s in enumerate(Service)}
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for name, site in infra.sites.items():
        services = tuple(sorted(placed.get(name, []), key=order.__getitem__))
        groups[(site.tier.value, services)].append(name)
    rows = sorted(groups.items(), key=lambda kv: (-len(kv[0][1]), Tier(kv[0][0]).rank, kv[1][0]))
    shown = rows if limit is None else rows[:limit]
    title = "Service map" + (
        "" if len(shown) == len(rows) else f" (first {len(shown)} of {len(rows):,} groups)"
    )
    table = Table(title=title)
    table.add_column("sites")
    table.add_column("tier")
    table.add_column("hosts", justify="right")
    table.add_column("control-plane services (every host also runs nova-compute, libvirt, neutron agents)")
    for (tier, services), names in shown:
        label = names[0] if len(names) == 1 else f"{len(names):,} sites: {_names(names, 3)}"
        hosts = sum(infra.sites[n].host_count for n in names)
        table.add_row(label, tier, f"{hosts:,}", ", ".join(services) or "—")
    return table


def summary(infra: Infrastructure, limit: int | None = 30, *, width: int | None = None) -> RenderableType:
    """A scenario's head line and tables; the regions table within `width` columns (None: all)."""
    return Group(
        _header(infra),
        tiers_table(infra),
        links_table(infra),
        regions_table(infra, limit, width=width),
        service_map(infra, limit),
    )
