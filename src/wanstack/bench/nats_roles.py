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

from wanstack.bench.roles import CallPlan, CallTally, PingEndpoint, role_parser, tell_controller


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
        if not endpoint.command(command):
            break


async def rpc_server(args: argparse.Namespace) -> None:
    """An rpc-server on NATS: answers calls and counts casts sent to its topic (one server of the topic's
    queue group gets each), to itself (`--server`) and to the topic's fanout, until the controller says
    stop."""
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
    tell_controller({"ready": True})
    await _serve(endpoint)
    await nc.drain()
    tell_controller({"stopped": True, "calls": endpoint.calls, "casts": endpoint.casts})


async def listener(args: argparse.Namespace) -> None:
    """A notification listener on NATS: consumes `<topic>.info` in the topic's queue group and notes each
    notification's one-way latency, until the controller says stop."""
    nc = await _connect(args.url[0])
    endpoint = PingEndpoint(0.0)

    async def handle(msg: Msg) -> None:
        payload = json.loads(msg.data)["payload"]
        endpoint.cast_ping({}, "", int(payload["seq"]), float(payload["sent"]))

    await nc.subscribe(f"{args.topic}.info", queue=f"{args.topic}.info", cb=handle)
    await nc.flush()
    tell_controller({"ready": True})
    await _serve(endpoint)
    await nc.drain()
    tell_controller({"stopped": True})


async def rpc_client(args: argparse.Namespace, kind: str | None = None) -> None:
    """An rpc-client; with `kind="notify"`, a notifier (the same loop, notifications)."""
    connections = [await _connect(url) for url in args.url]
    tell_controller({"ready": True})
    async for command in _commands():
        if command.get("cmd") == "stop":
            break
        tell_controller(
            await _run_calls(connections, args, CallPlan.of({**command, **({"kind": kind} if kind else {})}))
        )
    for nc in connections:
        await nc.drain()
    tell_controller({"stopped": True})


async def notifier(args: argparse.Namespace) -> None:
    """A notifier on NATS: the rpc-client's loop, sending notifications."""
    await rpc_client(args, kind="notify")


async def _run_calls(connections: list[Client], args: argparse.Namespace, plan: CallPlan) -> dict[str, Any]:
    """As `bench.roles._run_calls`, on concurrent tasks: each message goes out on every connection
    (servers on several buses) and counts once all returned."""
    if plan.kind == "notify":
        subject = f"{args.topic}.info"
    elif plan.fanout:
        subject = f"openstack.{args.topic}_fanout"
    else:
        subject = f"openstack.{args.topic}" + (f".{args.server}" if args.server else "")
    tally = CallTally()

    async def send(nc: Client, seq: int) -> None:
        if plan.kind == "call":
            body = {"method": "ping", "args": {"payload": plan.payload}}
            await nc.request(subject, json.dumps(body).encode(), timeout=plan.timeout_s)
            return
        if plan.kind == "notify":
            sent = {"seq": seq, "sent": time.time(), "padding": plan.payload}
            body = {"event_type": "wanstack.bench", "payload": sent}
        else:
            body = {"method": "cast_ping", "args": {"payload": plan.payload, "seq": seq, "sent": time.time()}}
        await nc.publish(subject, json.dumps(body).encode())
        await nc.flush(timeout=max(1, int(plan.timeout_s)))

    async def worker(count: int, first: int) -> None:
        for seq in range(first, first + count):
            if deadline is not None and time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            try:
                await asyncio.gather(*(send(nc, seq) for nc in connections))
                tally.succeeded(seq, start)
            except (TimeoutError, nats.errors.Error) as err:
                tally.failed(err)
            if plan.pause_s:
                await asyncio.sleep(plan.pause_s)

    await asyncio.sleep(plan.start_delay_s)
    started = time.perf_counter()
    deadline = started + plan.duration_s if plan.duration_s is not None else None
    await asyncio.gather(*(worker(*share) for share in plan.shares()))
    return tally.answer(plan.kind, time.perf_counter() - started)


def main() -> None:
    """`python -m wanstack.bench.nats_roles ROLE --url ...`: run one role on NATS (the command line of
    `bench.roles`; `--durable` means nothing here)."""
    args = role_parser("python -m wanstack.bench.nats_roles").parse_args()  # --durable: no meaning here
    roles = {"rpc-server": rpc_server, "rpc-client": rpc_client, "notifier": notifier, "listener": listener}
    asyncio.run(roles[args.role](args))


if __name__ == "__main__":
    main()
