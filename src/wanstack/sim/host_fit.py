"""The bench-host model's fit (beside `sim/host/`, the model it fits: the fit runs the engine, which runs
the model, so it sits one floor above both): the simulator's parameters for this repository's own
bench, derived from what `wanstack calibrate` measured on its machine (`bench.calibrate`; a calibration
file's `measured` block), by simulating the calibration's own set-up (`star_case`) until it gives the
measured figures.

Derived:
- the broker's service time (its CPU per message; one Erlang scheduler per core as workers) and the
  relay's CPU per crossing;
- the library's CPU per message end, and per empty poll of a listener: the CPU per message grows
  with the pause by one poll wake per step of oslo.messaging's poll back-off (`sim.host.polling`),
  which separates the two;
- the library's cost on a message's path, mean and spread: the values with which the simulator, run
  on the calibration's own set-up, gives the measured p50 and p95 of calls with the pause; how that
  cost shrinks when the processes a message wakes were kept busy (`BenchHost.end_warmth`: the factors
  with which the simulator gives the p50 of calls back to back, and of every kind 20 ms apart at
  once); how it grows with others' work (`BenchHost.end_crowding`: the factor that gives the p50 of
  the pairs calling at once); and the means that give the p50 of casts and of notifications with
  the pause (measured likewise, notifier to listener).

`derive` is the whole fit; `star_case`, `simulated_pair` and `Trial` are the simulations it runs,
for the tests and benchmarks that check it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from wanstack.scenario.build import Infrastructure
from wanstack.scenario.load import parse
from wanstack.scenario.testplan import MessagingCase, Pattern
from wanstack.sim.calibration import CrowdFigures, Fitted, HostFit, Measured, MessagingCosts, PairFigures
from wanstack.sim.cases import simulate_case
from wanstack.sim.engine import SimOptions
from wanstack.sim.host.params import HOST_MODEL, BenchHost
from wanstack.sim.host.polling import wakes_within
from wanstack.sim.params import Params

LISTENERS = {"call": 2, "cast": 1}  # the server's listener, and a caller's reply waiter
ENDS = {"call": 4, "cast": 2}  # library ends per call or cast: each message is sent and received
CROSSINGS = {"call": 2, "cast": 1, "notify": 1}  # relay traversals per call, cast or notification
# The case pattern the simulator fits each kind of measured pair with.
PATTERNS = {"call": Pattern.CALL, "cast": Pattern.CAST, "notify": Pattern.NOTIFY}
# Message ends handled since a lone pair's receiving end last received (`sim.host.chains`: its own
# send of the reply or the request, and its partner's two), and beyond those what one of the crowd's
# sees: each other pair's call (four ends) within its pause.
ALONE_ENDS = 3
PAYLOAD = 100  # bytes per message (the roles' default), as in the test plan's cases


def poll_costs(back_to_back: PairFigures, paused: PairFigures) -> tuple[float, float]:
    """(library CPU per message end, CPU per empty poll) from one kind's runs without and with the
    pause: library CPU per message = ends × end + listeners × wakes(gap) × wake, where the gap between
    two messages at a listener is the pause plus the latency."""
    kind = paused.kind
    n0 = wakes_within(back_to_back.pause_ms + back_to_back.p50_ms)
    n1 = wakes_within(paused.pause_ms + paused.p50_ms)
    wake = max(
        0.0, (paused.cpu_ms.library - back_to_back.cpu_ms.library) / (LISTENERS[kind] * max(1, n1 - n0))
    )
    end = max(0.0, (back_to_back.cpu_ms.library - LISTENERS[kind] * n0 * wake) / ENDS[kind])
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


# Messages each simulated pair of a fit sends (every stored calibration was fitted with 400). A
# quicker calibration (`calibrate`'s scale < 1, which measures fewer) simulates fewer in proportion,
# down to FIT_MESSAGES_MIN: a p95 of 100 messages is their fifth-largest, noisier but still a p95.
FIT_MESSAGES = 400
FIT_MESSAGES_MIN = 100


@dataclass(frozen=True)
class Trial:
    """What the fits vary: the simulator's parameters and the bench host's, together; and how many
    messages each simulated pair sends (`FIT_MESSAGES`, fewer for a quicker calibration)."""

    params: Params
    host: BenchHost
    messages: int = FIT_MESSAGES

    def options(self) -> SimOptions:
        """The simulator's options for this trial."""
        return SimOptions(params=self.params, host=self.host)

    def with_params(self, **changes: Any) -> Trial:
        """This trial with `changes` to the simulator's parameters (`Params` fields)."""
        return Trial(replace(self.params, **changes), self.host, self.messages)

    def with_host(self, **changes: Any) -> Trial:
        """This trial with `changes` to the bench host's (`BenchHost` fields)."""
        return Trial(self.params, replace(self.host, **changes), self.messages)


def simulated_pair(trial: Trial, kind: str, pause_ms: float) -> list[float]:
    """Latencies (ms) of one pair of the calibration's set-up (`star_case`) in the simulator."""
    infra, case = star_case(kind, 1, pause_ms, trial.messages)
    return simulate_case(infra, case, trial.options())


# The crowding fits' ranges: a factor of a server's mean and of every end's spread. A fit that ends at
# a range's top could not give the crowd's figures at all (`derive` says so).
CROWDING_MAX = 4.0
CROWDING_SPREAD_MAX = 6.0
# The top of the CV fit's range for a lone pair's ends (`fit_path_cost`).
END_CV_MAX = 3.0


def fit_crowding(trial: Trial, crowd: CrowdFigures) -> Trial:
    """`trial` with the crowding curves' values at the crowd's ends fitted: the factor of a server's
    mean with which the simulator gives the crowd's measured p50 (`bench.calibrate.measure_crowd`)
    and, with the p95, the factor of every end's spread (fitted in turn, as `fit_path_cost`); 1 for
    a lone pair's, flat beyond."""

    # A quarter of a pair's messages per client (eight clients: twice as many as a pair in all).
    infra, case = star_case("call", crowd.pairs, crowd.pause_ms, max(1, trial.messages // 4))
    ends = float(ALONE_ENDS + 4 * (crowd.pairs - 1))
    p95_ms = crowd.p95_ms

    def curves(factor: float, spread: float) -> Trial:
        return trial.with_host(
            end_crowding=((float(ALONE_ENDS), 1.0), (ends, factor)),
            end_crowding_spread=((float(ALONE_ENDS), 1.0), (ends, spread)) if p95_ms is not None else (),
        )

    def percentile(factor: float, spread: float, q: float) -> float:
        return float(np.percentile(simulate_case(infra, case, curves(factor, spread).options()), q))

    def fit_factor(spread: float) -> float:
        return _solve(lambda factor: percentile(factor, spread, 50), crowd.p50_ms, 0.0, CROWDING_MAX)

    if p95_ms is None:
        return curves(fit_factor(1.0), 1.0)

    def fit_spread(factor: float) -> float:
        return _solve(lambda spread: percentile(factor, spread, 95), p95_ms, 0.0, CROWDING_SPREAD_MAX)

    factor, spread = _in_turn(fit_factor, fit_spread, 1.0)
    return curves(factor, spread)


# How close a fitted figure comes to its measured one: 0.3 %, far below what the bench can tell apart
# (its own run-to-run spread is a few per cent, docs/validation.md); and, should the simulated curve
# be a staircase that never comes that close, 2^-16 of the range.
CLOSE_ENOUGH = 3e-3
NARROW_ENOUGH = 2.0**-16
# Two fits that move each other (a mean and a spread) are taken in turn until the spread moves by
# less than 1 % in a round (3 rounds at most): a CV 1 % off moves a p95 by a fraction of that.
SETTLED = 0.01


def _in_turn(
    fit_level: Callable[[float], float], fit_spread: Callable[[float], float], spread: float
) -> tuple[float, float]:
    """(level, spread) fitted in turn — the level (a mean, a factor: it sets the p50) for the spread,
    the spread (it sets the p95) for the level — until the spread settles (`SETTLED`, 3 rounds at
    most); the level last, since the spread moves the p50 too."""
    level = fit_level(spread)
    for _ in range(3):
        moved = spread
        spread = fit_spread(level)
        level = fit_level(spread)
        if abs(spread - moved) <= SETTLED * moved:
            break
    return level, spread


def _solve(f: Callable[[float], float], target: float, low: float, high: float) -> float:
    """x in [low, high] where the increasing `f` meets `target` (an end of the range if it does not).

    Regula falsi, Illinois variant: the root stays bracketed as in a bisection, but each step aims
    where the line through the bracket's ends meets the target, and an end kept twice has its value
    halved so that the bracket shrinks from both sides. The simulator's percentiles are nearly linear
    in each fitted cost, if in small steps: a solve takes 3-20 simulations (its ends included) where
    a bisection took 16 and always 16; with `SETTLED`, the stored calibration's whole fit runs 371
    simulations instead of 680 (23 s instead of 49 s on 2026-12-03's machine)."""
    width = (high - low) * NARROW_ENOUGH
    below, above = f(low) - target, f(high) - target
    if below >= 0:
        return low
    if above <= 0:
        return high
    kept = 0  # which end the last step kept: -1 the low one, +1 the high one
    x = low
    for _ in range(64):  # a guard: the bracket is narrow enough long before
        if high - low <= width:
            break
        x = (low * above - high * below) / (above - below)
        error = f(x) - target
        if abs(error) <= CLOSE_ENOUGH * abs(target):
            return x
        if error < 0:
            low, below = x, error
            if kept == 1:
                above /= 2
            kept = 1
        else:
            high, above = x, error
            if kept == -1:
                below /= 2
            kept = -1
    return x


# Which cost of `Params` a kind of message's ends have.
END_COST = {"call": "rpc_client_ms", "cast": "cast_client_ms", "notify": "notify_client_ms"}


def fit_path_cost(trial: Trial, paused: PairFigures, cv: float | None = None) -> tuple[float, float]:
    """(mean, CV) of the library's cost per end on a message's path with which the simulator, on the
    calibration's set-up (`simulated_pair`), gives the measured p50 and p95 of the pair's messages
    (calls, casts or notifications) with the pause. The p50 grows with the mean and the p95 with the
    CV, so fitting each in turn finds both; with `cv` given, only the mean is fitted (one CV for
    every kind of message). The host's warmth curve stays as it is: the mean is that of a process
    idle for the pause or longer."""

    def percentile(mean: float, cv: float, q: float) -> float:
        attempt = trial.with_host(end_cv=cv).with_params(**{END_COST[paused.kind]: mean})
        return float(np.percentile(simulated_pair(attempt, paused.kind, paused.pause_ms), q))

    def fit_mean(cv: float) -> float:
        return _solve(lambda m: percentile(m, cv, 50), paused.p50_ms, 0.0, paused.p50_ms)

    def fit_cv(mean: float) -> float:
        return _solve(lambda cv: percentile(mean, cv, 95), paused.p95_ms, 0.0, END_CV_MAX)

    if cv is not None:
        return fit_mean(cv), cv
    return _in_turn(fit_mean, fit_cv, 0.0)


def fit_warmth(trial: Trial, runs: Mapping[tuple[str, float], PairFigures], pause_ms: float) -> Trial:
    """`trial` with the path costs and the warmth curve fitted: each kind's mean (and the calls'
    spread) for a process idle for the pause, and the curve's factor at each shorter pause — at
    20 ms the one with which the simulator gives the measured p50 of calls, casts and notifications
    that far apart at once (least squares of their log errors: one curve for every kind, so a fit
    to one machine's calls alone cannot bend it), at 0 ms that of calls back to back (casts back to
    back queue behind their receiver and time the queue). The factors and the means move each other
    (a paused call has warm ends too: the replying server's send), hence the rounds."""

    warm = sorted(p for k, p in runs if k == "call" and p < pause_ms)
    points = dict.fromkeys([*warm, pause_ms], 1.0)
    others = [k for k in ("cast", "notify") if (k, pause_ms) in runs]

    def with_points(t: Trial) -> Trial:
        return t.with_host(end_warmth=tuple(sorted(points.items())))

    def log_error(factor: float, pause: float, kinds: list[str]) -> float:
        points[pause] = factor
        attempt = with_points(trial)
        return sum(
            float(np.log(np.percentile(simulated_pair(attempt, k, pause), 50) / runs[k, pause].p50_ms)) ** 2
            for k in kinds
        )

    def fit_means(trial: Trial) -> Trial:
        mean, cv = fit_path_cost(with_points(trial), runs["call", pause_ms])
        trial = trial.with_params(rpc_client_ms=mean).with_host(end_cv=cv)
        for kind in others:
            kind_ms, _ = fit_path_cost(with_points(trial), runs[kind, pause_ms], cv)
            trial = trial.with_params(**{END_COST[kind]: kind_ms})
        return trial

    for _ in range(2):
        trial = fit_means(trial)
        for pause in warm:
            kinds = ["call"] + [k for k in others if pause and (k, pause) in runs]
            points[pause] = _minimise(lambda f, p=pause, ks=kinds: log_error(f, p, ks), 0.0, 2.0)
    # Last the means, so that each kind's figures with the pause — its own measurement — hold.
    return with_points(fit_means(trial))


def _minimise(f: Any, low: float, high: float) -> float:
    """x in [low, high] where the unimodal `f` is least (golden-section search, to `CLOSE_ENOUGH` of
    the range: a warmth factor to 0.002, which moves a p50 by far less than the bench can tell)."""
    ratio = (5**0.5 - 1) / 2
    width = (high - low) * CLOSE_ENOUGH
    a, b = low + (1 - ratio) * (high - low), low + ratio * (high - low)
    fa, fb = f(a), f(b)
    while high - low > width:
        if fa <= fb:
            high, b, fb = b, a, fa
            a = low + (1 - ratio) * (high - low)
            fa = f(a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = f(b)
    return (low + high) / 2


def derive(
    measured: Measured, cores: int, say: Callable[[str], None] | None = None, messages: int = FIT_MESSAGES
) -> Fitted:
    """The simulator's parameters from the measured figures (a calibration's `measured` block), each
    simulated pair sending `messages`. A fit that ends at the edge of its range is told to `say`: the
    model could not give those figures."""
    runs: dict[tuple[str, float], PairFigures] = {(p.kind, p.pause_ms): p for p in measured.pairs}
    pause_ms = max(measured.pauses("notify"))  # the longest: 20 ms apart is a warmth point
    quiet = [runs[k, 0.0] for k in ("call", "cast")]
    broker_ms = max(sum(r.cpu_ms.broker / CROSSINGS[r.kind] for r in quiet) / 2, 0.01)
    relay_cpu_ms = sum(r.cpu_ms.relay / CROSSINGS[r.kind] for r in quiet) / 2
    costs = [poll_costs(runs[k, 0.0], runs[k, pause_ms]) for k in ("call", "cast")]
    end_cpu_ms = sum(c[0] for c in costs) / 2
    wake_cpu_ms = sum(c[1] for c in costs) / 2
    # At 0 ms a traversal costs the relay's own processing (the simulator's relay station); a delayed
    # one adds how late the relay's timer fires.
    relay = measured.relay
    timer_late_ms = max(0.0, relay.added_per_traversal_ms - relay.added_per_traversal_ms_at_0ms)
    # What a cast of PAYLOAD bytes puts on the wire beyond its payload: frames and JSON envelope.
    envelope = measured.cast_bytes_on_the_wire - PAYLOAD
    broker = MessagingCosts(
        rpc_client_ms=0.0,
        cast_client_ms=0.0,
        notify_client_ms=0.0,
        rpc_envelope_bytes=Params().rpc_envelope_bytes,
        broker_workers=cores,
        broker_service_ms=broker_ms,
    )
    params = replace(broker.apply(Params()), cast_client_ms=None, notify_client_ms=None)
    host = BenchHost(
        cores=cores,
        end_cpu_ms=end_cpu_ms,
        relay_cpu_ms=relay_cpu_ms,
        poll_wake_cpu_ms=wake_cpu_ms,
        relay_late_ms=timer_late_ms,
    )
    # Casts and notifications cost their ends otherwise than calls do (no reply waiter, no RPC
    # dispatcher for a notification): their own means, with the calls' spread and warmth.
    trial = fit_warmth(Trial(params, host, messages), runs, pause_ms)
    client_ms, client_cv = trial.params.rpc_client_ms, trial.host.end_cv
    cast_ms, notify_ms = trial.params.cast_end_ms, trial.params.notify_end_ms
    if measured.crowd is not None:
        trial = fit_crowding(trial, measured.crowd)
    fitted = trial.host
    if say is not None:
        for problem in at_the_edge(fitted, measured):
            say(f"warning: {problem}")
    return Fitted(
        messaging=MessagingCosts(
            rpc_client_ms=round(client_ms, 4),
            cast_client_ms=round(cast_ms, 4),
            notify_client_ms=round(notify_ms, 4),
            rpc_envelope_bytes=round(envelope),
            broker_workers=cores,
            broker_service_ms=round(broker_ms, 4),
        ),
        host=HostFit(
            model=HOST_MODEL,
            cores=cores,
            end_cpu_ms=round(end_cpu_ms, 4),
            end_cv=round(client_cv, 4),
            relay_cpu_ms=round(relay_cpu_ms, 4),
            poll_wake_cpu_ms=round(wake_cpu_ms, 4),
            relay_late_ms=round(timer_late_ms, 4),
            end_warmth=[(x, round(f, 4)) for x, f in fitted.end_warmth],
            end_crowding=[(x, round(f, 4)) for x, f in fitted.end_crowding],
            end_crowding_spread=[(x, round(f, 4)) for x, f in fitted.end_crowding_spread],
        ),
    )


def at_the_edge(host: BenchHost, measured: Measured) -> list[str]:
    """The fits of `host` (`derive`'s) that ended at the edge of their range, each said with the
    figure it could not give."""
    problems = []
    warmth = dict(host.end_warmth)
    if warmth and warmth.get(0.0, 1.0) < 1e-3:
        call = measured.pair("call", 0.0)
        problems.append(
            "a warm end costs nothing in the fit: the rest of the path already takes the "
            f"{call.p50_ms:.2f} ms measured for calls back to back (listeners' polls, broker, relay)"
        )
    if host.end_cv > END_CV_MAX * 0.999:
        call = measured.pair("call", max(measured.pauses("notify")))
        problems.append(
            f"the lone calls' p95 ({call.p95_ms} ms, p50 {call.p50_ms} ms) is beyond what the model gives "
            f"at the top of its spread's range (CV {END_CV_MAX}): a slow spell while they ran? measure again"
        )
    crowd = measured.crowd
    ranges = (
        (host.end_crowding, CROWDING_MAX, "p50"),
        (host.end_crowding_spread, CROWDING_SPREAD_MAX, "p95"),
    )
    for curve, top, figure in ranges:
        if crowd is None or not curve:
            continue
        value = crowd.p50_ms if figure == "p50" else crowd.p95_ms
        if curve[-1][1] > top * 0.999:
            problems.append(
                f"the crowd's {figure} ({value} ms) is beyond what the model gives at the top of its range "
                f"({top}): the crowd behaved unlike the lone pairs (an unsteady machine? measure again)"
            )
        elif curve[-1][1] < 1e-3:
            # 2026-12-03: eight pairs at once measured a p50 of 8.09 ms, lone calls 9.21 ms.
            problems.append(
                f"the crowd's {figure} ({value} ms) is below what the model gives at the bottom of its "
                "range (0): the crowd ran faster than the lone pairs (an unsteady machine? measure again)"
            )
    return problems
