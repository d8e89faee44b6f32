"""wanstack from Python (notebooks, scripts): load a scenario with overrides, simulate, compare, sweep,
and get every table as a pandas DataFrame. The `wanstack` command is a thin layer over this package:
each of its commands is a function here, its tables `wanstack.report`'s views of what they return.

    import wanstack
    run = wanstack.simulate("default", {"links.delay_ms": 10})
    run.operations[["op", "p50_ms", "p95_ms"]]
    grid = {"links.delay_ms": [0, 25, 50], "model": ["centralized", "cells-shared"]}
    table = wanstack.sweep("default", grid, seeds=3)

The simulator's functions are here (`wanstack.api.simulation`); the rest, each in its module:
`wanstack.api.real` (bench, replay, calibrate), `wanstack.api.migrate`, `wanstack.api.quota`,
`wanstack.api.cloud` (a real cloud's inventory), `wanstack.api.testbed`. A module needing an extra
imports it only when called."""

from wanstack.api.runs import Run, Runs, load_dir
from wanstack.api.simulation import (
    ScenarioLike,
    compare,
    cost,
    explain,
    inventory,
    load_scenario,
    parse_grid,
    sim_options,
    simulate,
    sweep,
    write_sweep,
)
from wanstack.results.rows import column_name
from wanstack.results.workflow import WorkflowCrossings
from wanstack.sim.calibration import CalibrationError

__all__ = [
    "CalibrationError",
    "Run",
    "Runs",
    "ScenarioLike",
    "WorkflowCrossings",
    "column_name",
    "compare",
    "cost",
    "explain",
    "inventory",
    "load_dir",
    "load_scenario",
    "parse_grid",
    "sim_options",
    "simulate",
    "sweep",
    "write_sweep",
]
