"""The library of deployment models as a table (`wanstack models`)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table

from wanstack.scenario.deployment import DeploymentModel


def models_table(models: Iterable[DeploymentModel]) -> Table:
    """One line per model: its name, RPC and notification backends, and summary."""
    table = Table(title="Deployment models (apply any to any topology with `model: NAME`)")
    table.add_column("name", style="bold")
    table.add_column("RPC / notifications")
    table.add_column("summary")
    for model in models:
        table.add_row(
            model.name, f"{model.messaging.rpc.value} / {model.messaging.notifications.value}", model.summary
        )
    return table
