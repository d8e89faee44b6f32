"""`wanstack bench`, `replay`, `calibrate`: real traffic on this machine's brokers and emulated WAN
links (`wanstack.api.real`), beside the simulator's prediction."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wanstack.cli.common import fail, load_scenario, need_rabbitmq
from wanstack.cli.options import FormatOption, HtmlOption, OutOption, OutputFormat, ScenarioArg
from wanstack.cli.output import deliver, errors, show
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.scenario.workload import OperationKind


def bench(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    messages: Annotated[int, typer.Option(help="Messages per client and test case.")] = 20,
    out: OutOption = None,
    simulate: Annotated[
        bool, typer.Option("--simulate", help="Run the same test cases in the simulator instead (fast).")
    ] = False,
    calibration: Annotated[
        Path | None, typer.Option(help="With --simulate: a `wanstack calibrate` file.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
    html: HtmlOption = None,
) -> None:
    """Run the scenario's messaging test cases for real (ombt's TC1–TC3: RPC calls, casts, a fanout;
    and notifications consumed at the top site) on the model's buses: RabbitMQ nodes (one, one per
    cell or region, or a cluster) or, for a router mesh, NATS servers (one per rpc-bus site,
    notifications staying on RabbitMQ); every site reaches the nodes it uses through WAN relays.
    `--simulate` runs the same cases in the simulator."""
    from wanstack.api import CalibrationError
    from wanstack.api.real import bench as run_cases
    from wanstack.report.tables import operations_table, sla_table

    if calibration is not None and not simulate:
        # A calibration sets the simulator's costs; the real bench measures them: say so, not ignore it.
        fail("--calibration only applies to the simulator: add --simulate (or drop --calibration)")
    infra = load_scenario(scenario)
    if not simulate:
        need_rabbitmq("wanstack bench")
    try:
        result = run_cases(
            infra,
            messages,
            simulate=simulate,
            calibration=calibration,
            progress=lambda name: errors.print(f"… {name}"),
        )
    except CalibrationError as err:
        fail(str(err), markup=False)
    except ValueError as err:  # a topology larger than one machine benches
        fail(str(err))
    views = [operations_table(result), *([sla_table(result)] if result.sla else [])]
    title = f"wanstack bench: {infra.scenario.name} ({result.engine})"
    deliver(result, fmt, *views, out=out, html=html, title=title)
    if not result.sla_passed:
        raise typer.Exit(1)


def replay(
    op: Annotated[str, typer.Argument(help="The operation to replay: boot, delete, pause, unpause, ...")],
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    site: Annotated[str | None, typer.Option(help="Target site (default: the first edge site).")] = None,
    times: Annotated[int, typer.Option(min=1, help="Operations after one warm-up.")] = 5,
    calibration: Annotated[Path | None, typer.Option(help="A `wanstack calibrate` file.")] = None,
    local_ms: Annotated[
        float | None, typer.Option(help="Shorten the host's own work (spawn, shutdown) to this many ms.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Replay an operation's workflow as real traffic (oslo.messaging over RabbitMQ, HTTP and DB
    exchanges, the image download) across the emulated WAN, and the simulator's prediction beside it."""
    if op not in {k.value for k in OperationKind}:
        fail(f"unknown operation {op!r}; one of: {', '.join(k.value for k in OperationKind)}")
    need_rabbitmq("wanstack replay")
    from wanstack.api import CalibrationError
    from wanstack.api.real import replay as run_replay
    from wanstack.report.replay import replay_table

    infra = load_scenario(scenario)
    if site is not None and site not in infra.sites:
        fail(f"no site {site!r} in {infra.scenario.name}")
    try:
        replayed = run_replay(
            infra,
            op,
            site,
            times=times,
            calibration=calibration,
            local_ms=local_ms,
            progress=lambda i: errors.print(f"… {op} {i}/{times}"),
        )
    except CalibrationError as err:
        fail(str(err), markup=False)
    except ValueError as err:  # a model the replay cannot run
        fail(str(err))
    real = replayed.real
    show(fmt, replay_table(op, replayed.site, infra.model.name, real, replayed.predicted))
    if not real.latencies_ms:  # no latency to show, rather than 0.0 ms
        fail(f"none of the {times} replays succeeded ({real.failures} failed)", 1)


def calibrate(
    out: Annotated[Path, typer.Option(help="Where to write the calibration file.")] = Path(
        "calibration.yaml"
    ),
    pause_ms: Annotated[
        float,
        typer.Option(
            help="Pause between the paused runs' messages (the test plan's by default): a process's cost "
            "per message is fitted for this idle time and shorter ones (back to back, 20 ms)."
        ),
    ] = 200.0,
    max_stolen: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Measure a run again (at most 3 times, keeping the least disturbed) when the hypervisor "
            "took more than this share of the CPU while it ran: on a shared host the figures move with "
            "the neighbours. 1 = never.",
        ),
    ] = 0.01,  # `lab.steady.Steadiness`'s default (why: there)
    refit: Annotated[
        bool,
        typer.Option(
            help="Measure nothing: derive the simulator's parameters again from the measurements already "
            "in --out, with this version's model (seconds; no RabbitMQ needed)."
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Measure this machine's RabbitMQ, oslo.messaging and relay costs for the simulator (about 6 min)."""
    from wanstack.api import CalibrationError
    from wanstack.api.real import calibrate as measure
    from wanstack.api.real import refit as derive
    from wanstack.report.calibration import calibration_tables

    if refit:
        if not out.is_file():
            fail(f"[red]error:[/red] {out}: no calibration file to refit (run `wanstack calibrate`)")
        try:
            result = derive(out)
        except CalibrationError as err:
            fail(str(err), markup=False)
    else:
        need_rabbitmq("wanstack calibrate")
        result = measure(
            out,
            progress=lambda text: errors.print(f"… {text}"),
            pause_ms=pause_ms,
            max_stolen=max_stolen,
        )
    show(fmt, *calibration_tables(result, f"Calibration written to {out}"))
