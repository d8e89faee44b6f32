"""What a message costs an oslo.messaging process on this machine, against how long the process has
been idle and how busy the others are — the two effects behind `Params.end_warmth` and
`Params.end_crowding`.

One client behind a 0 ms relay calls one server next to the broker (the calibration's pair), its calls
back to back, 20 ms and 200 ms apart, in three settings:
- alone;
- with a waker: another process that wakes every 4 ms and spins 0.3 ms, so the cores never idle long
  (if the cost of a pause came from idle cores — frequency, sleep states — it would vanish here);
- in a crowd: nine more client/server pairs calling 200 ms apart, as in the test plan's tc2.
The settings alternate over rounds, so that the machine's drift falls on each alike.

    python benchmarks/warmth.py [--rounds 2]

Needs rabbitmq-server (installed by `make test`); about 6 min with two rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np

from wanstack.bench.calibrate import PairRun, measure_pair, pooled
from wanstack.bench.controller import RoleProcess
from wanstack.lab.rabbit import RabbitNode

PAUSES_MS = (0.0, 20.0, 200.0)
CALLS = {0.0: 300, 20.0: 200, 200.0: 60}  # per round: each run lasts seconds
CROWD = 9  # other pairs: with the measured one, the test plan's ten
WAKER = """
import time
while True:
    time.sleep(0.004)
    start = time.perf_counter()
    while time.perf_counter() - start < 0.0003:
        pass
"""


@contextlib.contextmanager
def setting(broker: RabbitNode, name: str) -> Iterator[None]:
    """The other processes of a setting, running while the pair is measured."""
    with contextlib.ExitStack() as stack:
        if name == "waker":
            waker = subprocess.Popen([sys.executable, "-c", WAKER])
            stack.callback(waker.wait)
            stack.callback(waker.kill)
        elif name == "crowd":
            clients = []
            for i in range(CROWD):
                stack.enter_context(RoleProcess("rpc-server", broker.url, topic=f"crowd{i}", server="c"))
                clients.append(
                    stack.enter_context(RoleProcess("rpc-client", broker.url, topic=f"crowd{i}", server="c"))
                )
            for client in clients:
                # Calls 200 ms apart until the setting ends (more than it lasts), the clients' phases
                # spread over the pause as the bench's cases spread theirs: started in lockstep, they
                # would call in bursts and leave the measured pair a quiet machine in between.
                client.tell({"calls": 10_000, "kind": "call", "pause_ms": 200.0})
                stack.callback(client.stop_soon)
                time.sleep(0.2 / CROWD)
        yield


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = ("alone", "waker", "crowd")
    runs: dict[tuple[str, float], list[PairRun]] = {(s, p): [] for s in settings for p in PAUSES_MS}
    with RabbitNode(name="wanstack-bench-warmth") as broker:
        measure_pair(broker, "call", 100)  # warm-up: the broker's queues, the first connections
        for n in range(args.rounds):
            for name in settings:
                with setting(broker, name):
                    for pause in PAUSES_MS:
                        runs[name, pause].append(measure_pair(broker, "call", CALLS[pause], pause))
                print(f"round {n + 1}/{args.rounds}: {name} done", file=sys.stderr, flush=True)
    print("p50 (p95) of a call, ms, and CPU per call of the client + server, ms; per-round p50s in []")
    print(f"{'setting':<8}" + "".join(f"{f'{p:.0f} ms apart':>34}" for p in PAUSES_MS))
    for name in settings:
        cells = []
        for pause in PAUSES_MS:
            r = pooled(runs[name, pause])
            spread = "-".join(f"{x.p50_ms:.2f}" for x in runs[name, pause])
            cells.append(f"{r.p50_ms:5.2f} ({r.p95_ms:5.2f}) {r.library:5.2f} [{spread}]")
        print(f"{name:<8}" + "".join(f"{c:>34}" for c in cells))
    alone, crowd = (float(np.median([r.p50_ms for r in runs[s, 200.0]])) for s in ("alone", "crowd"))
    print(f"crowd / alone at 200 ms apart (p50): {crowd / alone:.2f}")


if __name__ == "__main__":
    main()
