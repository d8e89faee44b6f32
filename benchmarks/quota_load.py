"""The quota service under load (`quotabench/load.py`): 1,000 clients at once, each on a keep-alive
connection of its own, claiming a server, holding it an exponential 1 s and releasing it, or waiting an
exponential 1 s after a refusal, against a global limit of 100 servers, with a real Keystone and the
coordinator at the top site and each region's service behind relays of 10 ms one way:

1. one region;
2. two regions (the clients split evenly);
3. two regions, edge-1 killed with kill -9 40 % into the run and started again 3 s later;
4. two regions, the coordinator killed the same way.

Each run prints what the clients saw (claims, connection errors and 5xx, p50/p99 of a claim from its
first send to its final answer, retries included) and what the regions' databases hold afterwards: the
most servers held at once (over-commit: above the limit), the clients' grants matched with the rows by
Idempotency-Key (lost, counted twice, held for nobody, a release lost), and whether the coordinator's
books agree with the databases once every region has synced.

    .venv/bin/python benchmarks/quota_load.py [--quick] [--clients N] [--limit L] [--duration S]
        [--runs "one region,two regions,region killed,coordinator killed"] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wanstack.lab.keystone import KeystoneServer
from wanstack.quotabench.load import LoadBench
from wanstack.quotabench.sites import prepare

CLIENT_ROWS = [
    ("clients", "clients"),
    ("claims", "claims"),
    ("granted", "granted"),
    ("refused", "refused"),
    ("unanswered", "unanswered"),
    ("connections", "connections opened"),
    ("connection errors", "connection errors (resets …)"),
    ("connection errors during faults", "… of which while a service was down"),
    ("server errors", "server errors (5xx)"),
    ("retried claims", "claims retried"),
    ("replayed claims", "… granted before, told by a retry"),
    ("p50 ms", "claim p50 ms"),
    ("p99 ms", "claim p99 ms"),
    ("max ms", "claim max ms"),
    ("p99 ms away from faults", "claim p99 ms, clients not caught by the fault"),
]
DATABASE_ROWS = [
    ("limit", "limit"),
    ("peak held", "peak held (databases)"),
    ("over-commit", "over-commit"),
    ("lost", "granted, no row (lost)"),
    ("counted twice", "a key with two rows"),
    ("held for nobody", "rows no client saw granted"),
    ("release lost", "releases answered, not written"),
    ("held at the end", "held at the end"),
    ("pool + granted = limit", "coordinator: pool + grants = limit"),
    ("reported usage = databases", "coordinator: usage = databases"),
]


def _cell(value: Any) -> str:
    match value:
        case bool():
            return "yes" if value else "NO"
        case float():
            return f"{value:.1f}"
        case None:
            return "–"
        case _:
            return str(value)


def table(results: dict[str, dict[str, Any]], rows: list[tuple[str, str]]) -> str:
    """A Markdown table: a row per figure, a column per run."""
    names = list(results)
    lines = [
        "| | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---:" for _ in names) + " |",
    ]
    for key, label in rows:
        lines.append(f"| {label} | " + " | ".join(_cell(results[n].get(key)) for n in names) + " |")
    return "\n".join(lines)


def main() -> None:
    warnings.simplefilter("ignore")  # openstacksdk's deprecation chatter
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per run")
    ap.add_argument("--runs", default=",".join(LoadBench.runs))
    ap.add_argument("--quick", action="store_true", help="100 clients, a limit of 10, 10 s per run")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.limit, args.duration = 100, 10, 10.0
    bench = LoadBench(
        clients=args.clients,
        limit=args.limit,
        duration_s=args.duration,
        runs=tuple(r.strip() for r in args.runs.split(",") if r.strip()),
    )
    started = datetime.now(UTC)
    wall = time.monotonic()
    with KeystoneServer() as keystone:
        cloud = prepare(keystone, ["edge-1", "edge-2"])
        results = bench.run(keystone, cloud)
    machine = f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\n{started:%Y-%m-%d %H:%M} UTC, {machine}; {time.monotonic() - wall:.0f} s in all")
    print(f"{bench.clients} clients, limit {bench.limit}, {bench.duration_s:g} s per run\n")
    print("What the clients saw:\n")
    print(table(results, CLIENT_ROWS))
    print("\nWhat the databases hold afterwards:\n")
    print(table(results, DATABASE_ROWS))
    for name, figures in results.items():
        if figures["errors by kind"] or figures["events"]:
            print(f"\n{name}: errors {figures['errors by kind']}; events {figures['events']}")
    if args.out is not None:
        report = {
            "started": started.isoformat(),
            "machine": machine,
            "bench": bench.__dict__,
            "runs": results,
        }
        args.out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
