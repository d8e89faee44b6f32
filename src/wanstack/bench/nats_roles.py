"""The bench roles on NATS: rpc-server, rpc-client, notifier, listener, driven exactly as the
oslo.messaging ones (`bench.roles`: same command line, same JSON-line commands and answers), so a
test case runs unchanged on either bus.

No oslo.messaging driver speaks NATS (shared domain notes §9); the roles map its patterns onto NATS
the way its RabbitMQ driver maps them onto exchanges and queues:
- call / cast to a server: subject `openstack.<topic>.<server>`; to a topic: `openstack.<topic>`,
  consumed by a queue group (one server of the topic gets it, like the shared topic queue);
- fanout: subject `openstack.<topic>_fanout`, every server subscribed without a group;
- a call's reply: NATS request/reply (an inbox subject per client, like the `reply_<uuid>` queue);
- notifications: subject `<topic>.info`, consumed by a queue group (listeners of a pool share it);
- a cast or a notification returns once the server has it: publish then flush (a PING answered by a
  PONG after the server has processed everything before it), where oslo.messaging's rabbit driver
  waits for the publisher confirm.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg

from wanstack.bench.roles import PingEndpoint, _answer


async def _connect(url: str) -> Client:
    # Reconnect for ever, quickly: a broker restart or a link cut is what the resilience case is for.
    return await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, name="wanstack-bench")


async def _commands() -> Any:
    """The controller's commands, one JSON line each, read without blocking the event loop."""
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        yield json.loads(line)


async def _serve(endpoint: PingEndpoint) -> None:
    async for command in _commands():
        if command.get("cmd") == "stats":
            _answer(endpoint.stats(int(command.get("min_seq", 0))))
        elif command.get("cmd") == "reset":
            endpoint.reset()
            _answer({"reset": True})
        elif command.get("cmd") == "stop":
            break


async def rpc_server(args: argparse.Namespace) -> None:
    nc = await _connect(args.url[0])
    endpoint = PingEndpoint(0.0)

    async def handle(msg: Msg) -> None:
        body = json.loads(msg.data)
        if body["method"] == "ping":
            endpoint.calls += 1
            if args.work_ms:
                await asyncio.sleep(args.work_ms / 1000.0)
            await msg.respond(json.dumps({"result": len(body["args"]["payload"])}).encode())
        else:
            endpoint.cast_ping({}, **body["args"])

    await nc.subscribe(f"openstack.{args.topic}", queue=args.topic, cb=handle)
    await nc.subscribe(f"openstack.{args.topic}_fanout", cb=handle)
    if args.server:
        await nc.subscribe(f"openstack.{args.topic}.{args.server}", cb=handle)
    await nc.flush()  # the subscriptions are on the server before the controller hears "ready"
    _answer({"ready": True})
    await _serve(endpoint)
    await nc.drain()
    _answer({"stopped": True, "calls": endpoint.calls, "casts": endpoint.casts})


async def listener(args: argparse.Namespace) -> None:
    nc = await _connect(args.url[0])
    endpoint = PingEndpoint(0.0)

    async def handle(msg: Msg) -> None:
        payload = json.loads(msg.data)["payload"]
        endpoint.cast_ping({}, "", int(payload["seq"]), float(payload["sent"]))

    await nc.subscribe(f"{args.topic}.info", queue=f"{args.topic}.info", cb=handle)
    await nc.flush()
    _answer({"ready": True})
    await _serve(endpoint)
    await nc.drain()
    _answer({"stopped": True})


async def rpc_client(args: argparse.Namespace) -> None:
    connections = [await _connect(url) for url in args.url]
    _answer({"ready": True})
    async for command in _commands():
        if command.get("cmd") == "stop":
            break
        _answer(await _run_calls(connections, args, command))
    for nc in connections:
        await nc.drain()
    _answer({"stopped": True})


async def notifier(args: argparse.Namespace) -> None:
    connections = [await _connect(url) for url in args.url]
    _answer({"ready": True})
    async for command in _commands():
        if command.get("cmd") == "stop":
            break
        _answer(await _run_calls(connections, args, {**command, "kind": "notify"}))
    for nc in connections:
        await nc.drain()
    _answer({"stopped": True})


async def _run_calls(
    connections: list[Client], args: argparse.Namespace, command: dict[str, Any]
) -> dict[str, Any]:
    """As `bench.roles._run_calls`: `calls` messages, `pause_ms` apart, on `threads` concurrent tasks;
    each goes out on every connection (servers on several buses) and counts once all returned."""
    kind = command.get("kind", "call")
    n = int(command.get("calls", 100))
    padding = "x" * int(command.get("payload", 100))
    pause = float(command.get("pause_ms", 0.0)) / 1000.0
    threads = int(command.get("threads", 1))
    timeout = float(command.get("timeout_s", 30.0))
    if kind == "notify":
        subject = f"{args.topic}.info"
    elif command.get("fanout"):
        subject = f"openstack.{args.topic}_fanout"
    else:
        subject = f"openstack.{args.topic}" + (f".{args.server}" if args.server else "")
    latencies: list[float] = []
    done_at: list[float] = []
    acknowledged: list[int] = []
    failures: dict[str, int] = {}

    async def send(nc: Client, seq: int) -> None:
        if kind == "call":
            body = {"method": "ping", "args": {"payload": padding}}
            await nc.request(subject, json.dumps(body).encode(), timeout=timeout)
            return
        if kind == "notify":
            body = {
                "event_type": "wanstack.bench",
                "payload": {"seq": seq, "sent": time.time(), "padding": padding},
            }
        else:
            body = {"method": "cast_ping", "args": {"payload": padding, "seq": seq, "sent": time.time()}}
        await nc.publish(subject, json.dumps(body).encode())
        await nc.flush(timeout=max(1, int(timeout)))

    async def worker(count: int, offset: int) -> None:
        for i in range(count):
            if deadline is not None and time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            try:
                await asyncio.gather(*(send(nc, offset + i) for nc in connections))
                latencies.append((time.perf_counter() - start) * 1000.0)
                done_at.append(time.time())
                acknowledged.append(offset + i)
            except (TimeoutError, nats.errors.Error) as err:
                failures[type(err).__name__] = failures.get(type(err).__name__, 0) + 1
            if pause:
                await asyncio.sleep(pause)

    await asyncio.sleep(float(command.get("start_delay_ms", 0.0)) / 1000.0)
    started = time.perf_counter()
    deadline = started + float(command["duration_s"]) if "duration_s" in command else None
    share = [n // threads + (1 if t < n % threads else 0) for t in range(threads)]
    first = int(command.get("first_seq", 0))
    await asyncio.gather(*(worker(c, first + sum(share[:t])) for t, c in enumerate(share)))
    return {
        "kind": kind,
        "acknowledged": acknowledged,
        "latencies_ms": latencies,
        "done_at": done_at,
        "failures": failures,
        "elapsed_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m wanstack.bench.nats_roles")
    parser.add_argument("role", choices=["rpc-server", "rpc-client", "notifier", "listener"])
    parser.add_argument("--url", required=True, action="append")
    parser.add_argument("--topic", default="wanstack-bench")
    parser.add_argument("--server", default=None)
    parser.add_argument("--work-ms", type=float, default=0.0)
    parser.add_argument("--durable", action="store_true", help="accepted for the same command line; unused")
    args = parser.parse_args()
    roles = {"rpc-server": rpc_server, "rpc-client": rpc_client, "notifier": notifier, "listener": listener}
    asyncio.run(roles[args.role](args))


if __name__ == "__main__":
    main()
