"""An operation's workflow step by step, with its WAN crossings, as a table (`wanstack explain`, and
the simulator's side of `wanstack testbed trace`)."""

from __future__ import annotations

from rich.table import Table

from wanstack.results.workflow import WorkflowCrossings


def explain_table(workflow: WorkflowCrossings) -> Table:
    """Each step with the sites it runs between and its one-way crossings; the title sums the critical
    path's crossings (two make one exchange)."""
    w = workflow
    on_host = f", {w.servers_on_host} servers on the host" if w.servers_on_host > 1 else ""
    total = w.critical_crossings
    table = Table(
        title=f"{w.operation} at {w.site} under {w.model} ({w.rpc} RPC{on_host}): "
        f"{total} one-way WAN crossings on the critical path = {total / 2:g} exchanges"
    )
    table.add_column("step", overflow="fold")  # a long URL folds rather than lose its end
    table.add_column("sites", no_wrap=True)
    table.add_column("crossings", justify="right", no_wrap=True)
    for step in w.steps:
        table.add_row(step.step, step.sites, str(step.crossings) if step.sites else "")
    table.caption = STEADY_STATE
    return table


# What the count leaves out (sim/crossings.py counts the steady state); `wanstack testbed trace` names
# these exchanges when a traced operation made them (testbed/trace.py `ONCE_PER_PROCESS`).
STEADY_STATE = (
    "Counted in the steady state: the user's and the services' Keystone tokens cached, Nova's list of "
    "Neutron's extensions and the L2 agent's resource cache filled. A process's first operation also "
    "makes those exchanges (version discovery and a token, the extension list, the cache's pulls), "
    "once per process or cache period."
)


def station_times_table(workflow: WorkflowCrossings) -> Table:
    """The service time of each station the workflow visits, and where each figure comes from."""
    table = Table(title="Station times the simulator gives these steps (per request or message)")
    for col in ("station", "service", "workers", "from"):
        table.add_column(col, justify="right" if col in ("service", "workers") else "left")
    for t in workflow.stations:
        table.add_row(t.kind, f"{t.service_ms:.2f} ms", str(t.workers), t.source)
    return table
