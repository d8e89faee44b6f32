"""A project's global limits split into region limits, as a table and as data (`wanstack quota plan`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from wanstack.multiregion.limits import KEYSTONE_RESOURCE, RegionLimit


def region_limits_table(project: str, limits: Sequence[RegionLimit]) -> Table:
    """Each region's limit of each resource, with the name Keystone's unified limits give it."""
    table = Table(title=f"{project}: global limits as region limits")
    for col in ("region", "resource", "Keystone resource", "limit"):
        table.add_column(col, justify="right" if col == "limit" else "left")
    for p in limits:
        table.add_row(p.region, p.resource, KEYSTONE_RESOURCE[p.resource], str(p.limit))
    return table


def region_limits_json(limits: Sequence[RegionLimit]) -> list[dict[str, Any]]:
    """The same as records: region, resource, keystone_resource, limit."""
    return [
        {"region": p.region, "resource": p.resource, "keystone_resource": KEYSTONE_RESOURCE[p.resource]}
        | {"limit": p.limit}
        for p in limits
    ]
