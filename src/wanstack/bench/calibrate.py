"""`wanstack calibrate`: measure this machine's messaging costs and write them where the simulator
reads them.

Measured, with one client behind a 0 ms relay and one server next to the broker (as an edge client
reaches the central broker in the bench's cases):
- the relay's own cost per traversal beyond its configured delay (`relay_probe`);
- calls and casts back to back, and calls, casts and notifications 20 ms and the test plan's pause
  apart: their latency, and the CPU time per message of each process (client, server, RabbitMQ with
  its helpers, the relay) from the processes' CPU counters;
- calls with the pause from several client/server pairs at once: their latency;
- calls per second with 8 client threads.
Fitted from those figures by the simulator's own model of the bench's host (`sim.host_fit.derive`).
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from wanstack.bench.controller import RoleProcess
from wanstack.lab.procstat import session_cpu_s
from wanstack.lab.rabbit import RabbitNode
from wanstack.lab.relay import DelayRelay, LinkShape
from wanstack.lab.relay_probe import measure as measure_relay
from wanstack.lab.steady import ONCE, Steadied, Steadiness, least_disturbed, within_gate
from wanstack.scenario.testplan import DEFAULT_PAUSE_MS
from wanstack.sim.calibration import (
    Calibration,
    CalibrationError,
    CrowdFigures,
    Measured,
    PairFigures,
    ProcessCpu,
    RelayFigures,
    load_calibration,
)
from wanstack.sim.host_fit import FIT_MESSAGES, FIT_MESSAGES_MIN, derive, star_case

# Messages per measured run: back to back, and with the pause (CPU counters tick every 10 ms; the
# paused runs' p95 fits the spread of a library end's cost, so they get some hundreds).
BACK_TO_BACK = 1_000
WITH_PAUSE = 300
ROUNDS = 2  # each measurement split over this many rounds (`calibrate`)
# The roles of a calibration pair, (client, server).
PAIR_ROLES = {
    "call": ("rpc-client", "rpc-server"),
    "cast": ("rpc-client", "rpc-server"),
    "notify": ("notifier", "listener"),
}
PLURAL = {"call": "calls", "cast": "casts", "notify": "notifications"}  # for progress lines
# The pause of the paused runs: the test plan's (`scenario.testplan.DEFAULT_PAUSE_MS`), long enough
# for a listener's poll back-off to take several steps, which separates the CPU of a poll wake from
# that of a message (`sim.host_fit.poll_costs`).
PAUSE_MS = DEFAULT_PAUSE_MS
# Calls this far apart too: a process's cost per message grows with its idle time and has mostly
# grown by 20 ms (benchmarks/warmth.py); it is also how often tc1's one server hears from ten clients
# 200 ms apart. The warmth curve gets a point here, at 0 and at the pause.
WARM_PAUSE_MS = 20.0
# Client/server pairs calling at once (each client at an edge site of its own, the pause apart), for
# how a process's cost grows with the work of others (`Params.end_crowding`): eight, fewer than the
# default scenario's ten edges, so that its tc2 stays a prediction.
CROWD_PAIRS = 8


@dataclass
class PairRun:
    """One client behind a 0 ms relay calls (or casts to) one server next to the broker: latency
    (calls: the caller's; casts: receive − send), and CPU ms per call or cast of each process."""

    kind: str
    pause_ms: float
    p50_ms: float
    p95_ms: float
    client: float
    server: float
    broker: float
    relay: float  # the relay runs in this (the controller's) process
    per_s: float
    sent_bytes: float = 0.0  # per call or cast, client -> broker, as the relay counted them
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def library(self) -> float:
        return self.client + self.server

    def figures(self) -> PairFigures:
        cpu = ProcessCpu(client=self.client, server=self.server, broker=self.broker, relay=self.relay)
        return PairFigures(
            kind=self.kind,
            pause_ms=self.pause_ms,
            p50_ms=self.p50_ms,
            p95_ms=self.p95_ms,
            cpu_ms=cpu,
        )


def pooled(runs: list[PairRun]) -> PairRun:
    """Several runs of one kind and pause as one: their latencies together, per-message figures
    weighted by each run's messages."""
    first = runs[0]
    latencies = [x for r in runs for x in r.latencies_ms]
    weights = [len(r.latencies_ms) for r in runs]

    def mean(name: str) -> float:
        return float(np.average([getattr(r, name) for r in runs], weights=weights))

    p50, p95 = (float(x) for x in np.percentile(latencies, [50, 95]))
    figures = {k: mean(k) for k in ("client", "server", "broker", "relay", "per_s", "sent_bytes")}
    return PairRun(first.kind, first.pause_ms, p50, p95, latencies_ms=latencies, **figures)


def measure_pair(
    broker: RabbitNode, kind: str = "call", calls: int = BACK_TO_BACK, pause_ms: float = 0.0, threads: int = 1
) -> PairRun:
    """One run of the calibration pair on `broker`: `calls` messages of `kind` ("call", "cast" or
    "notify"), `pause_ms` apart from each of `threads` client threads, the client behind a 0 ms relay that
    counts AMQP frames as the cases' relays do. The latencies, the CPU ms per message of the client, the
    server, the broker and this process (the relay), the messages per second, and the bytes per message the
    client sent."""
    session = broker.pid or 0
    # The relay counts AMQP frames, as in the bench's cases: that parsing is part of its cost.
    with DelayRelay(broker.port, LinkShape(), protocol="amqp") as relay:
        far = f"rabbit://guest:guest@127.0.0.1:{relay.port}/"
        client_role, server_role = PAIR_ROLES[kind]
        # A notifier sends its notifications as the rpc-client sends casts (the roles' `kind`).
        send = "call" if kind == "call" else "cast"
        topic = "notifications" if kind == "notify" else "wanstack-bench"
        with (
            RoleProcess(server_role, broker.url, topic=topic, server="cal") as server,
            RoleProcess(client_role, far, topic=topic, server="cal") as client,
        ):
            client.ask({"calls": 20, "kind": send})
            server.ask({"cmd": "reset"})
            sessions = (client.proc.pid, server.proc.pid, session)
            before = [session_cpu_s(s) for s in sessions]
            sent_before = relay.forward.bytes
            own = os.times()
            command = {"calls": calls, "kind": send, "threads": threads, "pause_ms": pause_ms}
            result = client.ask(command)
            time.sleep(0.3)  # the last casts' delivery and acknowledgements
            after = [session_cpu_s(s) for s in sessions]
            mine = os.times()
            latencies = (
                result["latencies_ms"] if kind == "call" else server.ask({"cmd": "stats"})["one_way_ms"]
            )
            sent = relay.forward.bytes - sent_before
    done = max(1, len(result["latencies_ms"]))
    ms = [(b - a) * 1000.0 / done for a, b in zip(before, after, strict=True)]
    relay_ms = (mine.user + mine.system - own.user - own.system) * 1000.0 / done
    p50, p95 = (float(x) for x in np.percentile(latencies, [50, 95]))
    per_s = done / result["elapsed_s"]
    return PairRun(kind, pause_ms, p50, p95, ms[0], ms[1], ms[2], relay_ms, per_s, sent / done, latencies)


def measure_crowd(broker: RabbitNode, pairs: int, pause_ms: float, messages: int) -> list[float]:
    """The calls' latencies of `pairs` pairs of the calibration's set-up (`star_case`) on the bench."""

    from wanstack.bench.cases import Bus, run_case

    infra, case = star_case("call", pairs, pause_ms, messages)
    top = infra.placement.top_site
    edges = {s: 0.0 for s in infra.sites if s != top}
    return run_case(Bus.single(broker, top, edges), case).latencies_ms


# --- measuring ------------------------------------------------------------------------------------
Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def measure_relay_figures(scale: float = 1.0, say: Say = _quiet) -> RelayFigures:
    """The relay's own cost per traversal at 0 ms and on delayed links (`relay_probe`)."""
    say("relay overhead")
    n, burst = max(30, round(200 * scale)), max(30, round(20_000 * scale))
    at_0 = measure_relay(0.0, round_trips=n, burst=burst)
    far = [measure_relay(d, round_trips=n, burst=burst) for d in (10.0, 25.0)]
    return RelayFigures(
        added_per_traversal_ms=round(sum(r.added_p50_ms for r in far) / (2 * len(far)), 4),
        added_per_traversal_ms_at_0ms=round(at_0.added_p50_ms / 2, 4),
        messages_per_s=round(at_0.messages_per_s, 4),
    )


@dataclass
class Rounds:
    """The calibration's pair and crowd measurements, taken in rounds that are pooled: this machine
    drifts by 10-20 % over minutes (other tenants), and the fits compare the runs with each other, so
    every round measures everything. Other measurements that must see the machine as the calibration
    saw it run between rounds on the same broker (`benchmarks/sim_vs_bench.py`)."""

    rounds: int = ROUNDS
    pause_ms: float = PAUSE_MS
    scale: float = 1.0
    # Each measurement taken again while the hypervisor takes too much of the CPU (`lab.steady`).
    steadiness: Steadiness = ONCE
    # Every round of every measurement as measured (`Steadied`: with its stolen CPU and that of the
    # attempts set aside for it).
    each: dict[tuple[str, float], list[Steadied[PairRun]]] = field(default_factory=dict)
    crowd: list[Steadied[list[float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        pause = self.pause_ms
        warm = (WARM_PAUSE_MS,) if pause > WARM_PAUSE_MS else ()
        plan = [("call", p) for p in (0.0, *warm, pause)] + [("cast", 0.0)]
        plan += [(kind, p) for kind in ("cast", "notify") for p in (*warm, pause)]
        self.each = {step: [] for step in plan}

    def count(self, n: int) -> int:
        return max(30, round(n * self.scale))

    def measure(self, broker: RabbitNode, n: int, say: Say = _quiet) -> None:
        """Round `n` (from 0) of every measurement."""
        rounds = self.rounds
        for kind, pause in self.each:
            how = "back to back" if not pause else f"{pause:.0f} ms apart"
            say(f"round {n + 1}/{rounds}: {PLURAL[kind]} {how}: latency, CPU")
            # As many as back to back when the pause is short: the run still takes seconds.
            calls = WITH_PAUSE if pause > WARM_PAUSE_MS else BACK_TO_BACK // 2 if pause else BACK_TO_BACK
            n_calls = max(20, self.count(calls) // rounds)
            measure = functools.partial(measure_pair, broker, kind, n_calls, pause)
            self.each[kind, pause].append(
                least_disturbed(measure, self.steadiness, f"{PLURAL[kind]} {how}", say)
            )
        say(f"round {n + 1}/{rounds}: {CROWD_PAIRS} pairs calling at once, {self.pause_ms:.0f} ms apart")
        # As many calls per pair as a lone pair's paused run: the crowd's p95 is what fits the
        # spread's growth, and one run's p95 of 8 pairs × 20 calls moved over 8.6-10.3 ms in four
        # runs back to back (its pooled p95 9.5 ms).
        share = max(20, self.count(WITH_PAUSE) // rounds)
        self.crowd.append(
            least_disturbed(
                lambda: measure_crowd(broker, CROWD_PAIRS, self.pause_ms, share),
                self.steadiness,
                "the crowd",
                say,
            )
        )

    def measured(self, relay: RelayFigures, burst: PairRun) -> Measured:
        """The pooled figures, with the relay's and the calls per second on 8 threads (`burst`)."""
        # Rounds still disturbed after every attempt are left out of each measurement's pool.
        kept = {step: within_gate(done, self.steadiness) for step, done in self.each.items()}
        runs = {step: pooled(k.kept) for step, k in kept.items()}
        crowd = within_gate(self.crowd, self.steadiness)
        p50, p95 = (float(x) for x in np.percentile([x for run in crowd.kept for x in run], [50, 95]))
        left_out = sum(len(k.left_out) for k in kept.values()) + len(crowd.left_out)
        done = [run for rounds in self.each.values() for run in rounds] + self.crowd
        return Measured(
            pairs=[_rounded(run.figures()) for run in runs.values()],
            crowd=CrowdFigures(
                pairs=CROWD_PAIRS, pause_ms=self.pause_ms, p50_ms=round(p50, 4), p95_ms=round(p95, 4)
            ),
            relay=relay,
            calls_per_s_8_threads=round(burst.per_s, 4),
            cast_bytes_on_the_wire=round(runs["cast", 0.0].sent_bytes, 4),
            stolen_share=round(float(np.mean([run.stolen for run in done])), 4) if done else None,
            measured_again=sum(len(run.set_aside) for run in done),
            left_out=left_out,
        )


def _rounded(figures: PairFigures) -> PairFigures:
    cpu = figures.cpu_ms
    return figures.model_copy(
        update={
            "p50_ms": round(figures.p50_ms, 4),
            "p95_ms": round(figures.p95_ms, 4),
            "cpu_ms": ProcessCpu(
                client=round(cpu.client, 4),
                server=round(cpu.server, 4),
                broker=round(cpu.broker, 4),
                relay=round(cpu.relay, 4),
            ),
        }
    )


def measure_burst(broker: RabbitNode, scale: float = 1.0, say: Say = _quiet) -> PairRun:
    """Calls per second of one client with 8 threads calling back to back (2000 calls, times `scale`, at least
    30)."""
    say("calls per second on 8 threads")
    return measure_pair(broker, "call", calls=max(30, round(2000 * scale)), threads=8)


def fitted_calibration(measured: Measured, say: Say = _quiet, messages: int = FIT_MESSAGES) -> Calibration:
    """A calibration of this machine from what was measured on it (`derive`'s `messages`)."""
    cores = os.cpu_count() or 1
    say("fitting the path cost in the simulator")
    return Calibration(
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        host=os.uname().nodename,
        cores=cores,
        measured=measured,
        fitted=derive(measured, cores, say, messages),
    )


def calibrate(
    out: Path,
    *,
    progress: Say | None = None,
    scale: float = 1.0,
    pause_ms: float = PAUSE_MS,
    rounds: int = ROUNDS,
    steadiness: Steadiness = ONCE,
) -> Calibration:
    """Measure, fit and write the calibration file. `scale` < 1 sends fewer messages per run (a
    quicker, noisier calibration: the tests' check that it works on this machine), and the fit
    simulates fewer too (no fewer than `FIT_MESSAGES_MIN`). The measurements are taken in `rounds`
    rounds, each with its share of the messages, and pooled (`Rounds`)."""
    say = progress or _quiet
    relay = measure_relay_figures(scale, say)
    say("starting a RabbitMQ node")
    session = Rounds(rounds, pause_ms, scale, steadiness)
    with RabbitNode(name="wanstack-calibrate") as broker:
        for n in range(rounds):
            session.measure(broker, n, say)
        burst = measure_burst(broker, scale, say)
    messages = max(FIT_MESSAGES_MIN, min(FIT_MESSAGES, round(FIT_MESSAGES * scale)))
    calibration = fitted_calibration(session.measured(relay, burst), say, messages)
    calibration.write(out)
    return calibration


def refit(path: Path) -> Calibration:
    """Derive a calibration file's fitted parameters again from its measured figures, with this
    version of the simulator (a model's change needs no new measurement), and rewrite the file (in
    the current format)."""
    old = load_calibration(path)
    if not isinstance(old, Calibration):
        raise CalibrationError(f"{path}: a control-plane calibration has no bench measurements to refit")
    calibration = old.model_copy(
        update={
            "fitted": derive(old.measured, old.cores),
            "refitted": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    calibration.write(path)
    return calibration


def calibration_file(path: Path | None) -> Path:
    """`path`, or when there is none, a calibration of this machine measured now (the benchmarks'
    `--calibration`, about 6 min) in a temporary folder."""
    if path is not None:
        return path
    measured = Path(tempfile.mkdtemp(prefix="wanstack-calibration-")) / "calibration.yaml"
    calibrate(measured)
    return measured
