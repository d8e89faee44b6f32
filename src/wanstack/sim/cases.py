"""Simulate the messaging test cases (`scenario.testplan`) on a scenario's infrastructure, the way the
real bench runs them: each client sends `messages` messages, one at a time with `pause_ms` between,
to servers that answer at once (the bench's echo endpoint, station kind `rpc-server`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wanstack.results.cases import CaseRun, CasesTally
from wanstack.results.schema import LinkTraffic, RunResult
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.testplan import MessagingCase, Pattern
from wanstack.sim import collect
from wanstack.sim.engine import SimOptions
from wanstack.sim.message import Hop, Message
from wanstack.sim.stations import Station
from wanstack.sim.world import build_world


@dataclass
class SimulatedCase:
    """One case simulated: its latencies and what it put on the links and the brokers."""

    latencies_ms: list[float]
    elapsed_s: float  # first message sent -> last one answered or delivered, as the bench times it
    links: list[LinkTraffic]
    broker_jobs: int
    broker_busy_s: float


def simulate_case(infra: Infrastructure, case: MessagingCase, options: SimOptions) -> list[float]:
    """Latencies (ms) of `case` on `infra`'s world (`options`' parameters and bench host; no
    background, no faults) as the bench times them: call by the caller, cast and fanout by the
    receiver."""
    return simulate_case_run(infra, case, options).latencies_ms


def simulate_case_run(infra: Infrastructure, case: MessagingCase, options: SimOptions) -> SimulatedCase:
    """The case's latencies, and what it put on the links and on the broker."""
    world = build_world(infra, options.params, options.host)
    sim = world.sim
    latencies: list[float] = []
    last = [0.0]
    p = world.params
    size = case.payload + p.rpc_envelope_bytes
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
    # A listener process per notification bus its notifiers use, as the bench starts them.
    listeners = {
        (site, topic, bus): Station(
            sim, ("rpc-server", f"{site}/{topic}@{bus}"), spec.workers, spec.service_ms
        )
        for site, topic in case.servers
        for bus in {world.messaging.of(c).notifications.bus_for(c) for c in case.clients}
    }

    def client(site: str, topic: str) -> None:
        m = world.messaging.of(site)
        targets = servers[topic]
        left = [case.messages]

        def next_message(_: Any = None) -> None:
            if left[0] == 0:
                return
            left[0] -= 1
            start = sim.now

            def received(_: Any) -> None:
                latencies.append(sim.now - start)
                last[0] = sim.now

            if case.pattern is Pattern.CALL:
                ((server_site, station),) = targets

                def replied(_: Any) -> None:
                    received(None)
                    sim.after(case.pause_ms, next_message)

                m.call(
                    site,
                    server_site,
                    station,
                    request_bytes=size,
                    reply_bytes=size,
                    done=replied,
                    failed=next_message,
                    tag="case",
                )
                return
            if case.pattern is Pattern.CAST:
                ((server_site, station),) = targets
                m.cast(site, server_site, station, nbytes=size, done=received, tag="case")
                confirm = m.cast_confirm_ms(site, server_site, size)
            elif case.pattern is Pattern.NOTIFY:
                # To the notification bus, where the listener consumes it: one listener per bus.
                bus = m.notifications.bus_for(site)
                ((listener_site, _),) = targets
                station = listeners[listener_site, topic, bus]
                hops = (Hop(site, bus, m.notifications.node(bus)), Hop(bus, listener_site, station))
                world.chains.run(
                    Message(hops=hops, nbytes=size, done=received, end_ms=p.notify_end_ms, tag="case")
                )
                confirm = m.notify_confirm_ms(site, size)
            else:
                m.fanout(site, targets, size, received, None)
                confirm = m.fanout_confirm_ms(site, targets, size)
            # A cast returns once the broker has confirmed it: the client goes on after its own cost,
            # that round trip (`Messaging.confirm_ms`) and the pause.
            end = p.notify_end_ms if case.pattern is Pattern.NOTIFY else p.cast_end_ms
            wait = end + confirm + case.pause_ms
            sim.after(wait, next_message)

        next_message()

    # Each client starts when the bench starts it (`MessagingCase.start_offsets_ms`).
    for site, topic, offset in zip(case.clients, case.topic_of_client, case.start_offsets_ms(), strict=True):
        sim.after(offset, _starter(client, site, topic))
    sim.run(1e12)
    elapsed_ms = last[0] - min(case.start_offsets_ms(), default=0.0)
    # The bench's one RabbitMQ carries RPC and notifications: count both brokers' work, and a routed
    # bus's routers (each forwards a message once per hop, as a NATS server counts `out_msgs`).
    brokers = [
        st for (kind, _), st in world.stations.by_key.items() if kind.endswith("-broker") or kind == "router"
    ]
    return SimulatedCase(
        latencies,
        elapsed_ms / 1000.0,
        collect.links(world.net, elapsed_ms / 1000.0),
        sum(st.jobs for st in brokers),
        sum(st.utilisation(last[0]) * st.workers * last[0] / 1000.0 for st in brokers),
    )


def _starter(client: Callable[[str, str], None], site: str, topic: str) -> Callable[[Any], None]:
    return lambda _: client(site, topic)


def simulate_cases(infra: Infrastructure, cases: list[MessagingCase], options: SimOptions) -> RunResult:
    """Every case, as one `RunResult` comparable with the bench's (`wanstack compare-results`)."""
    start = time.perf_counter()
    tally = CasesTally()
    for case in cases:
        r = simulate_case_run(infra, case, options)
        failures = case.deliveries - len(r.latencies_ms)
        tally.add(
            case, CaseRun(r.latencies_ms, failures, r.elapsed_s, r.links, r.broker_jobs, r.broker_busy_s)
        )
    workers = options.params.station("rpc-broker").workers
    return tally.result("sim", infra, time.perf_counter() - start, workers)
