"""RPC ping-pong between N client/server pairs over one fixed-latency link: wanstack's kernel and
network against SimPy on the same model, in one process, one after the other.

Each pair sends a request across the link; the server answers at once; the client sends the next
request when the answer arrives. Prints messages per second of wall time for both and their ratio.

    python benchmarks/pingpong.py [--pairs 100 10000 100000] [--messages 2000000]
"""

from __future__ import annotations

import argparse
import gc
import time

import simpy

from wanstack.sim.kernel import Simulator
from wanstack.sim.message import Message, ignore
from wanstack.sim.network import Network
from wanstack.topology import Topology, WanLink

LATENCY_MS = 10.0


def wanstack_pingpong(pairs: int, messages: int) -> float:
    """Messages/s: every message goes through wanstack's Network.send (route lookup, delay, accounting).
    Each pair's request and answer are one `Message` record going back and forth (one is in flight
    per pair at any time)."""
    sim = Simulator(seed=1)
    topo = Topology(
        ["client", "server"], [WanLink("client", "server", LATENCY_MS, LATENCY_MS, 0.0, 1e6, 0.0)]
    )
    net = Network(sim, topo, lan_delay_ms=0.05)
    send = net.send
    count = [0]

    def at_server(message: Message) -> None:
        count[0] += 1
        send("server", "client", message, at_client, 0.0)

    def at_client(message: Message) -> None:
        count[0] += 1
        send("client", "server", message, at_server, 0.0)

    for pair in range(pairs):
        send("client", "server", Message(hops=(), nbytes=100, done=ignore, arg=pair), at_server, 0.0)
    # Each round trip is 2 × latency for every pair, so `rounds` round trips make `messages` messages.
    rounds = max(1, messages // (2 * pairs))
    start = time.perf_counter()
    sim.run(rounds * 2 * LATENCY_MS)
    elapsed = time.perf_counter() - start
    return count[0] / elapsed


def simpy_events_pingpong(pairs: int, messages: int) -> float:
    """The same model in SimPy 4 with the cheapest message passing SimPy offers: a client and a server
    process per pair; a message is a timeout whose callback triggers the event the receiver waits on."""
    env = simpy.Environment()
    count = [0]

    class Pair:
        __slots__ = ("to_client", "to_server")

        def __init__(self) -> None:
            self.to_server = env.event()
            self.to_client = env.event()

    def send(pair: Pair, attr: str) -> None:
        def deliver(_: simpy.events.Event) -> None:
            getattr(pair, attr).succeed()

        env.timeout(LATENCY_MS).callbacks.append(deliver)

    def client(pair: Pair):  # type: ignore[no-untyped-def]
        while True:
            pair.to_client = env.event()
            send(pair, "to_server")
            yield pair.to_client
            count[0] += 1

    def server(pair: Pair):  # type: ignore[no-untyped-def]
        while True:
            yield pair.to_server
            pair.to_server = env.event()
            count[0] += 1
            send(pair, "to_client")

    for _ in range(pairs):
        p = Pair()
        env.process(server(p))
        env.process(client(p))
    rounds = max(1, messages // (2 * pairs))
    start = time.perf_counter()
    env.run(until=rounds * 2 * LATENCY_MS + LATENCY_MS / 2)
    elapsed = time.perf_counter() - start
    return count[0] / elapsed


class Cable:
    """SimPy's documented way to model link latency ("Event Latency" example in the SimPy docs): a
    message put on the cable reaches the other end's store after the latency."""

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        self.env = env
        self.delay = delay
        self.store = simpy.Store(env)

    def _carry(self, value: object):  # type: ignore[no-untyped-def]
        yield self.env.timeout(self.delay)
        self.store.put(value)

    def put(self, value: object) -> None:
        self.env.process(self._carry(value))

    def get(self) -> simpy.events.Event:
        return self.store.get()


def simpy_pingpong(pairs: int, messages: int) -> float:
    """The same model in SimPy 4: a client and a server process per pair, a cable each way."""
    env = simpy.Environment()
    count = [0]

    def client(to_server: Cable, from_server: Cable):  # type: ignore[no-untyped-def]
        while True:
            to_server.put("request")
            yield from_server.get()
            count[0] += 1

    def server(from_client: Cable, to_client: Cable):  # type: ignore[no-untyped-def]
        while True:
            yield from_client.get()
            count[0] += 1
            to_client.put("reply")

    for _ in range(pairs):
        up, down = Cable(env, LATENCY_MS), Cable(env, LATENCY_MS)
        env.process(client(up, down))
        env.process(server(up, down))
    rounds = max(1, messages // (2 * pairs))
    start = time.perf_counter()
    env.run(until=rounds * 2 * LATENCY_MS + LATENCY_MS / 2)
    elapsed = time.perf_counter() - start
    return count[0] / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--messages", type=int, default=2_000_000, help="messages per run (about)")
    args = parser.parse_args()
    print(f"RPC ping-pong over one {LATENCY_MS:g} ms link, ~{args.messages:,} messages per run")
    print("SimPy/events: processes wake on events triggered by timeouts (SimPy's cheapest message passing);")
    print("SimPy/stores: the Cable + Store pattern of SimPy's own latency example.")
    header = (
        f"{'pairs':>8} {'wanstack':>12} {'SimPy/events':>13} {'ratio':>7} {'SimPy/stores':>13} {'ratio':>7}"
    )
    print(header + "  (msg/s)")
    for pairs in args.pairs:
        gc.collect()
        ours = wanstack_pingpong(pairs, args.messages)
        gc.collect()
        events = simpy_events_pingpong(pairs, args.messages)
        gc.collect()
        stores = simpy_pingpong(pairs, args.messages)
        print(
            f"{pairs:>8,} {ours:>12,.0f} {events:>13,.0f} {ours / events:>6.2f}× {stores:>13,.0f} "
            f"{ours / stores:>6.2f}×",
            flush=True,
        )


if __name__ == "__main__":
    main()
