"""Whose idleness makes a message after a pause slow: the sender's, the broker's (with the relays'),
or the receiver's — the question behind the bench-host model's wake-ups (`sim.host.chains`).

One client behind a 0 ms relay casts to one server next to the broker, 200 ms apart, in four settings:
- alone: every process waits 200 ms for the next message;
- broker busy: another client/server pair (its own relay) casts 20 ms apart through the same broker,
  so the broker and the relays' process never wait long, the measured pair's processes do;
- receiver busy: a second client (its own relay) casts 20 ms apart to the same server, so the broker,
  the relays and the receiver are kept busy, only the measured sender waits 200 ms;
- all busy: the measured client itself casts 20 ms apart (a lone pair 20 ms apart).
The latency is the receiver's (receive − send) of the measured client's casts only. The settings
alternate over rounds, so that the machine's drift falls on each alike.

    python benchmarks/wakeups.py [--rounds 2] [--casts 120]

Needs rabbitmq-server (installed by `make test`); about 3 min with two rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time

import numpy as np

from wanstack.bench.controller import RoleProcess
from wanstack.lab.rabbit import RabbitNode
from wanstack.lab.relay import DelayRelay, LinkShape

SETTINGS = ("alone", "broker busy", "receiver busy", "all busy")
MEASURED_FROM = 1_000_000  # the measured client's sequence numbers start here, the other's at 0
PAUSE_MS, BUSY_MS = 200.0, 20.0


def measure(broker: RabbitNode, setting: str, casts: int) -> list[float]:
    """The measured client's casts' latencies (ms) in `setting`."""
    with contextlib.ExitStack() as stack:
        relays = [stack.enter_context(DelayRelay(broker.port, LinkShape(), protocol="amqp")) for _ in "ab"]
        near, far = (f"rabbit://guest:guest@127.0.0.1:{r.port}/" for r in relays)
        server = stack.enter_context(RoleProcess("rpc-server", broker.url, topic="measured", server="a"))
        other = stack.enter_context(RoleProcess("rpc-server", broker.url, topic="other", server="b"))
        client = stack.enter_context(RoleProcess("rpc-client", near, topic="measured", server="a"))
        busy_topic = "measured" if setting == "receiver busy" else "other"
        busy = stack.enter_context(
            RoleProcess("rpc-client", far, topic=busy_topic, server="a" if busy_topic == "measured" else "b")
        )
        for role in (client, busy):
            role.ask({"calls": 10, "kind": "cast"})  # connections and queues up
        for role in (server, other):
            role.ask({"cmd": "reset"})
        keeper = None
        if setting in ("broker busy", "receiver busy"):
            # Casts 20 ms apart for longer than the measured ones last.
            command = {"calls": round(casts * PAUSE_MS / BUSY_MS) + 50, "kind": "cast", "pause_ms": BUSY_MS}
            keeper = threading.Thread(target=busy.ask, args=(command,))
            keeper.start()
            time.sleep(0.5)
        pause = BUSY_MS if setting == "all busy" else PAUSE_MS
        client.ask({"calls": casts, "kind": "cast", "pause_ms": pause, "first_seq": MEASURED_FROM})
        time.sleep(0.3)  # the last casts' delivery
        latencies: list[float] = server.ask({"cmd": "stats", "min_seq": MEASURED_FROM})["one_way_ms"]
        if keeper is not None:
            keeper.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--casts", type=int, default=120, help="measured casts per setting and round")
    args = parser.parse_args()
    runs: dict[str, list[list[float]]] = {s: [] for s in SETTINGS}
    with RabbitNode(name="wanstack-bench-wakeups") as broker:
        for n in range(args.rounds):
            for setting in SETTINGS:
                runs[setting].append(measure(broker, setting, args.casts))
                print(f"round {n + 1}/{args.rounds}: {setting} done", file=sys.stderr, flush=True)
    print("p50 (p95) of the measured casts, ms; per-round p50s in []; saving against alone")
    alone = float(np.percentile([x for r in runs["alone"] for x in r], 50))
    for setting in SETTINGS:
        pooled = [x for r in runs[setting] for x in r]
        p50, p95 = (float(x) for x in np.percentile(pooled, [50, 95]))
        per_round = "-".join(f"{np.percentile(r, 50):.2f}" for r in runs[setting])
        print(f"{setting:<14} {p50:5.2f} ({p95:5.2f})  [{per_round}]  {p50 - alone:+.2f} ms  n={len(pooled)}")


if __name__ == "__main__":
    main()
