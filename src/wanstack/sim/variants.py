"""Run one scenario under several deployment models × RPC backends × quota modes (`wanstack
compare`), in parallel worker processes when there are several runs and several cores."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.load import Source, finish
from wanstack.scenario.quotas import QuotaMode
from wanstack.scenario.services import RpcBackend
from wanstack.sim.engine import SimOptions, simulate

# Model name, RPC backend (None: the model's own), quota mode for every project (None: the scenario's).
Variant = tuple[str, RpcBackend | None, QuotaMode | None]


def prepare(source: Source, variant: Variant, overrides: Mapping[str, Any] | None = None) -> Infrastructure:
    """The scenario with its model, RPC backend and quota mode replaced, after `overrides` (raises
    ScenarioError)."""
    scenario, located = source.parse(overrides)
    model, rpc, mode = variant
    quotas = scenario.quotas
    if mode is not None:
        projects = [p.model_copy(update={"mode": mode}) for p in quotas.projects]
        quotas = quotas.model_copy(update={"projects": projects})
    scenario = scenario.model_copy(
        update={
            "model": model,
            "regions": [r.model_copy(update={"model": None}) for r in scenario.regions],
            "messaging": scenario.messaging.model_copy(update={"rpc": rpc}),
            "quotas": quotas,
        }
    )
    return finish(scenario, located, source.filename, source.folder)


def run_variant(
    source: Source, variant: Variant, options: SimOptions | None, overrides: Mapping[str, Any] | None
) -> RunResult:
    """The simulated result of one variant of the scenario (`prepare`); a worker process's whole job in
    `run_variants`."""
    return simulate(prepare(source, variant, overrides), options)


def run_variants(
    source: Source,
    variants: Sequence[Variant],
    options: SimOptions | None = None,
    *,
    on_done: Callable[[RunResult], None] | None = None,
    processes: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[RunResult]:
    """Results in the order of `variants`. Scenario errors surface from the first variant."""
    for variant in variants:  # every variant is checked here, so errors are reported cleanly
        prepare(source, variant, overrides)
    results: list[RunResult | None] = [None] * len(variants)
    workers = min(processes or os.cpu_count() or 1, len(variants))
    if workers <= 1:
        for i, variant in enumerate(variants):
            results[i] = done = run_variant(source, variant, options, overrides)
            if on_done:
                on_done(done)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(run_variant, source, v, options, overrides): i for i, v in enumerate(variants)
            }
            for future in as_completed(futures):
                results[futures[future]] = done = future.result()
                if on_done:
                    on_done(done)
    return [r for r in results if r is not None]
