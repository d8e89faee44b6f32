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
from dataclasses import dataclass, field
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

    def command(self, command: dict[str, Any]) -> bool:
        """Answer one of the controller's commands to a server (stats, reset); False on stop."""
        if command.get("cmd") == "stats":
            tell_controller(self.stats(int(command.get("min_seq", 0))))
        elif command.get("cmd") == "reset":
            self.reset()
            tell_controller({"reset": True})
        return command.get("cmd") != "stop"

    def reset(self) -> None:
        self.seen.clear()
        self.one_way_ms.clear()
        self.received_at.clear()
        self.duplicates = self.calls = self.casts = 0


def _serve(endpoint: PingEndpoint) -> None:
    """Answer the controller's commands (stats, reset) until it says stop."""
    for line in sys.stdin:
        if not endpoint.command(json.loads(line)):
            break


def rpc_server(args: argparse.Namespace) -> None:
    """An oslo.messaging RPC server on `--topic` and `--server` answering `ping` calls and counting
    `cast_ping` casts (`PingEndpoint`), until the controller says stop."""
    import oslo_messaging

    transport = _transport(args.url[0])
    endpoint = PingEndpoint(args.work_ms)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    server = oslo_messaging.get_rpc_server(transport, target, [endpoint])
    server.start()
    tell_controller({"ready": True})
    _serve(endpoint)
    server.stop()
    server.wait()
    transport.cleanup()
    tell_controller({"stopped": True, "calls": endpoint.calls, "casts": endpoint.casts})


def rpc_client(args: argparse.Namespace) -> None:
    """An oslo.messaging RPC client: runs each command's calls or casts (`CallPlan`) and answers with their
    tally; with several `--url`s, each message goes out on every bus at once."""
    import oslo_messaging

    transports = [_transport(url) for url in args.url]
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    clients = [oslo_messaging.get_rpc_client(t, target) for t in transports]
    tell_controller({"ready": True})
    # One thread per further bus: a message goes out on every bus at once, as Nova scatters a request
    # over its cells (nova/context.py, scatter_gather_cells).
    with ThreadPoolExecutor(max_workers=max(1, len(clients) - 1)) as pool:
        for line in sys.stdin:
            command = json.loads(line)
            if command.get("cmd") == "stop":
                break
            tell_controller(_run_calls(clients, command, pool))
    for t in transports:
        t.cleanup()
    tell_controller({"stopped": True})


@dataclass
class CallPlan:
    """What a client command asks for (the same on every bus): `calls` messages of `kind` ("call",
    "cast" or "notify") with a `payload`-byte string, `pause_ms` apart, on `threads` concurrent
    senders, the first after `start_delay_ms`; with `duration_s`, messages go on until then (`calls`
    is then an upper bound: a fault case keeps the traffic up for a fixed time whatever the calls that
    time out cost). Sequence numbers start at `first_seq`."""

    kind: str
    calls: int
    payload: str
    pause_s: float
    threads: int
    timeout_s: float
    fanout: bool
    start_delay_s: float
    duration_s: float | None
    first_seq: int

    @classmethod
    def of(cls, command: dict[str, Any]) -> CallPlan:
        return cls(
            kind=command.get("kind", "call"),
            calls=int(command.get("calls", 100)),
            payload="x" * int(command.get("payload", 100)),
            pause_s=float(command.get("pause_ms", 0.0)) / 1000.0,
            threads=int(command.get("threads", 1)),
            timeout_s=float(command.get("timeout_s", 30.0)),
            fanout=bool(command.get("fanout", False)),
            start_delay_s=float(command.get("start_delay_ms", 0.0)) / 1000.0,
            duration_s=float(command["duration_s"]) if "duration_s" in command else None,
            first_seq=int(command.get("first_seq", 0)),
        )

    def shares(self) -> list[tuple[int, int]]:
        """(messages, first sequence number) of each sender."""
        n, k = self.calls, self.threads
        counts = [n // k + (1 if t < n % k else 0) for t in range(k)]
        return [(c, self.first_seq + sum(counts[:t])) for t, c in enumerate(counts)]


@dataclass
class CallTally:
    """What a client measured; `answer()` is its reply to the controller."""

    latencies_ms: list[float] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # wall-clock end of each success (recovery)
    acknowledged: list[int] = field(default_factory=list)  # messages whose send returned without error
    failures: dict[str, int] = field(default_factory=dict)

    def succeeded(self, seq: int, start: float) -> None:
        self.latencies_ms.append((time.perf_counter() - start) * 1000.0)
        self.done_at.append(time.time())
        self.acknowledged.append(seq)

    def failed(self, err: BaseException) -> None:
        self.failures[type(err).__name__] = self.failures.get(type(err).__name__, 0) + 1

    def answer(self, kind: str, elapsed_s: float) -> dict[str, Any]:
        return {
            "kind": kind,
            "acknowledged": self.acknowledged,
            "latencies_ms": self.latencies_ms,
            "done_at": self.done_at,
            "failures": self.failures,
            "elapsed_s": elapsed_s,
        }


def _run_calls(clients: list[Any], command: dict[str, Any], pool: Executor) -> dict[str, Any]:
    """The command's calls or casts (`CallPlan`), each sender on a thread of its own; latencies in ms
    of the successful ones, and the failures by exception name. With several clients (buses) each
    message goes to all of them, and counts once all returned."""
    import oslo_messaging

    plan = CallPlan.of(command)
    prepared = [
        client.prepare(timeout=plan.timeout_s, fanout=True)
        if plan.fanout
        else client.prepare(timeout=plan.timeout_s)
        for client in clients
    ]

    def send(one: Any, seq: int) -> None:
        if plan.kind == "call":
            one.call({}, "ping", payload=plan.payload)
        else:
            one.cast({}, "cast_ping", payload=plan.payload, seq=seq, sent=time.time())

    def send_all(seq: int) -> None:
        others = [pool.submit(send, one, seq) for one in prepared[1:]]
        send(prepared[0], seq)
        for f in others:
            f.result()

    tally = CallTally()
    lock = threading.Lock()

    def worker(count: int, first: int) -> None:
        for seq in range(first, first + count):
            if deadline is not None and time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            try:
                send_all(seq)
                with lock:
                    tally.succeeded(seq, start)
            except oslo_messaging.MessagingException as err:
                with lock:
                    tally.failed(err)
            if plan.pause_s:
                time.sleep(plan.pause_s)

    time.sleep(plan.start_delay_s)
    started = time.perf_counter()
    deadline = started + plan.duration_s if plan.duration_s is not None else None
    workers = [threading.Thread(target=worker, args=share) for share in plan.shares()]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return tally.answer(plan.kind, time.perf_counter() - started)


def tell_controller(obj: dict[str, Any]) -> None:
    """Send one JSON line to the controller (the role's stdout)."""
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
    tell_controller({"ready": True})
    _serve(handler.endpoint)
    server.stop()
    server.wait()
    transport.cleanup()
    tell_controller({"stopped": True})


def notifier(args: argparse.Namespace) -> None:
    """Sends `info` notifications to `topic`, like a service's versioned notifications."""
    import oslo_messaging

    transport = _transport(args.url[0], notifications=True)
    sender = oslo_messaging.Notifier(
        transport, driver="messaging", publisher_id="wanstack-bench", topics=[args.topic]
    )
    tell_controller({"ready": True})
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("cmd") == "stop":
            break
        plan = CallPlan.of(command)
        tally = CallTally()
        time.sleep(plan.start_delay_s)
        started = time.perf_counter()
        for seq in range(plan.first_seq, plan.first_seq + plan.calls):  # one after the other
            start = time.perf_counter()
            try:
                sender.info({}, "wanstack.bench", {"seq": seq, "sent": time.time(), "padding": plan.payload})
                tally.succeeded(seq, start)
            except oslo_messaging.MessagingException as err:
                tally.failed(err)
            if plan.pause_s:
                time.sleep(plan.pause_s)
        tell_controller(tally.answer("notify", time.perf_counter() - started))
    transport.cleanup()
    tell_controller({"stopped": True})


def role_parser(prog: str) -> argparse.ArgumentParser:
    """The roles' command line, the same for every bus (`bench.controller` builds it)."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("role", choices=["rpc-server", "rpc-client", "notifier", "listener"])
    # A fanout client may name several: it sends each message on every one (servers on several buses).
    parser.add_argument("--url", required=True, action="append")
    parser.add_argument("--topic", default="wanstack-bench")
    parser.add_argument("--server", default=None)
    parser.add_argument("--work-ms", type=float, default=0.0)
    parser.add_argument("--durable", action="store_true", help="durable queues, persistent messages")
    return parser


def main() -> None:
    """`python -m wanstack.bench.roles ROLE --url ...`: run one role on oslo.messaging, answering the
    controller on stdout (oslo's logs go to stderr, errors only)."""
    args = role_parser("python -m wanstack.bench.roles").parse_args()
    global DURABLE  # noqa: PLW0603 - a process-wide oslo.config switch, set once from the command line
    DURABLE = args.durable
    # oslo.log would print to stderr on every reconnect; keep the control channel clean.
    import logging

    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    roles = {"rpc-server": rpc_server, "rpc-client": rpc_client, "notifier": notifier, "listener": listener}
    roles[args.role](args)


if __name__ == "__main__":
    main()
