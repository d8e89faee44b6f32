"""Simulate the messaging test cases (`scenario.testplan`) on a scenario's infrastructure, the way the
real bench runs them: each client sends `messages` messages, one at a time with `pause_ms` between,
to servers that answer at once (the bench's echo endpoint, station kind `rpc-server`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from wanstack.results.cases import case_result, cases_run
from wanstack.results.schema import RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.testplan import MessagingCase, Pattern
from wanstack.sim.engine import Engine, SimOptions
from wanstack.sim.stations import Station


def simulate_case(infra: Infrastructure, case: MessagingCase, options: SimOptions) -> list[float]:
    """Latencies (ms) as the bench times them: call by the caller, cast and fanout by the receiver."""
    engine = Engine(infra, SimOptions(params=options.params, background=False))
    sim = engine.sim
    latencies: list[float] = []
    p = engine.params
    # One station per server process, as in the bench (ten servers at one site are ten processes).
    spec = p.station("rpc-server")
    processes = {
        (site, topic): Station(sim, ("rpc-server", f"{site}/{topic}"), spec.workers, spec.service_ms)
        for site, topic in case.servers
    }
    servers = {
        topic: [(site, processes[site, t]) for site, t in case.servers if t == topic]
        for _, topic in case.servers
    }

    def client(site: str, topic: str) -> None:
        m = engine.messaging_for(site)
        targets = servers[topic]
        left = [case.messages]

        def next_message(_: Any = None) -> None:
            if left[0] == 0:
                return
            left[0] -= 1
            start = sim.now

            def received(_: Any) -> None:
                latencies.append(sim.now - start)

            if case.pattern is Pattern.CALL:
                ((server_site, station),) = targets

                def replied(_: Any) -> None:
                    received(None)
                    sim.after(case.pause_ms, next_message)

                m.call(
                    site,
                    server_site,
                    station,
                    case.payload,
                    case.payload,
                    replied,
                    next_message,
                    None,
                    tag="case",
                )
                return
            if case.pattern is Pattern.CAST:
                ((server_site, station),) = targets
                m.cast(site, server_site, station, case.payload, received, None, None, tag="case")
            elif case.pattern is Pattern.NOTIFY:
                # To the notification bus, where the listener consumes it.
                ((listener_site, station),) = targets
                bus = m.notification_bus_for(site)
                kind = "notification-broker" if m.notifications.value == "broker" else "log-leader"
                hops = ((site, bus, engine.station(kind, bus)), (bus, listener_site, station))
                engine.chains.run(hops, case.payload, 1.0, received, None, None, p.rpc_client_ms, "case")
            else:
                m.fanout(site, targets, case.payload, received, None)
            # A cast returns once published: the client goes on after its own cost and the pause.
            sim.after(p.rpc_client_ms + case.pause_ms, next_message)

        next_message()

    # Each client starts when the bench starts it (`MessagingCase.start_offsets_ms`).
    for site, topic, offset in zip(case.clients, case.topic_of_client, case.start_offsets_ms(), strict=True):
        sim.after(offset, _starter(client, site, topic))
    sim.run(1e12)
    return latencies


def _starter(client: Callable[[str, str], None], site: str, topic: str) -> Callable[[Any], None]:
    return lambda _: client(site, topic)


def simulate_cases(infra: Infrastructure, cases: list[MessagingCase], options: SimOptions) -> RunResult:
    """Every case, as one `RunResult` comparable with the bench's (`wanstack compare-results`)."""
    start = time.perf_counter()
    operations = []
    for case in cases:
        latencies = simulate_case(infra, case, options)
        operations.append(
            case_result(case.name, latencies, case.deliveries, case.deliveries - len(latencies))
        )
    return cases_run("sim", infra, operations, time.perf_counter() - start)
