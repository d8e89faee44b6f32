"""`wanstack calibrate`: measure this machine's messaging costs and write them where the simulator
reads them.

Measured, with one client behind a 0 ms relay and one server next to the broker (as an edge client
reaches the central broker in the bench's cases):
- the relay's own cost per traversal beyond its configured delay (`relay_probe`);
- calls and casts back to back, and with the test plan's pause between them (calls also 20 ms apart):
  their latency, and the CPU time per message of each process (client, server, RabbitMQ with its
  helpers, the relay) from the processes' CPU counters;
- calls with the pause from several client/server pairs at once: their latency;
- calls per second with 8 client threads.
Derived:
- the broker's service time (its CPU per message; one Erlang scheduler per core as workers) and the
  relay's CPU per crossing;
- the library's CPU per message end, and per empty poll of a listener: the CPU per message grows
  with the pause by one poll wake per step of oslo.messaging's poll back-off (`sim.polling`), which
  separates the two;
- the library's cost on a message's path, mean and spread: the values with which the simulator, run
  on the calibration's own set-up, gives the measured p50 and p95 of calls with the pause; how that
  cost shrinks when a process is kept busy (`Params.end_warmth`: the factors with which the simulator
  gives the p50 of calls back to back and 20 ms apart); how it grows with others' work
  (`Params.end_crowding`: the factor that gives the p50 of the pairs calling at once); and the means
  that give the p50 of casts and of notifications (measured likewise, notifier to listener).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from wanstack.bench.controller import RoleProcess
from wanstack.bench.procstat import session_cpu_s
from wanstack.bench.rabbit import RabbitNode
from wanstack.bench.relay import DelayRelay, LinkShape
from wanstack.bench.relay_probe import measure as measure_relay
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.load import parse
from wanstack.scenario.testplan import DEFAULT_PAUSE_MS, MessagingCase, Pattern
from wanstack.sim.cases import simulate_case
from wanstack.sim.engine import SimOptions
from wanstack.sim.params import Params
from wanstack.sim.polling import wakes_within

# Messages per measured run: back to back, and with the pause (CPU counters tick every 10 ms; the
# paused runs' p95 fits the spread of a library end's cost, so they get some hundreds).
BACK_TO_BACK = 1_000
WITH_PAUSE = 300
ROUNDS = 2  # each measurement split over this many rounds (`calibrate`)
LISTENERS = {"call": 2, "cast": 1}  # the server's listener, and a caller's reply waiter
ENDS = {"call": 4, "cast": 2}  # library ends per call or cast: each message is sent and received
CROSSINGS = {"call": 2, "cast": 1, "notify": 1}  # relay traversals per call, cast or notification
# The roles of a calibration pair, (client, server), and the case pattern the simulator fits with.
PAIR_ROLES = {
    "call": ("rpc-client", "rpc-server"),
    "cast": ("rpc-client", "rpc-server"),
    "notify": ("notifier", "listener"),
}
BROKERS = ("rpc-broker", "notification-broker")
PATTERNS = {"call": Pattern.CALL, "cast": Pattern.CAST, "notify": Pattern.NOTIFY}
PLURAL = {"call": "calls", "cast": "casts", "notify": "notifications"}  # for progress lines
# The pause of the paused runs: the test plan's (`scenario.testplan.DEFAULT_PAUSE_MS`), long enough
# for a listener's poll back-off to take several steps, which separates the CPU of a poll wake from
# that of a message (`poll_costs`).
PAUSE_MS = DEFAULT_PAUSE_MS
# Calls this far apart too: a process's cost per message grows with its idle time and has mostly
# grown by 20 ms (benchmarks/warmth.py); it is also how often tc1's one server hears from ten clients
# 200 ms apart. The warmth curve gets a point here, at 0 and at the pause.
WARM_PAUSE_MS = 20.0
# Client/server pairs calling at once (each client at an edge site of its own, the pause apart), for
# how a process's cost grows with the work of others (`Params.end_crowding`): eight, fewer than the
# default scenario's ten edges, so that its tc2 stays a prediction.
CROWD_PAIRS = 8
# Other processes' message ends that a lone pair's idle end sees (its partner's two), and that one of
# the crowd's sees: each other pair's call (four ends) within its pause.
ALONE_ENDS = 2
PAYLOAD = 100  # bytes per message (the roles' default), as in the test plan's cases


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
    session = broker.pids()[0] if broker.pids() else 0
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


def poll_costs(back_to_back: PairRun, paused: PairRun) -> tuple[float, float]:
    """(library CPU per message end, CPU per empty poll) from one kind's runs without and with the
    pause: library CPU per message = ends × end + listeners × wakes(gap) × wake, where the gap between
    two messages at a listener is the pause plus the latency."""
    kind = paused.kind
    n0 = wakes_within(back_to_back.pause_ms + back_to_back.p50_ms)
    n1 = wakes_within(paused.pause_ms + paused.p50_ms)
    wake = max(0.0, (paused.library - back_to_back.library) / (LISTENERS[kind] * max(1, n1 - n0)))
    end = max(0.0, (back_to_back.library - LISTENERS[kind] * n0 * wake) / ENDS[kind])
    return end, wake


def star_case(kind: str, pairs: int, pause_ms: float, messages: int) -> tuple[Infrastructure, MessagingCase]:
    """The calibration's set-up: `pairs` clients at edge sites behind 0 ms links, each sending to a
    server of its own at the centre, next to the broker, `pause_ms` apart (calls, casts or
    notifications; several pairs: the default test plan's tc2 on a smaller star)."""

    infra = parse(f"generate: {{kind: star, edges: {pairs}, delay_ms: 0}}\n", "calibration.yaml")
    top = infra.placement.top_site
    edges = tuple(s for s in infra.sites if s != top)
    topics = ("notifications",) if kind == "notify" else tuple(f"t{i}" for i in range(pairs))
    servers = tuple((top, topic) for topic in topics)
    clients = topics * pairs if kind == "notify" else topics
    name = "calibration" if pairs == 1 else "crowd"  # it seeds the clients' start offsets
    case = MessagingCase(name, PATTERNS[kind], edges, servers, clients, messages, PAYLOAD, pause_ms)
    return infra, case


def simulated_pair(params: Params, kind: str, pause_ms: float, messages: int = 400) -> list[float]:
    """Latencies (ms) of one pair of the calibration's set-up (`star_case`) in the simulator."""
    infra, case = star_case(kind, 1, pause_ms, messages)
    return simulate_case(infra, case, SimOptions(params=params))


def measure_crowd(broker: RabbitNode, pairs: int, pause_ms: float, messages: int) -> list[float]:
    """The calls' latencies of `pairs` pairs of the calibration's set-up (`star_case`) on the bench."""

    from wanstack.bench.cases import Bus, run_case

    infra, case = star_case("call", pairs, pause_ms, messages)
    top = infra.placement.top_site
    edges = {s: 0.0 for s in infra.sites if s != top}
    return run_case(Bus.single(broker, top, edges), case).latencies_ms


def fit_crowding(
    params: Params, cores: int, pairs: int, pause_ms: float, p50_ms: float, p95_ms: float | None = None
) -> Params:
    """`params` with the crowding curves' values at the crowd's ends fitted: the factor of a server's
    mean with which the simulator gives the crowd's measured p50 (`measure_crowd`) and, with the p95,
    the factor of every end's spread (alternating bisections, as `fit_path_cost`); 1 for a lone
    pair's, flat beyond."""

    infra, case = star_case("call", pairs, pause_ms, 100)
    crowd = float(ALONE_ENDS + 4 * (pairs - 1))

    def curves(factor: float, spread: float) -> Params:
        return replace(
            params,
            end_crowding=((float(ALONE_ENDS), 1.0), (crowd, factor)),
            end_crowding_spread=((float(ALONE_ENDS), 1.0), (crowd, spread)) if p95_ms is not None else (),
        )

    def percentile(factor: float, spread: float, q: float) -> float:
        trial = replace(curves(factor, spread), host_cores=cores)
        return float(np.percentile(simulate_case(infra, case, SimOptions(params=trial)), q))

    factor, spread = 1.0, 1.0
    for _ in range(3 if p95_ms is not None else 1):
        factor = _bisect(lambda f, s=spread: percentile(f, s, 50), p50_ms, 0.0, 4.0)
        if p95_ms is not None:
            spread = _bisect(lambda s, f=factor: percentile(f, s, 95), p95_ms, 0.0, 6.0)
    return curves(factor, spread)


def _bisect(f: Any, target: float, low: float, high: float) -> float:
    """x in [low, high] where the increasing `f` meets `target` (an end of the range if it does not)."""
    for _ in range(16):  # 2^-16 of the range: far below what the bench can tell apart
        mid = (low + high) / 2
        low, high = (mid, high) if f(mid) < target else (low, mid)
    return (low + high) / 2


def fit_path_cost(
    params: Params, cores: int, paused: PairRun, cv: float | None = None
) -> tuple[float, float]:
    """(mean, CV) of the library's cost per end on a message's path with which the simulator, on the
    calibration's set-up (`simulated_pair`), gives the measured p50 and p95 of the pair's messages
    (calls, casts or notifications) with the pause. The p50 grows with the mean and the p95 with the
    CV, so alternating bisections find both; with `cv` given, only the mean is fitted (one CV for
    every kind of message). `params.end_warmth` stays as it is: the mean is that of a process idle
    for the pause or longer."""

    def percentile(mean: float, cv: float, q: float) -> float:
        trial = replace(params, rpc_client_cv=cv, host_cores=cores)
        if paused.kind == "call":
            trial = replace(trial, rpc_client_ms=mean)
        elif paused.kind == "cast":
            trial = replace(trial, cast_client_ms=mean)
        else:
            trial = replace(trial, notify_client_ms=mean)
        return float(np.percentile(simulated_pair(trial, paused.kind, paused.pause_ms), q))

    def fit_mean(cv: float) -> float:
        return _bisect(lambda m: percentile(m, cv, 50), paused.p50_ms, 0.0, paused.p50_ms)

    if cv is not None:
        return fit_mean(cv), cv
    mean, cv = paused.p50_ms / 4, 0.0
    for _ in range(3):
        mean = fit_mean(cv)
        cv = _bisect(lambda c, mean=mean: percentile(mean, c, 95), paused.p95_ms, 0.0, 3.0)
    return mean, cv


def fit_calls(params: Params, cores: int, calls: list[PairRun]) -> Params:
    """`params` with the calls' path cost fitted: its mean and spread for a process idle for the
    longest pause (the last run), and the warmth curve's factor at each shorter pause, each giving the
    measured p50 of calls that far apart. The factors and the mean move each other (a paused call
    has warm ends too: the server's reply, the caller's reply waiter), hence the rounds."""

    *warm, cold = sorted(calls, key=lambda r: r.pause_ms)
    points = [[r.pause_ms, 1.0] for r in warm] + [[cold.pause_ms, 1.0]]

    def with_points() -> Params:
        return replace(params, end_warmth=tuple((x, f) for x, f in points), host_cores=cores)

    def p50(factor: float, i: int) -> float:
        points[i][1] = factor
        latencies = simulated_pair(with_points(), "call", warm[i].pause_ms)
        return float(np.percentile(latencies, 50))

    for _ in range(2):
        mean, cv = fit_path_cost(with_points(), cores, cold)
        params = replace(params, rpc_client_ms=mean, rpc_client_cv=cv)
        for i, run in enumerate(warm):
            points[i][1] = _bisect(lambda f, i=i: p50(f, i), run.p50_ms, 0.0, 2.0)
    return replace(with_points(), host_cores=params.host_cores)


def calibrate(
    out: Path,
    progress: Any = None,
    scale: float = 1.0,
    pause_ms: float = PAUSE_MS,
    rounds: int = ROUNDS,
    between_rounds: Callable[[RabbitNode, int], None] | None = None,
) -> dict[str, Any]:
    """Measure, fit and write the calibration file. `scale` < 1 sends fewer messages per run (a
    quicker, noisier calibration: the tests' check that it works on this machine). The measurements
    are taken in `rounds` rounds, each with its share of the messages, and pooled.

    `between_rounds(broker, n)` runs after round n on the calibration's broker: other measurements
    that must see the machine as the calibration saw it (`benchmarks/sim_vs_bench.py` runs the bench's
    cases there, so that a drift of this machine over minutes falls on both alike)."""

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    def count(n: int) -> int:
        return max(30, round(n * scale))

    say("relay overhead")
    relay_0 = measure_relay(0.0, round_trips=count(200), burst=count(20_000))
    relay_far = [measure_relay(d, round_trips=count(200), burst=count(20_000)) for d in (10.0, 25.0)]
    per_traversal = sum(r.added_p50_ms for r in relay_far) / (2 * len(relay_far))
    say("starting a RabbitMQ node")
    call_pauses = (0.0, WARM_PAUSE_MS, pause_ms) if pause_ms > WARM_PAUSE_MS else (0.0, pause_ms)
    plan = [("call", pause) for pause in call_pauses] + [
        ("cast", 0.0),
        ("cast", pause_ms),
        ("notify", pause_ms),
    ]
    each: dict[tuple[str, float], list[PairRun]] = {step: [] for step in plan}
    crowd: list[float] = []
    with RabbitNode(name="wanstack-calibrate") as broker:
        # Rounds over every measurement rather than one measurement's runs back to back: this machine
        # drifts by 10-20 % over minutes (other tenants), and the fits compare the runs with each other.
        for n in range(rounds):
            for kind, pause in plan:
                how = "back to back" if not pause else f"{pause:.0f} ms apart"
                say(f"round {n + 1}/{rounds}: {PLURAL[kind]} {how}: latency, CPU")
                # As many as back to back when the pause is short: the run still takes seconds.
                calls = WITH_PAUSE if pause > WARM_PAUSE_MS else BACK_TO_BACK // 2 if pause else BACK_TO_BACK
                each[kind, pause].append(measure_pair(broker, kind, max(20, count(calls) // rounds), pause))
            say(f"round {n + 1}/{rounds}: {CROWD_PAIRS} pairs calling at once, {pause_ms:.0f} ms apart")
            # As many calls per pair as a lone pair's paused run: the crowd's p95 is what fits the
            # spread's growth, and one run's p95 of 8 pairs × 20 calls moved over 8.6-10.3 ms in four
            # runs back to back (its pooled p95 9.5 ms).
            share = max(20, count(WITH_PAUSE) // rounds)
            crowd += measure_crowd(broker, CROWD_PAIRS, pause_ms, share)
            if between_rounds is not None:
                between_rounds(broker, n)
        say("calls per second on 8 threads")
        burst = measure_pair(broker, "call", calls=count(2000), threads=8)
    runs = {step: pooled(done) for step, done in each.items()}
    measured: dict[str, float] = {}
    for (kind, pause), run in runs.items():
        label = f"{kind}_{pause:.0f}ms_pause"
        measured |= {f"{label}_p50_ms": run.p50_ms, f"{label}_p95_ms": run.p95_ms}
        measured |= {
            f"{label}_cpu_ms_{who}": getattr(run, who) for who in ("client", "server", "broker", "relay")
        }
    measured |= {
        "relay_added_per_traversal_ms": per_traversal,
        "relay_added_per_traversal_ms_at_0ms": relay_0.added_p50_ms / 2,
        "relay_messages_per_s": relay_0.messages_per_s,
        "calls_per_s_8_threads": burst.per_s,
        f"call_{pause_ms:.0f}ms_pause_{CROWD_PAIRS}_pairs_p50_ms": float(np.percentile(crowd, 50)),
        f"call_{pause_ms:.0f}ms_pause_{CROWD_PAIRS}_pairs_p95_ms": float(np.percentile(crowd, 95)),
        "cast_bytes_on_the_wire": runs["cast", 0.0].sent_bytes,
    }
    cores = os.cpu_count() or 1
    say("fitting the path cost in the simulator")
    document: dict[str, Any] = {
        "written_by": "wanstack calibrate",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": os.uname().nodename,
        "cores": cores,
        "measured": {k: round(v, 4) for k, v in measured.items()},
    }
    document["params"] = derive(document["measured"], cores)
    out.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return document


def refit(path: Path) -> dict[str, Any]:
    """Derive a calibration file's `params:` again from its `measured:` figures, with this version of
    the simulator (a model's change needs no new measurement), and rewrite the file."""
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["params"] = derive(document["measured"], int(document.get("cores") or 1))
    document["refitted"] = datetime.now(UTC).isoformat(timespec="seconds")
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return document


def derive(measured: dict[str, float], cores: int) -> dict[str, Any]:
    """The simulator's parameters from the measured figures (`calibrate`'s `measured:` block)."""

    def run(kind: str, pause: float) -> PairRun:
        label = f"{kind}_{pause:.0f}ms_pause"
        client, server, broker, relay = (
            measured[f"{label}_cpu_ms_{who}"] for who in ("client", "server", "broker", "relay")
        )
        p50, p95 = measured[f"{label}_p50_ms"], measured[f"{label}_p95_ms"]
        return PairRun(kind, pause, p50, p95, client, server, broker, relay, per_s=0.0)

    paused = {
        (key.split("_")[0], float(key.split("_")[1].removesuffix("ms")))
        for key in measured
        if key.endswith("ms_pause_p50_ms")
    }
    (pause_ms,) = {pause for kind, pause in paused if kind == "notify"}
    runs = {step: run(*step) for step in paused}
    call_pauses = sorted(pause for kind, pause in paused if kind == "call")
    quiet = [runs[k, 0.0] for k in ("call", "cast")]
    broker_ms = max(sum(r.broker / CROSSINGS[r.kind] for r in quiet) / 2, 0.01)
    relay_cpu_ms = sum(r.relay / CROSSINGS[r.kind] for r in quiet) / 2
    costs = [poll_costs(runs[k, 0.0], runs[k, pause_ms]) for k in ("call", "cast")]
    end_cpu_ms = sum(c[0] for c in costs) / 2
    wake_cpu_ms = sum(c[1] for c in costs) / 2
    # At 0 ms a traversal costs the relay's own processing (the simulator's relay station); a delayed
    # one adds how late the relay's timer fires.
    at_0 = measured["relay_added_per_traversal_ms_at_0ms"]
    timer_late_ms = max(0.0, measured["relay_added_per_traversal_ms"] - at_0)
    # What a cast of PAYLOAD bytes puts on the wire beyond its payload: frames and JSON envelope.
    envelope = measured["cast_bytes_on_the_wire"] - PAYLOAD
    params = load_values(
        Params(),
        {
            "rpc_client_ms": 0.0,
            "rpc_client_cpu_ms": end_cpu_ms,
            "relay_cpu_ms": relay_cpu_ms,
            "poll_wake_cpu_ms": wake_cpu_ms,
            "wan_overhead_ms": timer_late_ms,
            "stations": {kind: {"workers": cores, "service_ms": broker_ms} for kind in BROKERS},
        },
    )
    params = fit_calls(params, cores, [runs["call", pause] for pause in call_pauses])
    client_ms, client_cv = params.rpc_client_ms, params.rpc_client_cv
    # Casts and notifications cost their ends otherwise than calls do (no reply waiter, no RPC
    # dispatcher for a notification): their own means, with the calls' spread and warmth.
    cast_ms, _ = fit_path_cost(params, cores, runs["cast", pause_ms], client_cv)
    notify_ms, _ = fit_path_cost(params, cores, runs["notify", pause_ms], client_cv)
    crowd = f"call_{pause_ms:.0f}ms_pause_{CROWD_PAIRS}_pairs"
    if f"{crowd}_p50_ms" in measured:
        p95 = measured.get(f"{crowd}_p95_ms")  # not in files of 2026-11-25 before 03:00
        params = fit_crowding(params, cores, CROWD_PAIRS, pause_ms, measured[f"{crowd}_p50_ms"], p95)
    return {
        "rpc_client_ms": round(client_ms, 4),
        "rpc_client_cpu_ms": round(max(end_cpu_ms, client_ms), 4),
        "cast_client_ms": round(cast_ms, 4),
        "notify_client_ms": round(notify_ms, 4),
        "rpc_client_cv": round(client_cv, 4),
        "end_warmth": [[x, round(f, 4)] for x, f in params.end_warmth],
        "end_crowding": [[x, round(f, 4)] for x, f in params.end_crowding],
        "end_crowding_spread": [[x, round(f, 4)] for x, f in params.end_crowding_spread],
        "relay_cpu_ms": round(relay_cpu_ms, 4),
        "poll_wake_cpu_ms": round(wake_cpu_ms, 4),
        "wan_overhead_ms": round(timer_late_ms, 4),
        "rpc_envelope_bytes": round(envelope),
        # The bench's one RabbitMQ carries RPC and notifications alike.
        "stations": {kind: {"workers": cores, "service_ms": round(broker_ms, 4)} for kind in BROKERS},
    }


def calibration_file(path: Path | None) -> Path:
    """`path`, or when there is none, a calibration of this machine measured now (the benchmarks'
    `--calibration`, about 6 min) in a temporary folder."""
    if path is not None:
        return path
    measured = Path(tempfile.mkdtemp(prefix="wanstack-calibration-")) / "calibration.yaml"
    calibrate(measured)
    return measured


def load_calibration(path: Path, base: Params | None = None, bench_host: bool = False) -> Params:
    """Simulator parameters with a calibration file's measured values applied. `bench_host`: also
    share the calibrated machine's cores among all processes, to predict the bench itself."""

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    params = load_values(base or Params(), data["params"])
    return replace(params, host_cores=int(data.get("cores") or 1) if bench_host else None)


def load_values(params: Params, values: dict[str, Any]) -> Params:
    """`params` with a calibration's `params:` block applied."""

    from wanstack.scenario.schema import StationSize

    params = replace(
        params,
        rpc_client_ms=float(values["rpc_client_ms"]),
        cast_client_ms=_optional(values.get("cast_client_ms")),
        notify_client_ms=_optional(values.get("notify_client_ms")),
        rpc_client_cpu_ms=_optional(values.get("rpc_client_cpu_ms")),
        relay_cpu_ms=float(values.get("relay_cpu_ms", 0.0)),
        poll_wake_cpu_ms=float(values.get("poll_wake_cpu_ms", 0.0)),
        rpc_client_cv=float(values.get("rpc_client_cv", 0.0)),
        wan_overhead_ms=float(values.get("wan_overhead_ms", 0.0)),
        rpc_envelope_bytes=int(values.get("rpc_envelope_bytes", params.rpc_envelope_bytes)),
        end_warmth=tuple((float(x), float(f)) for x, f in values.get("end_warmth", ())),
        end_crowding=tuple((float(x), float(f)) for x, f in values.get("end_crowding", ())),
        end_crowding_spread=tuple((float(x), float(f)) for x, f in values.get("end_crowding_spread", ())),
    )
    sizes = {k: StationSize(**v) for k, v in values.get("stations", {}).items()}
    return params.with_overrides(sizes)


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
