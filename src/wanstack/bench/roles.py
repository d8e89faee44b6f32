"""Bench roles as processes: rpc-server, rpc-client, notifier, listener (after ombt's roles).

A controller starts each role as `python -m wanstack.bench.roles ROLE --url ... --topic ...` and
drives it over the process's stdin/stdout (JSON lines): a control channel that never crosses the
emulated WAN, as ombt keeps its control bus apart from the bus under test. Each command answers one
JSON line with what it measured.

oslo.messaging is used as OpenStack services use it: a transport from a `rabbit://` URL, an RPC server
with the threading executor (the default without eventlet's monkey patching; naming it is deprecated,
oslo_messaging/server.py), an RPC client doing call/cast (shared domain notes §9: with a private
ConfigOpts `call()` fails on tracing options, so the global CONF is used).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any


def _transport(url: str, notifications: bool = False) -> Any:
    import oslo_messaging
    from oslo_config import cfg

    transport = (
        oslo_messaging.get_notification_transport(cfg.CONF, url=url)
        if notifications
        else oslo_messaging.get_rpc_transport(cfg.CONF, url=url)
    )
    if DURABLE:
        # Durable queues and persistent messages survive a broker restart
        # ([oslo_messaging_rabbit] amqp_durable_queues, default False).
        cfg.CONF.set_override("amqp_durable_queues", True, group="oslo_messaging_rabbit")
    return transport


DURABLE = False


class PingEndpoint:
    """What rpc-servers answer: the payload's length (work is simulated by `work_ms`)."""

    def __init__(self, work_ms: float) -> None:
        self.work_ms = work_ms
        self.calls = 0
        self.casts = 0
        self.seen: set[int] = set()
        self.duplicates = 0
        # Casts: (seq, receive − send time in ms); one machine, one clock.
        self.one_way_ms: list[tuple[int, float]] = []
        self.received_at: list[float] = []

    def ping(self, ctxt: dict[str, Any], payload: str) -> int:
        self.calls += 1
        if self.work_ms:
            time.sleep(self.work_ms / 1000.0)
        return len(payload)

    def cast_ping(self, ctxt: dict[str, Any], payload: str, seq: int, sent: float = 0.0) -> None:
        self.casts += 1
        self.received_at.append(time.time())
        if sent:
            self.one_way_ms.append((seq, (time.time() - sent) * 1000.0))
        if seq in self.seen:
            self.duplicates += 1
        self.seen.add(seq)

    def stats(self, min_seq: int) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "casts": self.casts,
            "duplicates": self.duplicates,
            "received": sorted(self.seen),
            "received_at": self.received_at,
            "one_way_ms": [ms for seq, ms in self.one_way_ms if seq >= min_seq],
        }

    def reset(self) -> None:
        self.seen.clear()
        self.one_way_ms.clear()
        self.received_at.clear()
        self.duplicates = self.calls = self.casts = 0


def _serve(endpoint: PingEndpoint) -> None:
    """Answer the controller's commands (stats, reset) until it says stop."""
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("cmd") == "stats":
            _answer(endpoint.stats(int(command.get("min_seq", 0))))
        elif command.get("cmd") == "reset":
            endpoint.reset()
            _answer({"reset": True})
        elif command.get("cmd") == "stop":
            break


def rpc_server(args: argparse.Namespace) -> None:
    import oslo_messaging

    transport = _transport(args.url[0])
    endpoint = PingEndpoint(args.work_ms)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    server = oslo_messaging.get_rpc_server(transport, target, [endpoint])
    server.start()
    _answer({"ready": True})
    _serve(endpoint)
    server.stop()
    server.wait()
    transport.cleanup()
    _answer({"stopped": True, "calls": endpoint.calls, "casts": endpoint.casts})


def rpc_client(args: argparse.Namespace) -> None:
    import oslo_messaging

    transports = [_transport(url) for url in args.url]
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    clients = [oslo_messaging.get_rpc_client(t, target) for t in transports]
    _answer({"ready": True})
    # One thread per further bus: a message goes out on every bus at once, as Nova scatters a request
    # over its cells (nova/context.py, scatter_gather_cells).
    with ThreadPoolExecutor(max_workers=max(1, len(clients) - 1)) as pool:
        for line in sys.stdin:
            command = json.loads(line)
            if command.get("cmd") == "stop":
                break
            _answer(_run_calls(clients, command, pool))
    for t in transports:
        t.cleanup()
    _answer({"stopped": True})


def _run_calls(clients: list[Any], command: dict[str, Any], pool: Executor) -> dict[str, Any]:
    """`calls` sequential call or cast with a `payload`-byte string and `pause_ms` between them, on
    `threads` threads; latencies in ms of the successful ones, and the failures by exception name.
    With several clients (buses) each message goes to all of them, and counts once all returned."""
    import oslo_messaging

    kind = command.get("kind", "call")
    n = int(command.get("calls", 100))
    payload = "x" * int(command.get("payload", 100))
    pause = float(command.get("pause_ms", 0.0)) / 1000.0
    threads = int(command.get("threads", 1))
    timeout = float(command.get("timeout_s", 30.0))
    fanout = bool(command.get("fanout", False))
    prepared = [
        client.prepare(timeout=timeout, fanout=fanout) if fanout else client.prepare(timeout=timeout)
        for client in clients
    ]

    def send(one: Any, seq: int) -> None:
        if kind == "call":
            one.call({}, "ping", payload=payload)
        else:
            one.cast({}, "cast_ping", payload=payload, seq=seq, sent=time.time())

    def send_all(seq: int) -> None:
        others = [pool.submit(send, one, seq) for one in prepared[1:]]
        send(prepared[0], seq)
        for f in others:
            f.result()

    latencies: list[float] = []
    done_at: list[float] = []  # wall-clock end of each successful message (recovery after a fault)
    acknowledged: list[int] = []  # casts whose cast() returned without an error
    failures: dict[str, int] = {}
    lock = threading.Lock()

    def worker(count: int, offset: int) -> None:
        for i in range(count):
            if deadline is not None and time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            try:
                send_all(offset + i)
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000.0)
                    done_at.append(time.time())
                    acknowledged.append(offset + i)
            except oslo_messaging.MessagingException as err:
                with lock:
                    failures[type(err).__name__] = failures.get(type(err).__name__, 0) + 1
            if pause:
                time.sleep(pause)

    # The case's start schedule: this client's first message waits this long.
    time.sleep(float(command.get("start_delay_ms", 0.0)) / 1000.0)
    started = time.perf_counter()
    # With `duration_s`, messages go on until then (`calls` is then an upper bound): a fault case
    # keeps the traffic up for a fixed time whatever the calls that time out cost.
    deadline = started + float(command["duration_s"]) if "duration_s" in command else None
    share = [n // threads + (1 if t < n % threads else 0) for t in range(threads)]
    first = int(command.get("first_seq", 0))
    workers = [threading.Thread(target=worker, args=(c, first + sum(share[:t]))) for t, c in enumerate(share)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return {
        "kind": kind,
        "acknowledged": acknowledged,
        "latencies_ms": latencies,
        "done_at": done_at,
        "failures": failures,
        "elapsed_s": time.perf_counter() - started,
    }


def _answer(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class NotificationEndpoint:
    """What listeners do with a notification: note when it arrived (one-way latency, duplicates)."""

    def __init__(self) -> None:
        self.endpoint = PingEndpoint(0.0)

    def info(
        self,
        ctxt: dict[str, Any],
        publisher_id: str,
        event_type: str,
        payload: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        self.endpoint.cast_ping(ctxt, "", int(payload["seq"]), float(payload["sent"]))


def listener(args: argparse.Namespace) -> None:
    """A notification listener on `topic` (as ceilometer or searchlight consume `notifications.info`)."""
    import oslo_messaging

    transport = _transport(args.url[0], notifications=True)
    handler = NotificationEndpoint()
    server = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=args.topic)], [handler]
    )
    server.start()
    _answer({"ready": True})
    _serve(handler.endpoint)
    server.stop()
    server.wait()
    transport.cleanup()
    _answer({"stopped": True})


def notifier(args: argparse.Namespace) -> None:
    """Sends `info` notifications to `topic`, like a service's versioned notifications."""
    import oslo_messaging

    transport = _transport(args.url[0], notifications=True)
    sender = oslo_messaging.Notifier(
        transport, driver="messaging", publisher_id="wanstack-bench", topics=[args.topic]
    )
    _answer({"ready": True})
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("cmd") == "stop":
            break
        n, first = int(command.get("calls", 100)), int(command.get("first_seq", 0))
        pause = float(command.get("pause_ms", 0.0)) / 1000.0
        time.sleep(float(command.get("start_delay_ms", 0.0)) / 1000.0)
        padding = "x" * int(command.get("payload", 100))
        sent: list[float] = []
        failures: dict[str, int] = {}
        started = time.perf_counter()
        for i in range(n):
            start = time.perf_counter()
            try:
                sender.info({}, "wanstack.bench", {"seq": first + i, "sent": time.time(), "padding": padding})
                sent.append((time.perf_counter() - start) * 1000.0)
            except oslo_messaging.MessagingException as err:
                failures[type(err).__name__] = failures.get(type(err).__name__, 0) + 1
            if pause:
                time.sleep(pause)
        _answer(
            {
                "kind": "notify",
                "latencies_ms": sent,
                "failures": failures,
                "acknowledged": [],
                "elapsed_s": time.perf_counter() - started,
            }
        )
    transport.cleanup()
    _answer({"stopped": True})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m wanstack.bench.roles")
    parser.add_argument("role", choices=["rpc-server", "rpc-client", "notifier", "listener"])
    # A fanout client may name several: it sends each message on every one (servers on several buses).
    parser.add_argument("--url", required=True, action="append")
    parser.add_argument("--topic", default="wanstack-bench")
    parser.add_argument("--server", default=None)
    parser.add_argument("--work-ms", type=float, default=0.0)
    parser.add_argument("--durable", action="store_true", help="durable queues, persistent messages")
    args = parser.parse_args()
    global DURABLE  # noqa: PLW0603 - a process-wide oslo.config switch, set once from the command line
    DURABLE = args.durable
    # oslo.log would print to stderr on every reconnect; keep the control channel clean.
    import logging

    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    roles = {"rpc-server": rpc_server, "rpc-client": rpc_client, "notifier": notifier, "listener": listener}
    roles[args.role](args)


if __name__ == "__main__":
    main()
