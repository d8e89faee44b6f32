"""A real OpenStack control plane over a scenario's emulated sites, from Python (the testbed extra and
`make openstack`'s environment): start it in the background (`up`), look at it (`state`, `status`), run
the scenario's workload on it as Rally would (`run`) or run Rally itself on it (`rally`), trace one
operation through every service with osprofiler (`trace`) beside the simulator's workflow for it
(`explain_trace`), stop it (`down`). What `wanstack testbed` does. A testbed is described by its
state, a dict `up` and `state` return."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wanstack.api.simulation import explain
from wanstack.results.schema import RunResult
from wanstack.results.workflow import WorkflowCrossings
from wanstack.scenario.build import Infrastructure
from wanstack.testbed.control import TestbedError

if TYPE_CHECKING:
    from wanstack.sim.control_plane import ControlPlaneCalibration
    from wanstack.testbed.control import ServiceStatus
    from wanstack.testbed.trace import Trace
    from wanstack.testbed.watch import StateWatch

__all__ = [
    "TRACED",
    "TestbedError",
    "calibrate",
    "down",
    "explain_trace",
    "missing",
    "rally",
    "rally_missing",
    "run",
    "starting",
    "state",
    "status",
    "trace",
    "up",
]

Say = Callable[[str], None]
State = dict[str, Any]  # what `up` and `state` return: the model, sites, APIs, computes, resources, …
TRACED = ("boot", "delete", "pause", "unpause")  # the operations `trace` runs
# The settings of a testbed before Open vSwitch (the stored traces' and runs' until 2026-12-07): Nova's
# fake driver and wanstack's bind-all ML2 driver.
TESTBED_SETTINGS = {"virt": "fake", "neutron": "bind-all"}


def missing() -> str | None:
    """What is missing to start a testbed here (OpenStack's services' environment), or None."""
    from wanstack.lab import openstack_env

    return None if openstack_env.available() else openstack_env.MISSING


def _folder(folder: Path | None) -> Path:
    from wanstack.testbed.control import DEFAULT_FOLDER

    return folder or DEFAULT_FOLDER


def up(scenario: str, edges: int | None = 2, folder: Path | None = None, say: Say = print) -> State:
    """Start the control plane the deployment model of `scenario` (a file or a built-in name)
    describes, only the first `edges` sites with hosts running a nova-compute, in the background under
    `folder` (default: /tmp/wanstack-testbed or $WANSTACK_TESTBED); its log lines are passed to `say`.
    Returns its state once every service is ready. Raises ScenarioError for an invalid scenario,
    ValueError for what one machine cannot run (before starting anything), TestbedError when it does
    not start; Ctrl-C meanwhile stops it."""
    from wanstack.scenario.load import load
    from wanstack.testbed.control import up as start
    from wanstack.testbed.layout import plan

    plan(load(scenario), edges)  # refuse what one machine cannot run, before starting
    return start(scenario, edges, _folder(folder), say=say)


def state(folder: Path | None = None) -> State | None:
    """The state of the testbed that is up in `folder` (default as for `up`), or None."""
    from wanstack.testbed.control import state as read

    return read(_folder(folder))


def starting(folder: Path | None = None) -> bool:
    """Whether a testbed is starting in `folder` (default as for `up`): `up` refuses a second one, and
    `down` stops it."""
    from wanstack.testbed.control import starting as is_starting

    return is_starting(_folder(folder))


def status(found: State) -> list[ServiceStatus]:
    """Each API of the testbed `found` (does it answer at its site?) and each Nova service (as the API
    lists it)."""
    from wanstack.testbed.control import status as ask

    return ask(found)


def down(folder: Path | None = None, say: Say = print) -> bool:
    """Stop the testbed in `folder` — every process, relay, broker and database — and remove its files;
    False when none was up."""
    from wanstack.testbed.control import down as stop

    return stop(_folder(folder), say=say)


def _watch(found: State) -> StateWatch | None:
    """The observer of the testbed `found`: its cells' databases, where Nova writes a server's state."""
    from wanstack.testbed.watch import StateWatch

    databases = found.get("state_databases") or []
    return StateWatch(databases) if databases else None


def run(infra: Infrastructure, found: State, say: Say | None = None) -> RunResult:
    """The scenario's operations (boot, delete, pause, unpause with `times`) against the testbed
    `found`, as Rally runs them (times × concurrency, a token per iteration, its polling): each as the
    service sees it (its state written) and as Rally reports it; a result of engine `testbed`. Raises
    ValueError for an operation the testbed does not run."""
    from wanstack.testbed.workload import Runner, run_workload

    runner = Runner(found["apis"], found["resources"], _watch(found))
    return run_workload(infra, runner, found["computes"], say=say)


def rally_missing() -> str | None:
    """What is missing to run Rally against a testbed here (`make rally`'s environment), or None."""
    from wanstack.testbed import rally as rally_env

    return None if rally_env.available() else rally_env.MISSING


def rally(
    infra: Infrastructure,
    found: State,
    workloads: Sequence[str] = ("boot-and-delete",),
    *,
    site: str | None = None,
    times: int = 10,
    concurrency: int = 1,
    keep: Path | None = None,
    say: Say | None = None,
) -> RunResult:
    """Rally 5.1.1 itself against the testbed `found`: its `workloads` (`boot-and-delete`:
    NovaServers.boot_and_delete_server, `pause-and-unpause`: NovaServers.pause_and_unpause_server),
    `times` iterations `concurrency` at a time, its servers at `site` (default: the first compute site)
    and Rally a user at the top site (Keystone's catalog holds the top site's URLs). Its JSON report,
    kept at `keep` when given, read into a result of engine `rally` for `infra` (its operations named
    as the simulator's and `run`'s Rally rows: `boot (rally)`, …). Raises ValueError for an unknown
    workload or a site without a nova-compute, RuntimeError when Rally fails."""
    import json

    from wanstack.results.rally import rally_result
    from wanstack.testbed.rally import Workload, run_task

    known = [w.value for w in Workload]
    if unknown := [w for w in workloads if w not in known]:
        raise ValueError(f"unknown Rally workload {unknown[0]!r}; use {' or '.join(known)}")
    where = site or found["computes"][0]
    report = run_task(
        found, [Workload(w) for w in workloads], where, times=times, concurrency=concurrency, say=say
    )
    if keep is not None:
        keep.parent.mkdir(parents=True, exist_ok=True)
        keep.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return rally_result(report, infra)


def trace(found: State, operation: str = "boot", site: str | None = None, say: Say | None = None) -> Trace:
    """Run one `operation` (one of TRACED) at `site` (default: the first compute site) on the testbed
    `found` with osprofiler tracing it through every service: the REST calls and RPCs it made, the
    sites each crossed, the SQL statements per service, the critical path until the state was written.
    Raises ValueError for another operation or a site without a nova-compute, RuntimeError when the
    operation fails."""
    from wanstack.testbed.trace import traced
    from wanstack.testbed.workload import Runner

    if operation not in TRACED:
        raise ValueError(f"trace runs {', '.join(TRACED[:-1])} or {TRACED[-1]}, not {operation!r}")
    where = site or found["computes"][0]
    if where not in found["computes"]:
        raise ValueError(f"{where!r} runs no nova-compute on the testbed ({', '.join(found['computes'])})")
    runner = Runner(found["apis"], found["resources"], _watch(found))
    return traced(runner, found["traces"], operation, where, say=say)


def explain_trace(infra: Infrastructure, traced: Trace, found: State | None = None) -> WorkflowCrossings:
    """The simulator's workflow for the traced operation at its site, with the testbed's settings (those
    of the testbed `found`: its virt driver and Neutron backend; without it, those the testbed ran
    before it had Open vSwitch, Nova's fake driver and wanstack's bind-all ML2 driver), notifications
    off, and as many servers on the host as the trace saw."""
    from wanstack.scenario.openstack import NeutronBackend, OpenStack, VirtDriver

    running = testbed_settings(found)
    settings = OpenStack(virt=VirtDriver(running["virt"]), neutron=NeutronBackend(running["neutron"]))
    return explain(infra, traced.op, traced.site, settings=settings, servers_on_host=traced.servers_on_host)


def testbed_settings(found: State | None) -> dict[str, str]:
    """The `openstack:` settings (virt, neutron) the testbed `found` runs, or TESTBED_SETTINGS."""
    running = found.get("openstack") if found is not None else None
    return dict(running) if running else dict(TESTBED_SETTINGS)


def calibrate(
    infra: Infrastructure,
    *,
    traces: Sequence[Path] = (),
    level: Path | None = None,
    found: State | None = None,
    say: Say | None = None,
) -> ControlPlaneCalibration:
    """The simulator's station times measured on the testbed (`wanstack testbed calibrate`): the split
    between stations from traced operations — the files `traces` (`testbed trace OP --save`), or, with
    none, a fresh trace of each of TRACED on the testbed `found` — and the level from a run of `infra`'s
    scenario on the testbed — the file `level` (`testbed run --out`'s result.json), or, without one, a
    run made now on `found`. Raises ValueError for inputs that cannot be fitted, RuntimeError when the
    testbed fails an operation."""
    import datetime

    from wanstack.testbed.calibration import fit, level_of, stored_trace

    if (not traces or level is None) and found is None:
        raise ValueError("no testbed is up: give stored traces and a run's result.json, or `testbed up`")
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    if traces:
        taken = [(stored_trace(path), str(path)) for path in traces]
    else:
        assert found is not None
        taken = [(trace(found, op, say=say), f"testbed {found['root']}") for op in TRACED]
    if level is not None:
        result = RunResult.model_validate_json(level.read_text(encoding="utf-8"))
        mtime = datetime.datetime.fromtimestamp(level.stat().st_mtime, datetime.UTC)
        date, source = mtime.isoformat(timespec="seconds"), str(level)
    else:
        assert found is not None
        result, date, source = run(infra, found, say), now, f"testbed {found['root']}"
    settings = testbed_settings(found)
    return fit(infra, taken, level_of(result), level_source=source, date=date, settings=settings)
