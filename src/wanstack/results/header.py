"""What a run's result says was run, before its figures: the engine, the scenario and its seed, the
deployment model and the messaging backends, as every engine that runs a scenario's deployment fills
them from it."""

from __future__ import annotations

from typing import TypedDict

from wanstack.scenario.build import Infrastructure


class RunHeader(TypedDict):
    """`RunResult`'s first fields."""

    engine: str
    scenario: str
    model: str
    rpc_backend: str
    notification_backend: str
    seed: int


def run_header(infra: Infrastructure, engine: str) -> RunHeader:
    """`infra` run by `engine` ("sim", "testbed"): its scenario's name and seed, its model, and the first
    region's RPC and notification backends (the bench's messaging cases name every region's:
    `cases.backends`)."""
    plan = infra.placement.regions[0]
    return RunHeader(
        engine=engine,
        scenario=infra.scenario.name,
        model=infra.model.name,
        rpc_backend=plan.rpc.value,
        notification_backend=plan.notifications.value,
        seed=infra.scenario.run.seed,
    )
