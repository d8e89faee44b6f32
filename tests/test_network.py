"""`Network.send`'s lanes: looked up by source then destination, made again after a route change,
and counted as before (per lane, per traffic class, onto links in the order the lanes were made)."""

from __future__ import annotations

from wanstack.sim.kernel import Simulator
from wanstack.sim.message import Message, ignore
from wanstack.sim.network import Network
from wanstack.topology import Topology, WanLink


def triangle() -> tuple[Simulator, Network]:
    """a–b direct (10 ms), or a–c–b (20 + 20 ms) when the direct link is cut."""
    sim = Simulator(seed=1)
    links = [
        WanLink("a", "b", 10.0, 10.0, 0.0, 1000.0, 0.0),
        WanLink("a", "c", 20.0, 20.0, 0.0, 1000.0, 0.0),
        WanLink("c", "b", 20.0, 20.0, 0.0, 1000.0, 0.0),
    ]
    return sim, Network(sim, Topology(["a", "b", "c"], links), lan_delay_ms=0.5)


def arrival(sim: Simulator, net: Network, a: str, b: str, tag: str = "x") -> float | None:
    """When a 0-byte message sent now from `a` reaches `b` (None: dropped)."""
    got: list[float] = []
    sent = net.send(
        a, b, Message(hops=(), nbytes=0.0, done=ignore, tag=tag), lambda _: got.append(sim.now), 0.0
    )
    start = sim.now
    sim.run(sim.now + 1000.0)
    assert (sent is not None) == bool(got)
    assert sent is None or sent == got[0]  # `send` tells when it gets there
    return got[0] - start if got else None


def test_a_lane_is_made_again_when_its_route_changes() -> None:
    sim, net = triangle()
    assert arrival(sim, net, "a", "b") == 10.0
    net.set_link("a", "b", up=False)
    assert arrival(sim, net, "a", "b") == 40.0
    net.set_site("c", up=False)
    assert arrival(sim, net, "a", "b") is None
    assert net.dropped == 1
    net.set_link("a", "b", up=True)
    assert arrival(sim, net, "a", "b") == 10.0
    assert arrival(sim, net, "a", "a") == 0.5
    assert net.lane("b", "a") is net.lane("b", "a") is not None


def test_bytes_are_counted_per_lane_class_and_link_as_sent() -> None:
    sim, net = triangle()
    sends = [("a", "b", 100.0, "x"), ("b", "a", 10.0, "y"), ("a", "a", 7.0, "x"), ("a", "b", 1.0, "y")]
    for a, b, nbytes, tag in sends:
        net.send(a, b, Message(hops=(), nbytes=nbytes, done=ignore, tag=tag), ignore, 0.0)
    net.set_link("a", "b", up=False)  # flushes the lanes: their counts go onto links and sites
    net.send("a", "b", Message(hops=(), nbytes=1000.0, done=ignore, messages=4.0, tag="x"), ignore, 0.0)
    net.flush()
    assert list(net.wan_bytes_by_tag.items()) == [("x", 1100.0), ("y", 11.0)]
    assert net.local_bytes == {"a": 7.0}
    assert net.wan_bytes_out == {"a": 1101.0, "b": 10.0}
    assert net.link_bytes == [[101.0, 10.0], [1000.0, 0.0], [1000.0, 0.0]]
    assert net.link_messages == [[2.0, 1.0], [4.0, 0.0], [4.0, 0.0]]
    assert sim.events == 0 and len(sim.heap) == 5
