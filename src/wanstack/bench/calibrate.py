"""`wanstack calibrate`: measure this machine's messaging costs and write them where the simulator
reads them.

Measured:
- the relay's own cost per traversal beyond its configured delay (`relay_probe`);
- a sequential oslo.messaging call's p50 with no delay (client next to the broker, server behind a
  0 ms relay): four client-library legs, two broker passes, two LAN and two relay traversals;
- RabbitMQ's CPU time per message, from the broker's processes' CPU counters during a burst of calls
  on several threads (each call = 2 messages through the broker).
Derived: the broker's service time (= CPU per message, one Erlang scheduler per core as workers), the
client-library cost per leg (what is left of the call's p50), and the WAN overhead per crossing.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from wanstack.bench.controller import RoleProcess
from wanstack.bench.rabbit import RabbitNode
from wanstack.bench.relay import DelayRelay, LinkShape
from wanstack.bench.relay_probe import measure as measure_relay
from wanstack.bench.twosite import rpc_across_link
from wanstack.sim.params import Params

TICKS = os.sysconf("SC_CLK_TCK")


def _session_cpu_s(session: int) -> float:
    """CPU seconds (user + system) of every live process in a session (the broker and its helpers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, ValueError, IndexError):
            continue
    return total


def broker_cpu_per_message(broker: RabbitNode, calls: int = 2000, threads: int = 8) -> tuple[float, float]:
    """(CPU ms per message in the broker, calls per second) during a burst of calls at 0 ms."""
    session = broker.pids()[0] if broker.pids() else 0
    with DelayRelay(broker.port, LinkShape()) as relay:
        far = f"rabbit://guest:guest@127.0.0.1:{relay.port}/"
        with (
            RoleProcess("rpc-server", far, server="cal") as _server,
            RoleProcess("rpc-client", broker.url, server="cal") as client,
        ):
            client.ask({"calls": 20})
            before = _session_cpu_s(session)
            result = client.ask({"calls": calls, "threads": threads})
            after = _session_cpu_s(session)
    done = len(result["latencies_ms"])
    return (after - before) * 1000.0 / max(1, 2 * done), done / result["elapsed_s"]


def calibrate(out: Path, progress: Any = None) -> dict[str, Any]:
    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    say("relay overhead")
    relay_0 = measure_relay(0.0)
    relay_far = [measure_relay(d) for d in (10.0, 25.0)]
    per_traversal_0 = relay_0.added_p50_ms / 2
    per_traversal = sum(r.added_p50_ms for r in relay_far) / (2 * len(relay_far))
    say("starting a RabbitMQ node")
    with RabbitNode(name="wanstack-calibrate") as broker:
        say("sequential calls at 0 ms")
        call = rpc_across_link(broker, LinkShape(delay_ms=0.0), calls=300)
        say("broker CPU per message")
        cpu_ms, calls_per_s = broker_cpu_per_message(broker)
    base = Params()
    broker_ms = max(cpu_ms, 0.01)
    client_ms = max(
        0.0,
        (
            call.p50_ms
            - 2 * broker_ms
            - 2 * base.lan_delay_ms
            - 2 * per_traversal_0
            - base.station("rpc-server").service_ms
        )
        / 4,
    )
    document: dict[str, Any] = {
        "written_by": "wanstack calibrate",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": os.uname().nodename,
        "cores": os.cpu_count(),
        "measured": {
            "call_p50_ms_at_0ms": round(call.p50_ms, 4),
            "call_p95_ms_at_0ms": round(call.p95_ms, 4),
            "relay_added_per_traversal_ms": round(per_traversal, 4),
            "relay_added_per_traversal_ms_at_0ms": round(per_traversal_0, 4),
            "relay_messages_per_s": round(relay_0.messages_per_s),
            "broker_cpu_ms_per_message": round(cpu_ms, 4),
            "calls_per_s_8_threads": round(calls_per_s, 1),
        },
        "params": {
            "rpc_client_ms": round(client_ms, 4),
            "wan_overhead_ms": round(per_traversal, 4),
            "stations": {"rpc-broker": {"workers": os.cpu_count() or 1, "service_ms": round(broker_ms, 4)}},
        },
    }
    out.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return document


def load_calibration(path: Path, base: Params | None = None, bench_host: bool = False) -> Params:
    """Simulator parameters with a calibration file's measured values applied. `bench_host`: also
    share the calibrated machine's cores among all processes, to predict the bench itself."""
    from dataclasses import replace

    from wanstack.scenario.schema import StationSize

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    values = data["params"]
    params = base or Params()
    params = replace(
        params,
        host_cores=int(data.get("cores") or 1) if bench_host else None,
        rpc_client_ms=float(values["rpc_client_ms"]),
        wan_overhead_ms=float(values.get("wan_overhead_ms", 0.0)),
    )
    sizes = {k: StationSize(**v) for k, v in values.get("stations", {}).items()}
    return params.with_overrides(sizes)
