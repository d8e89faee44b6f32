"""`wanstack calibrate`: measure this machine's messaging costs and write them where the simulator
reads them.

Measured, with one client behind a 0 ms relay and one server next to the broker (as an edge client
reaches the central broker in the bench's cases):
- the relay's own cost per traversal beyond its configured delay (`relay_probe`);
- calls and casts back to back, and with the test plan's pause between them: their latency, and the
  CPU time per message of each process (client, server, RabbitMQ with its helpers, the relay) from
  the processes' CPU counters;
- calls per second with 8 client threads.
Derived:
- the broker's service time (its CPU per message; one Erlang scheduler per core as workers) and the
  relay's CPU per crossing;
- the library's CPU per message end, and per empty poll of a listener: the CPU per message grows
  with the pause by one poll wake per step of oslo.messaging's poll back-off (`sim.polling`), which
  separates the two;
- the library's cost on a message's path, mean and spread: the values with which the simulator, run
  on the calibration's own set-up, gives the measured p50 and p95 of calls with the pause; and the
  means that give the p50 of casts and of notifications (measured likewise, notifier to listener).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, replace
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
from wanstack.scenario.testplan import MessagingCase, Pattern
from wanstack.sim.params import Params
from wanstack.sim.polling import wakes_within

# Messages per measured run: back to back, and with the pause (CPU counters tick every 10 ms).
BACK_TO_BACK = 1_000
WITH_PAUSE = 200
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
# The pause of the paused runs: long enough for a listener's poll back-off to take several steps,
# which separates the CPU of a poll wake from that of a message (`poll_costs`).
PAUSE_MS = 50.0
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

    @property
    def library(self) -> float:
        return self.client + self.server


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
    return PairRun(
        kind, pause_ms, p50, p95, ms[0], ms[1], ms[2], relay_ms, done / result["elapsed_s"], sent / done
    )


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


def fit_path_cost(
    params: Params, cores: int, paused: PairRun, cv: float | None = None
) -> tuple[float, float]:
    """(mean, CV) of the library's cost per end on a message's path with which the simulator, on the
    calibration's set-up (client at an edge site behind a 0 ms link, broker and server at the centre),
    gives the measured p50 and p95 of the pair's messages (calls, casts or notifications) with the
    pause. The p50 grows with the mean and the p95 with the CV, so alternating bisections find both;
    with `cv` given, only the mean is fitted (one CV for every kind of message)."""

    from wanstack.scenario.load import parse
    from wanstack.sim.cases import simulate_case
    from wanstack.sim.engine import SimOptions

    infra = parse("generate: {kind: star, edges: 1, delay_ms: 0}\n", "calibration.yaml")
    top = infra.placement.top_site
    (edge,) = (s for s in infra.sites if s != top)
    topic = "notifications" if paused.kind == "notify" else "t0"
    pattern = PATTERNS[paused.kind]
    case = MessagingCase(
        "calibration", pattern, (edge,), ((top, topic),), (topic,), 400, 100, paused.pause_ms
    )

    def percentile(mean: float, cv: float, q: float) -> float:
        trial = replace(params, rpc_client_cv=cv, host_cores=cores)
        if paused.kind == "call":
            trial = replace(trial, rpc_client_ms=mean)
        elif paused.kind == "cast":
            trial = replace(trial, cast_client_ms=mean)
        else:
            trial = replace(trial, notify_client_ms=mean)
        return float(np.percentile(simulate_case(infra, case, SimOptions(params=trial)), q))

    def bisect(f: Any, target: float, low: float, high: float) -> float:
        for _ in range(25):
            mid = (low + high) / 2
            low, high = (mid, high) if f(mid) < target else (low, mid)
        return (low + high) / 2

    def fit_mean(cv: float) -> float:
        return bisect(lambda m: percentile(m, cv, 50), paused.p50_ms, 0.0, paused.p50_ms / 2)

    if cv is not None:
        return fit_mean(cv), cv
    mean, cv = paused.p50_ms / 4, 0.0
    for _ in range(3):
        mean = fit_mean(cv)
        cv = bisect(lambda c, mean=mean: percentile(mean, c, 95), paused.p95_ms, 0.0, 3.0)
    return mean, cv


def calibrate(
    out: Path, progress: Any = None, scale: float = 1.0, pause_ms: float = PAUSE_MS
) -> dict[str, Any]:
    """Measure, fit and write the calibration file. `scale` < 1 sends fewer messages per run (a
    quicker, noisier calibration: the tests' check that it works on this machine)."""

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    def count(n: int) -> int:
        return max(30, round(n * scale))

    say("relay overhead")
    relay_0 = measure_relay(0.0, round_trips=count(200), burst=count(20_000))
    relay_far = [measure_relay(d, round_trips=count(200), burst=count(20_000)) for d in (10.0, 25.0)]
    per_traversal = sum(r.added_p50_ms for r in relay_far) / (2 * len(relay_far))
    # At 0 ms a traversal costs the relay's own processing (the simulator's relay station); a delayed
    # one adds how late the relay's timer fires.
    timer_late_ms = max(0.0, per_traversal - relay_0.added_p50_ms / 2)
    say("starting a RabbitMQ node")
    runs: dict[tuple[str, float], PairRun] = {}
    with RabbitNode(name="wanstack-calibrate") as broker:
        for kind in ("call", "cast"):
            for pause in (0.0, pause_ms):
                say(f"{kind}s {'back to back' if not pause else f'{pause:.0f} ms apart'}: latency, CPU")
                calls = WITH_PAUSE if pause else BACK_TO_BACK
                runs[kind, pause] = measure_pair(broker, kind, count(calls), pause)
        say(f"notifications {pause_ms:.0f} ms apart: latency, CPU")
        runs["notify", pause_ms] = measure_pair(broker, "notify", count(WITH_PAUSE), pause_ms)
        say("calls per second on 8 threads")
        burst = measure_pair(broker, "call", calls=count(2000), threads=8)
    quiet = [runs[k, 0.0] for k in ("call", "cast")]
    broker_ms = max(sum(r.broker / CROSSINGS[r.kind] for r in quiet) / 2, 0.01)
    relay_cpu_ms = sum(r.relay / CROSSINGS[r.kind] for r in quiet) / 2
    costs = [poll_costs(runs[k, 0.0], runs[k, pause_ms]) for k in ("call", "cast")]
    end_cpu_ms = sum(c[0] for c in costs) / 2
    wake_cpu_ms = sum(c[1] for c in costs) / 2
    cores = os.cpu_count() or 1
    # What a cast of PAYLOAD bytes puts on the wire beyond its payload: frames and JSON envelope.
    envelope = runs["cast", 0.0].sent_bytes - PAYLOAD
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
    say("fitting the path cost in the simulator")
    client_ms, client_cv = fit_path_cost(params, cores, runs["call", pause_ms])
    # Casts and notifications cost their ends less than calls do (no reply waiter, no RPC dispatcher
    # for a notification): their own means, with the calls' spread.
    params = replace(params, rpc_client_ms=client_ms)
    cast_ms, _ = fit_path_cost(params, cores, runs["cast", pause_ms], client_cv)
    notify_ms, _ = fit_path_cost(params, cores, runs["notify", pause_ms], client_cv)
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
        "broker_cpu_ms_per_message": broker_ms,
        "cast_bytes_on_the_wire": runs["cast", 0.0].sent_bytes,
    }
    document: dict[str, Any] = {
        "written_by": "wanstack calibrate",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": os.uname().nodename,
        "cores": cores,
        "measured": {k: round(v, 4) for k, v in measured.items()},
        "params": {
            "rpc_client_ms": round(client_ms, 4),
            "rpc_client_cpu_ms": round(max(end_cpu_ms, client_ms), 4),
            "cast_client_ms": round(cast_ms, 4),
            "notify_client_ms": round(notify_ms, 4),
            "rpc_client_cv": round(client_cv, 4),
            "relay_cpu_ms": round(relay_cpu_ms, 4),
            "poll_wake_cpu_ms": round(wake_cpu_ms, 4),
            "wan_overhead_ms": round(timer_late_ms, 4),
            "rpc_envelope_bytes": round(envelope),
            # The bench's one RabbitMQ carries RPC and notifications alike.
            "stations": {kind: {"workers": cores, "service_ms": round(broker_ms, 4)} for kind in BROKERS},
        },
    }
    out.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return document


def calibration_file(path: Path | None) -> Path:
    """`path`, or when there is none, a calibration of this machine measured now (the benchmarks'
    `--calibration`, about 1 min) in a temporary folder."""
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
    )
    sizes = {k: StationSize(**v) for k, v in values.get("stations", {}).items()}
    return params.with_overrides(sizes)


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
