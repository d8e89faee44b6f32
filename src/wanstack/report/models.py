"""The library of deployment models as a table (`wanstack models`)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text

from wanstack.report.fit import Column, fitted
from wanstack.scenario.deployment import DeploymentModel


def models_table(models: Iterable[DeploymentModel], *, width: int | None = None) -> Table:
    """One line per model: its name (never cut), RPC and notification backends, and summary."""
    chosen = list(models)
    columns = [
        Column("name", [Text(m.name, style="bold") for m in chosen]),
        Column(
            "RPC / notifications",
            [f"{m.messaging.rpc.value} / {m.messaging.notifications.value}" for m in chosen],
        ),
        Column("summary", [m.summary for m in chosen], words=True),
    ]
    return fitted(
        columns, width=width, title="Deployment models (apply any to any topology with `model: NAME`)"
    )
