"""One bulk transfer alone on a path, as the simulator's flow model carries it (`flows.FlowNetwork`:
the window over the RTT, slow start, the link's rate): what `benchmarks/relay_tcp.py` and its tests set
beside a real relay."""

from __future__ import annotations

from wanstack.scenario.load import parse
from wanstack.sim.engine import Engine, SimOptions


def lone_transfer_s(nbytes: int, rtt_ms: float, mbps: float) -> float:
    """Seconds for `nbytes` from one site to another `rtt_ms` apart on a link of `mbps`, nothing else
    on it (no background, no workload)."""
    engine = Engine(
        parse(
            "sites: [{name: a, tier: central}, {name: b, tier: edge}]\n"
            f"links: [{{a: a, b: b, delay_ms: {rtt_ms / 2}, bandwidth_mbps: {mbps}}}]\n",
            "transfer.yaml",
        ),
        SimOptions(background=False),
    )
    done: list[float] = []
    engine.flows.start("a", "b", nbytes, lambda _: done.append(engine.sim.now), lambda _: None)
    engine.sim.run(1e9)
    if len(done) != 1:
        raise RuntimeError(f"the transfer of {nbytes} bytes did not end")
    return done[0] / 1000.0
