"""The simulator's physics, pinned on small cases where the answer can be written down."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wanstack.scenario.load import parse
from wanstack.scenario.services import Service
from wanstack.scenario.workload import OperationKind
from wanstack.sim.crossings import critical_crossings
from wanstack.sim.engine import Engine, SimOptions
from wanstack.sim.host import BenchHost
from wanstack.sim.message import Message, round_trip
from wanstack.sim.openstack import workflows
from wanstack.sim.params import Params
from wanstack.topology.tcp import TCP_WINDOW_BYTES, slow_start_ms

QUIET = SimOptions(background=False)


def engine(text: str) -> Engine:
    return Engine(parse(text, "t.yaml"), QUIET)


TWO_SITES = """
sites:
  - {name: a, tier: central}
  - {name: b, tier: edge}
links:
  - {a: a, b: b, delay_ms: %(d)s, bandwidth_mbps: 1000}
"""


def timed_call(e: Engine, src: str, dst: str) -> float:
    out: list[float] = []
    server = e.stations.get("nova-conductor", dst)
    e.messaging.of(src).call(
        src,
        dst,
        server,
        request_bytes=1000,
        reply_bytes=1000,
        done=lambda _: out.append(e.sim.now),
        failed=lambda _: None,
    )
    e.sim.run(1e9)
    return out[0]


@pytest.mark.parametrize("d", [0.0, 10.0, 25.0])
def test_call_through_broker_at_callers_site_costs_two_delays_plus_service(d: float) -> None:
    e = engine(TWO_SITES % {"d": d})
    assert e.placement.serving(Service.RPC_BUS, "b") == "a"
    p = e.params
    service = 2 * p.station("rpc-broker").service_ms + p.station("nova-conductor").service_ms
    endpoints = 4 * p.rpc_client_ms + 2 * p.lan_delay_ms  # a->broker and broker->a are LAN hops
    serialization = 2 * 1000 * 8 / (1000 * 1000.0)
    assert timed_call(e, "a", "b") == pytest.approx(2 * d + service + endpoints + serialization)


def test_call_through_broker_at_third_site_pays_both_legs_twice() -> None:
    e = engine("""
sites: [{name: a, tier: edge}, {name: c, tier: central}, {name: b, tier: edge}]
links: [{a: a, b: c, delay_ms: 7}, {a: c, b: b, delay_ms: 11}]
""")
    p = e.params
    service = 2 * p.station("rpc-broker").service_ms + p.station("nova-conductor").service_ms
    serialization = 4 * 1000 * 8 / (1000 * 1000.0)
    assert timed_call(e, "a", "b") == pytest.approx(
        2 * (7 + 11) + service + 4 * p.rpc_client_ms + serialization
    )


def test_cast_costs_one_leg() -> None:
    e = engine(TWO_SITES % {"d": 20})
    p = e.params
    out: list[float] = []
    server = e.stations.get("nova-conductor", "b")
    e.messaging.of("a").cast("a", "b", server, nbytes=1000, done=lambda _: out.append(e.sim.now))
    e.sim.run(1e9)
    expected = 20 + p.station("rpc-broker").service_ms + p.station("nova-conductor").service_ms
    expected += 2 * p.rpc_client_ms + p.lan_delay_ms + 1000 * 8 / 1e6
    assert out == [pytest.approx(expected)]


def test_a_cast_waits_for_its_publisher_confirm_and_in_a_cluster_for_the_queues_member() -> None:
    """oslo.messaging publishes with confirms: the sender waits one round trip to its broker; in a
    cluster, one more between its member and the member holding the server's queue."""
    single = engine(TWO_SITES % {"d": 20})
    serialization = (1000 + 21) * 8 / 1e6
    assert single.messaging.of("b").cast_confirm_ms("b", "a", 1000) == pytest.approx(40 + serialization)
    # A broker at the sender's site: two LAN hops (no serialization is modelled on a LAN).
    assert single.messaging.of("a").cast_confirm_ms("a", "b", 1000) == pytest.approx(
        2 * single.params.lan_delay_ms
    )
    cluster = engine(
        TWO_SITES % {"d": 20} + "messaging: {rpc: broker-cluster}\nplacement: {rpc-bus: [a, b]}\n"
    )
    m = cluster.messaging.of("b")
    lan = cluster.params.lan_delay_ms
    assert m.cast_confirm_ms("b", "a", 1000) == pytest.approx(2 * lan + 40 + serialization)
    assert m.cast_confirm_ms("b", "b", 1000) == pytest.approx(2 * lan)


def test_fanout_loads_the_broker_once_per_server() -> None:
    e = engine("sites: [{name: a, tier: central}]\n")
    broker = e.stations.get("rpc-broker", "a")
    servers = [("a", e.stations.get("nova-conductor", "a")) for _ in range(7)]
    delivered: list[float] = []
    e.messaging.of("a").fanout("a", servers, 500, lambda _: delivered.append(e.sim.now), None)
    e.sim.run(1e9)
    assert broker.jobs == 7
    assert len(delivered) == 7


@pytest.mark.parametrize("bandwidth", [100.0, 1000.0])
def test_two_transfers_over_one_link_share_its_bandwidth(bandwidth: float) -> None:
    e = engine(
        f"sites: [{{name: a, tier: central}}, {{name: b, tier: edge}}]\n"
        f"links: [{{a: a, b: b, delay_ms: 5, bandwidth_mbps: {bandwidth}}}]\n"
    )
    size = 50e6
    alone: list[float] = []
    e.flows.start("a", "b", size, lambda _: alone.append(e.sim.now), lambda _: None)
    e.sim.run(1e9)
    t0 = e.sim.now
    both: list[float] = []
    for _ in range(2):
        e.flows.start("a", "b", size, lambda _: both.append(e.sim.now - t0), lambda _: None)
    e.sim.run(2e9)
    transfer_ms = size * 8 / (bandwidth * 1000)
    # One RTT, slow start up to the link's rate (or the window's, 3 MiB per 10 ms), size / bandwidth.
    ramp = slow_start_ms(size, 10.0, min(bandwidth, TCP_WINDOW_BYTES * 8 / (10 * 1000)))
    assert ramp > 0
    assert alone == [pytest.approx(10 + ramp + transfer_ms)]
    # Each gets half the link (slow start counted up to the flow's own cap, not its share).
    assert both == [pytest.approx(10 + ramp + 2 * transfer_ms)] * 2


def test_a_long_fat_link_is_window_limited() -> None:
    e = engine(
        "sites: [{name: a, tier: central}, {name: b, tier: edge}]\n"
        "links: [{a: a, b: b, delay_ms: 100, bandwidth_mbps: 10000}]\n"
    )
    done: list[float] = []
    e.flows.start("a", "b", 100e6, lambda _: done.append(e.sim.now), lambda _: None)
    e.sim.run(1e9)
    rate_mbps = TCP_WINDOW_BYTES * 8 / (200 * 1000)  # window / RTT
    # 8 rounds of slow start from 10 segments to the 3 MiB window: 1.6 s, less what they carried.
    ramp = slow_start_ms(100e6, 200.0, rate_mbps)
    assert ramp == pytest.approx(8 * 200 - 255 * 14480 / (rate_mbps * 125))
    assert done == [pytest.approx(200 + ramp + 100e6 * 8 / (rate_mbps * 1000))]


def boot_latency(d: float, model: str = "centralized") -> tuple[float, int]:
    text = f"""
generate: {{kind: star, edges: 2, delay_ms: {d}, hosts: {{count: 4}}, center_hosts: {{count: 1}}}}
model: {model}
background: {{enabled: false}}
workload:
  # a tiny image: its download, beside the network's allocation, is never the longer branch
  images: [{{name: cirros, size_mb: 0.01}}]
  operations: [{{op: boot, times: 2, concurrency: 1, sites: [edge-1]}}]
run: {{duration_s: 60}}
"""
    e = Engine(parse(text, "t.yaml"))
    result = e.run()
    boot = result.operation("boot")
    assert boot is not None and boot.succeeded == 2
    second = e.users.finished[1]  # the first boot also fetched the user's token
    boot_steps = workflows(e.infra.scenario.openstack)[OperationKind.BOOT]
    crossings = critical_crossings(boot_steps, "edge-1", e.roles, e.messaging.of("edge-1").buses)
    return second.end - second.start, crossings


def test_centralized_boot_latency_grows_linearly_with_delay() -> None:
    delays = [2.0, 5.0, 10.0, 20.0]
    runs = [boot_latency(d) for d in delays]
    crossings = {c for _, c in runs}
    # The current release's boot with its server alone on the host, until ACTIVE is written: the
    # POST's request, two casts, 23 serialized cross-site round trips and the request of the
    # `Instance.save` that writes ACTIVE (sim/openstack.py; held to a traced real boot by
    # tests/test_workflows_vs_testbed.py).
    assert crossings == {50}
    latencies = [lat for lat, _ in runs]
    slopes = [(latencies[i + 1] - latencies[i]) / (delays[i + 1] - delays[i]) for i in range(len(delays) - 1)]
    # Each crossing adds the delay, but for the wait for network-vif-plugged (the agent's report up, 2,
    # and nova-api's cast to the compute, 1): libvirt creates the guest while it waits, and at these
    # delays the guest's creation (spawn_ms) takes longer than the wait, which it hides.
    assert slopes == pytest.approx([50.0 - 3] * 3, rel=1e-6)


def test_region_per_site_boot_does_not_depend_on_the_backbone() -> None:
    near, crossings = boot_latency(2.0, "region-per-site")
    far, _ = boot_latency(40.0, "region-per-site")
    assert crossings == 0
    assert near == pytest.approx(far)


def test_processes_sharing_one_core_queue_for_it() -> None:
    """Predicting the bench: with every process on one core, two calls at once take turns on the CPU."""
    text = TWO_SITES % {"d": 5}
    alone = Engine(parse(text, "t.yaml"), SimOptions(background=False))
    shared = Engine(parse(text, "t.yaml"), SimOptions(host=BenchHost(cores=1), background=False))

    def two_calls(e: Engine) -> list[float]:
        out: list[float] = []
        server = e.stations.get("rpc-server", "b")
        for _ in range(2):
            e.messaging.of("a").call(
                "a",
                "b",
                server,
                request_bytes=100,
                reply_bytes=100,
                done=lambda _: out.append(e.sim.now),
                failed=lambda _: None,
            )
        e.sim.run(1e9)
        return out

    free, contended = two_calls(alone), two_calls(shared)
    assert free[0] == pytest.approx(free[1])  # enough workers everywhere: both finish together
    assert contended[1] > contended[0]  # one core: the second waits for the first's CPU work
    cpu_per_call = 4 * alone.params.rpc_client_ms + 2 * alone.params.station("rpc-broker").service_ms
    # The calls overlap while their messages cross the link, so the second waits for some, not all, of
    # the first's CPU pieces: at least one client-library leg, less than a whole call's CPU.
    assert alone.params.rpc_client_ms <= contended[1] - contended[0] < cpu_per_call


def test_a_host_model_is_called_as_each_hop_leaves_and_arrives() -> None:
    """The chain runner's declared extension (`chain.HostModel`): a model that adds `hold` ms to each
    hop's leg as it leaves and keeps each arrival `work` ms before handing it back is called once per
    hop at each point, in order, and a round trip takes the plain runner's time plus twice each."""
    from wanstack.sim.chain import ChainRunner
    from wanstack.sim.kernel import Simulator
    from wanstack.sim.network import Network
    from wanstack.sim.stations import Station

    hold, work = 3.0, 7.0
    calls: list[tuple[str, int]] = []

    class Slow:
        def depart(self, m: Message, chains: ChainRunner) -> None:
            calls.append(("depart", m.at))
            chains.cross(m, hold)

        def arrive(self, m: Message, station: Station | None, chains: ChainRunner) -> None:
            calls.append(("arrive", m.at))
            chains.net.sim.after(work, chains.run, m)

    topology = parse(TWO_SITES % {"d": 5}, "t.yaml").topology

    def round_trip_ms(host: Slow | None) -> float:
        sim = Simulator(1)
        chains = ChainRunner(Network(sim, topology, 0.05), host)
        done: list[float] = []
        chains.run(Message(hops=round_trip("a", "b", None), nbytes=100, done=lambda _: done.append(sim.now)))
        sim.run(1e9)
        (ms,) = done
        return ms

    plain = round_trip_ms(None)
    assert not calls
    assert round_trip_ms(Slow()) == pytest.approx(plain + 2 * hold + 2 * work)
    assert calls == [("depart", 1), ("arrive", 1), ("depart", 2), ("arrive", 2)]


def test_listener_poll_backoff_wakes_at_1_3_7_ms_and_restarts_on_a_message() -> None:
    """oslo.messaging's listener timeout restarts at 1 ms after a message and doubles to 5 s."""
    from wanstack.sim.host.polling import PollBackoff, wakes_within
    from wanstack.sim.kernel import Simulator
    from wanstack.sim.stations import Station

    assert [wakes_within(gap) for gap in (0.5, 2.0, 54.0, 100.0)] == [0, 1, 5, 6]
    sim = Simulator(1)
    cpu = Station(sim, ("host-cpu", "bench"), 1, 1.0)
    polls = PollBackoff(sim, cpu, wake_cpu_ms=0.1)
    polls.message("server")
    sim.run(10.0)
    assert cpu.jobs == 3  # woke at 1, 3 and 7 ms
    polls.message("server")  # a message at 10 ms: the next wake is at 11 ms, not at 15
    sim.run(11.5)
    assert cpu.jobs == 4
    sim.run(1e9)
    assert cpu.jobs == 4 + wakes_within(5_000.0)  # then it stops at the 5 s cap


def test_bench_host_path_costs_vary_around_their_mean_repeatably() -> None:
    """With a CV the library's path cost is drawn per message (seeded): same seed, same latencies."""
    from wanstack.scenario.testplan import MessagingCase, Pattern
    from wanstack.sim.cases import simulate_case

    infra = parse("generate: {kind: star, edges: 1, delay_ms: 0}\n", "t.yaml")
    top = infra.placement.top_site
    (edge,) = (s for s in infra.sites if s != top)
    case = MessagingCase("c", Pattern.CALL, (edge,), ((top, "t0"),), ("t0",), 200, 100, 50.0)
    fixed = SimOptions(host=BenchHost(cores=2))
    varied = SimOptions(host=BenchHost(cores=2, end_cv=0.8))
    steady = simulate_case(infra, case, fixed)
    assert max(steady) - min(steady) < 1e-9
    spread = simulate_case(infra, case, varied)
    assert spread == simulate_case(infra, case, varied)
    assert max(spread) > min(spread) + 4 * fixed.params.rpc_client_ms * 0.2
    assert sum(spread) / len(spread) == pytest.approx(sum(steady) / len(steady), rel=0.1)


def test_a_receiver_and_a_broker_pay_for_waiting_a_sender_never_does() -> None:
    """`BenchHost.end_warmth` (issue 20, benchmarks/wakeups.py): a receiving end costs the mean times
    the curve's factor at the time since its process last received, on a logarithmic axis; a broker's
    pass adds `(factor − warm factor) × mean` by the time since its last; a sending end always costs
    the warm factor. So a cast 200 ms after the last costs its cold cost (the sender's saving is the
    broker's wake-up), one 20 ms after costs 2 × (1 − factor(20)) × mean less, and without the curve
    the pause changes nothing."""
    import math
    from dataclasses import replace

    from wanstack.scenario.testplan import MessagingCase, Pattern
    from wanstack.sim.cases import simulate_case
    from wanstack.sim.host import Curve

    straight = Curve([(200.0, 1.0), (0.0, 0.5)])
    assert [straight.factor(x) for x in (-1.0, 0.0, 50.0, 200.0, 1e9)] == [0.5, 0.5, 0.625, 1.0, 1.0]
    curve = Curve([(0.0, 0.5), (200.0, 1.0)], logarithmic=True)
    assert curve.factor(20.0) == pytest.approx(0.5 + 0.5 * math.log(21) / math.log(201))
    infra = parse("generate: {kind: star, edges: 1, delay_ms: 0}\n", "t.yaml")
    top = infra.placement.top_site
    (edge,) = (s for s in infra.sites if s != top)
    params = replace(SimOptions().params, rpc_client_ms=1.0, cast_client_ms=1.0)

    def p50(
        pattern: Pattern, pause_ms: float, warmth: tuple[tuple[float, float], ...], relay: float = 0.0
    ) -> float:
        case = MessagingCase("c", pattern, (edge,), ((top, "t0"),), ("t0",), 50, 100, pause_ms)
        host = BenchHost(cores=2, end_warmth=warmth, relay_cpu_ms=relay)
        return float(np.percentile(simulate_case(infra, case, SimOptions(params=params, host=host)), 50))

    warmth = ((0.0, 0.5), (200.0, 1.0))
    for pattern in (Pattern.CALL, Pattern.CAST):
        assert p50(pattern, 200.0, ()) == pytest.approx(p50(pattern, 20.0, ()), abs=1e-6)
    assert p50(Pattern.CAST, 200.0, warmth) == pytest.approx(p50(Pattern.CAST, 200.0, ()), abs=1e-6)
    # Through a relay the wake-up is the broker's and the link's relay thread's, half each: in all
    # the same.
    with_relay = p50(Pattern.CAST, 200.0, warmth, relay=0.1)
    assert with_relay == pytest.approx(p50(Pattern.CAST, 200.0, (), relay=0.1), abs=1e-6)
    # 20 ms apart the receiver and the broker have waited a little longer (the cast's own cost and
    # its confirmation come before the pause): the factor at 21.5 ± 1 ms.
    saved = p50(Pattern.CAST, 200.0, warmth) - p50(Pattern.CAST, 20.0, warmth)
    assert saved == pytest.approx(2 * (1 - curve.factor(21.5)), abs=0.02)
    # A call 200 ms apart: two cold receives (the server's, the caller's reply waiter's, each last
    # received 200 ms ago), two warm sends (0.5 ms saved each), the request's broker pass cold (0.5 ms
    # more), the reply's 2 ms or so after it: what is saved is 1 − its factor.
    saved = p50(Pattern.CALL, 200.0, ()) - p50(Pattern.CALL, 200.0, warmth)
    assert saved == pytest.approx(1 - curve.factor(2.0), abs=0.05)


def test_a_server_pays_more_after_others_handled_many_messages() -> None:
    """`Params.end_crowding`: ten clients each calling a server of its own cost the servers their
    crowding factor (each hears from its client while the nine other pairs' calls went by); one
    server hearing from ten clients, every 20 ms, is hardly crowded. Clients never pay it."""
    from dataclasses import replace

    from wanstack.scenario.testplan import default_cases
    from wanstack.sim.cases import simulate_case

    infra = parse("generate: {kind: star, edges: 10, delay_ms: 0}\n", "t.yaml")
    top = infra.placement.top_site
    edges = [s for s in infra.sites if s != top]
    cases = {c.name: c for c in default_cases(top, edges, messages=20)}
    params = replace(SimOptions().params, rpc_client_ms=1.0)
    base = SimOptions(params=params, host=BenchHost(cores=2))
    crowded = SimOptions(params=params, host=BenchHost(cores=2, end_crowding=((2.0, 1.0), (30.0, 3.0))))

    def p50(case: str, options: SimOptions) -> float:
        return float(np.percentile(simulate_case(infra, cases[case], options), 50))

    # tc2: the server's receive costs 3 ms instead of 1 (its reply, right after, is not crowded).
    assert p50("tc2-call", crowded) - p50("tc2-call", base) == pytest.approx(2.0, abs=0.3)
    assert p50("tc1-call", crowded) - p50("tc1-call", base) < 0.5
    assert p50("tc1-cast", crowded) - p50("tc1-cast", base) < 0.5


def test_one_process_handles_its_messages_one_at_a_time() -> None:
    """Each bench process is one Python interpreter: two messages reaching one server together are
    handled one after the other though the host has two cores; two servers handle them at once."""
    from dataclasses import replace

    from wanstack.sim.message import Hop, Message
    from wanstack.sim.stations import Station

    infra = parse("generate: {kind: star, edges: 2, delay_ms: 0}\n", "t.yaml")
    top = infra.placement.top_site
    edges = [s for s in infra.sites if s != top]
    params = replace(SimOptions().params, rpc_client_ms=1.0)

    def finishes(servers: int) -> list[float]:
        engine = Engine(infra, SimOptions(params=params, host=BenchHost(cores=2), background=False))
        stations = [Station(engine.sim, ("rpc-server", f"s{i}"), 64, 0.0) for i in range(servers)]
        done: list[float] = []
        for i, edge in enumerate(edges):
            hop = (Hop(edge, top, stations[i % servers]),)
            message = Message(hops=hop, nbytes=100, done=lambda _: done.append(engine.sim.now), end_ms=1.0)
            engine.chains.run(message)
        engine.sim.run(1e9)
        return sorted(done)

    one, two = finishes(1), finishes(2)
    assert one[1] - one[0] == pytest.approx(1.0)
    assert two[1] - two[0] == pytest.approx(0.0)


def test_others_work_widens_the_spread_of_every_end() -> None:
    """`Params.end_crowding_spread`: after many message ends on the host since its process last
    received, a receiving end's CV grows — a caller's reply waiter's too: tc1's ten callers of one
    server get a longer tail, while a lone pair (its ends see only each other) keeps its own."""
    from dataclasses import replace

    from wanstack.scenario.testplan import default_cases
    from wanstack.sim.cases import simulate_case
    from wanstack.sim.host_fit import Trial, simulated_pair

    infra = parse("generate: {kind: star, edges: 10, delay_ms: 0}\n", "t.yaml")
    top = infra.placement.top_site
    edges = [s for s in infra.sites if s != top]
    (tc1,) = (c for c in default_cases(top, edges, messages=40) if c.name == "tc1-call")
    params = replace(SimOptions().params, rpc_client_ms=1.0)
    base = Trial(params, BenchHost(cores=2, end_cv=0.3))
    wide = base.with_host(end_crowding_spread=((2.0, 1.0), (30.0, 3.0)))

    def tail(trial: Trial) -> float:
        p50, p95 = np.percentile(simulate_case(infra, tc1, trial.options()), [50, 95])
        return float(p95 - p50)

    assert tail(wide) > 1.5 * tail(base)
    alone, crowded = (np.percentile(simulated_pair(t, "call", 200.0), [50, 95]) for t in (base, wide))
    assert crowded == pytest.approx(alone, rel=0.05)


def test_a_backend_plugs_in_through_the_registry_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new RPC backend is one class with `RpcBus`'s methods plus its line in `sim.bus.RPC_BUSES`:
    here a relay at the middle site that every message passes without queueing, registered in place
    of `brokerless`. A call between the two edges then pays both links each way and nothing else."""
    from wanstack.scenario.services import RpcBackend
    from wanstack.sim import bus
    from wanstack.sim.bus.base import BusPlan, Confirm, FanoutCopy, Target
    from wanstack.sim.message import Hop
    from wanstack.sim.stations import Station

    class ViaTheMiddle:
        def __init__(self, plan: BusPlan) -> None:
            self.middle = plan.control_site

        def bus_for(self, site: str) -> str:
            return self.middle

        def request_hops(self, src: str, dst: str, server: Station | None) -> tuple[Hop, ...]:
            return (Hop(src, self.middle, None), Hop(self.middle, dst, server))

        def reply_hops(self, server_site: str, client_site: str) -> tuple[Hop, ...]:
            return self.request_hops(server_site, client_site, None)

        def confirm(self, src: str, dst: str) -> Confirm:
            return Confirm(self.middle)

        def fanout_copies(self, src: str, targets: list[Target]) -> list[FanoutCopy] | None:
            return None

    monkeypatch.setitem(bus.RPC_BUSES, RpcBackend.BROKERLESS, ViaTheMiddle)
    e = engine("""
sites: [{name: a, tier: edge}, {name: c, tier: central}, {name: b, tier: edge}]
links: [{a: a, b: c, delay_ms: 7}, {a: c, b: b, delay_ms: 11}]
messaging: {rpc: brokerless}
""")
    assert isinstance(e.messaging.of("a").rpc, ViaTheMiddle)
    p = e.params
    serialization = 4 * 1000 * 8 / (1000 * 1000.0)
    expected = 2 * (7 + 11) + p.station("nova-conductor").service_ms + 4 * p.rpc_client_ms + serialization
    assert timed_call(e, "a", "b") == pytest.approx(expected)


def test_a_cast_sent_during_a_cut_runs_after_the_restore_and_a_call_reply_too() -> None:
    """RabbitMQ keeps a cast in its queue while its consumer is cut off, and the consumer takes it once
    it has reconnected: oslo.messaging retries every 1, 3, 5, … s, at most 30 (`chain.reconnect_waits_ms`)."""
    e = engine(TWO_SITES % {"d": 10})
    server = e.stations.get("nova-conductor", "b")
    done: list[float] = []
    lost: list[float] = []
    e.net.set_link("a", "b", False)
    e.messaging.of("a").cast(
        "a", "b", server, nbytes=1000, done=lambda _: done.append(e.sim.now), lost=lambda _: lost.append(1.0)
    )
    restore_ms = 20_000.0
    e.sim.at(restore_ms, lambda _: e.net.set_link("a", "b", True))
    e.sim.run(1e9)
    assert lost == [] and len(done) == 1
    # attempts 1, 4, 9, 16, 25 s after the cut: the first after the restore delivers it
    assert done[0] == pytest.approx(25_000.0, abs=50.0)


@pytest.mark.parametrize("restore_s", [20.0, None])
def test_a_rest_request_across_a_cut_hangs_while_tcp_retransmits(restore_s: float | None) -> None:
    """keystoneauth sets no timeout by default, so a REST request across a cut waits on its connection
    while TCP retransmits (RTO 200 ms doubling up to 120 s, `topology.tcp.retransmissions_ms`): the first
    retransmission after the restore (25.4 s after the cut, when restored at 20 s) carries it; never
    restored, TCP gives up after tcp_retries2 = 15 retransmissions, 924.6 s, and the request fails."""
    e = engine(TWO_SITES % {"d": 10})
    api = e.stations.get("nova-api", "b")
    done: list[float] = []
    lost: list[float] = []
    e.net.set_link("a", "b", False)
    e.chains.run(
        Message(
            hops=round_trip("a", "b", api),
            nbytes=1000,
            done=lambda _: done.append(e.sim.now),
            lost=lambda _: lost.append(e.sim.now),
        )
    )
    if restore_s is not None:
        e.sim.at(restore_s * 1000.0, lambda _: e.net.set_link("a", "b", True))
    e.sim.run(1e9)
    if restore_s is None:
        assert done == [] and lost == [pytest.approx(924_600.0)]
    else:
        assert lost == [] and len(done) == 1
        assert 25_400.0 + 20.0 < done[0] < 25_400.0 + 20.0 + 100.0  # + the RTT and nova-api's service


def test_a_service_is_seen_up_again_once_its_report_gets_through_after_the_restore() -> None:
    """nova-compute's reports during a cut wait in oslo.messaging's reconnection loop; after the restore
    the first reconnection delivers one, and the servicegroup sees the compute up then."""
    text = """
generate: {kind: star, edges: 1, delay_ms: 10, hosts: {count: 1}, center_hosts: {count: 1}}
faults:
  - {at_s: 100, action: cut-link, link: [central, edge-1]}
  - {at_s: 220, action: restore-link, link: [central, edge-1]}
run: {duration_s: 400}
"""
    result = Engine(parse(text, "t.yaml")).run()
    (outage,) = [o for o in result.outages if o.service == "nova-compute"]
    assert 150 < outage.down_at_s < 175
    assert outage.up_at_s is not None and 220 < outage.up_at_s < 220 + 10


def _delete_latency(d: float, notifications: str) -> tuple[float, int]:
    """The second delete at edge-1 (its first boot's token is cached by then), and the crossings the
    workflow counts for it."""
    text = f"""
generate: {{kind: star, edges: 1, delay_ms: {d}, hosts: {{count: 2}}, center_hosts: {{count: 1}}}}
background: {{enabled: false}}
openstack: {{notifications: {notifications}}}
workload:
  images: [{{name: cirros, size_mb: 0.01}}]
  operations:
    - {{op: boot, times: 2, concurrency: 1, sites: [edge-1]}}
    - {{op: delete, times: 2, concurrency: 1, sites: [edge-1], start_s: 60}}
run: {{duration_s: 120}}
"""
    e = Engine(parse(text, "t.yaml"))
    e.run()
    deletes = [op for op in e.users.finished if op.kind is OperationKind.DELETE]
    assert [op.outcome for op in deletes] == ["ok", "ok"]
    steps = workflows(e.infra.scenario.openstack)[OperationKind.DELETE]
    crossings = critical_crossings(steps, "edge-1", e.roles, e.messaging.of("edge-1").buses)
    return deletes[1].end - deletes[1].start, crossings


@pytest.mark.parametrize(("notifications", "count"), [("none", 15), ("both", 15 + 2 * 6)])
def test_a_delete_grows_by_its_crossings_per_ms_of_delay(notifications: str, count: int) -> None:
    """A delete at an edge of the centralized model, until DELETED is written: the DELETE's request,
    the cast, six round trips to the conductor and Neutron and the request of the save (15); with
    `both` notifications, six publisher confirms more (three events before DELETED, two copies each).
    The simulated latency grows by exactly that many one-way delays."""
    runs = [_delete_latency(d, notifications) for d in (5.0, 20.0)]
    assert {c for _, c in runs} == {count}
    slope = (runs[1][0] - runs[0][0]) / 15.0
    assert slope == pytest.approx(count, rel=1e-6)


def _concurrent_boots(boots: int, params: Params | None = None) -> list[tuple[float, float]]:
    """`boots` boots sent at once to one edge host 25 ms from the centre: (start, end) of each."""
    text = f"""
generate: {{kind: star, edges: 1, delay_ms: 25, hosts: {{count: 1, vcpus: 256}}, center_hosts: {{count: 0}}}}
model: centralized
background: {{enabled: false}}
openstack: {{virt: fake, neutron: bind-all}}
workload:
  operations: [{{op: boot, times: {boots}, concurrency: {boots}, sites: [edge-1]}}]
run: {{duration_s: 600}}
"""
    e = Engine(parse(text, "t.yaml"), SimOptions(params=params or Params()))
    e.run()
    assert len(e.users.finished) == boots and {op.outcome for op in e.users.finished} == {"ok"}
    return sorted((op.start, op.end) for op in e.users.finished)


def test_a_hosts_claims_wait_for_each_other() -> None:
    """The resource tracker's claim runs under the host's COMPUTE_RESOURCE_SEMAPHORE: boots sent to a
    host at once claim one after the other, each claim 5 calls and a Placement request per server
    on the host across the 25 ms WAN (at least 12 crossings, 300 ms), so the fifth ends at least four
    claims after the first."""
    ends = [end for _, end in _concurrent_boots(5)]
    assert ends[-1] - ends[0] >= 4 * 12 * 25.0


def test_a_host_runs_at_most_max_concurrent_builds_at_once() -> None:
    """nova-compute's `_build_semaphore` (max_concurrent_builds = 10): with one build at a time, boots
    sent at once end a whole build apart (the compute's part until ACTIVE alone crosses the 25 ms WAN
    more than 40 times); with ten they overlap, only their claims in line."""
    one = _concurrent_boots(3, Params(max_concurrent_builds=1))
    ten = _concurrent_boots(3)
    assert min(b[1] - a[1] for a, b in itertools.pairwise(one)) >= 40 * 25.0
    assert max(b[1] - a[1] for a, b in itertools.pairwise(ten)) < 40 * 25.0


def test_the_vif_wait_shows_once_it_outlasts_the_guest_creation() -> None:
    """Far enough away, waiting for network-vif-plugged (the agent's loop, its report up and nova-api's
    cast: 3 crossings) takes longer than creating the guest beside it, and every crossing counts again."""
    (near, _), (mid, _), (far, _) = (boot_latency(d) for d in (400.0, 450.0, 500.0))
    assert (far - mid) / 50.0 == pytest.approx(50.0, rel=1e-6)
    assert (mid - near) / 50.0 == pytest.approx(50.0, rel=1e-6)


def test_a_link_that_loses_everything_ends_the_run(tmp_path: Path) -> None:
    """Every packet lost: TCP retransmits each message, its RTO doubling up to 120 s, and resets the
    connection after tcp_retries2 = 15 retransmissions (Linux); the message is lost, the operations at
    that site fail, and the run ends (it used to retransmit forever, the run never ending)."""
    scenario = tmp_path / "lossy.yaml"
    scenario.write_text(
        "name: lossy\n"
        "generate: {kind: star, edges: 2, delay_ms: 10, hosts: {count: 2}, center_hosts: {count: 1}}\n"
        "link_defaults: {loss_pct: 100}\n"
        "workload: {operations: [{op: boot, times: 3, concurrency: 1, sites: [edge-1]}]}\n"
        "run: {duration_s: 600, seed: 1}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "wanstack.cli", "run", str(scenario), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (boot,) = [o for o in json.loads(done.stdout)["operations"] if o["op"] == "boot"]
    # Rally's 300 s timeout each, one at a time: two of the three end within the run, neither done.
    assert boot["succeeded"] == 0 and boot["failed"] + boot["timed_out"] >= 2
