"""Deployment models: templates that say where each control-plane service goes, relative to any
topology (the top site, each region's control site, each cell, every site), and which messaging
backend carries RPC and notifications. The built-in library lives in `library/*.yaml`."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import Field, model_validator

from wanstack.scenario.infrastructure import StrictModel
from wanstack.scenario.services import (
    Anchor,
    CellLayout,
    NotificationBackend,
    RegionLayout,
    RpcBackend,
    Service,
)


class ModelMessaging(StrictModel):
    rpc: RpcBackend = RpcBackend.BROKER
    notifications: NotificationBackend = NotificationBackend.BROKER


class DeploymentModel(StrictModel):
    name: str
    summary: str = Field(description="One line for `wanstack models`.")
    description: str = ""
    sources: list[str] = Field(default_factory=list, description="Where this model comes from.")
    region_layout: RegionLayout = RegionLayout.SINGLE
    cell_layout: CellLayout = CellLayout.NONE
    services: dict[Service, Anchor]
    messaging: ModelMessaging = Field(default_factory=ModelMessaging)
    levels: list[str] = Field(
        default_factory=list,
        description="HotEdge 2018 capability levels this model meets (L1, L2.1, L3.1 …).",
    )

    @model_validator(mode="after")
    def _every_service_placed(self) -> DeploymentModel:
        missing = [s.value for s in Service if s not in self.services]
        if missing:
            raise ValueError(
                f"model {self.name!r} does not place: {', '.join(missing)} (use `none` to leave out)"
            )
        for needed in (Service.KEYSTONE, Service.NOVA_API, Service.NOVA_CONDUCTOR, Service.RPC_BUS):
            if self.services[needed] is Anchor.NONE:
                raise ValueError(f"model {self.name!r} cannot leave out {needed.value}")
        return self


def _library_dir() -> resources.abc.Traversable:
    return resources.files("wanstack.scenario") / "library"


@cache
def library() -> dict[str, DeploymentModel]:
    """The built-in models, by name, in file-name order."""
    import yaml

    models: dict[str, DeploymentModel] = {}
    for entry in sorted(_library_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            model = DeploymentModel.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
            models[model.name] = model
    return models


def find_model(name: str, base_dir: Path | None = None) -> DeploymentModel | None:
    """A library model by name, or a model file (path relative to the scenario file)."""
    if name in library():
        return library()[name]
    if name.endswith((".yaml", ".yml")):
        path = Path(name) if base_dir is None else base_dir / name
        if path.is_file():
            import yaml

            return DeploymentModel.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    return None
