"""The simulator with the real control plane's processing: station service times taken from traced
operations, per operation (`wanstack testbed trace --save`; by default the stored traces of a boot
and a delete at an edge site, `tests/fixtures/trace-*-edge.json`), set beside the testbed's p50 from
a `benchmarks/testbed_wan.py --json` run, delay by delay.

    python benchmarks/testbed_processing.py TESTBED_WAN.json [--traces boot=F delete=F]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from testbed_wan import scenario  # the same scenario as the testbed's run (this folder)

from wanstack.scenario.load import parse
from wanstack.sim.engine import simulate
from wanstack.testbed.processing import mean_service_ms, service_times
from wanstack.testbed.trace import operation_spans, spans

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("testbed", type=Path, help="testbed_wan.py --json output")
    parser.add_argument(
        "--traces",
        nargs="+",
        default=[f"{op}={FIXTURES / f'trace-{op}-edge.json'}" for op in ("boot", "delete")],
    )
    parser.add_argument("--times", type=int, default=10)
    args = parser.parse_args()
    own: dict[str, dict[str, list[float]]] = {}
    for item in args.traces:
        op, _, path = item.partition("=")
        events = json.loads(Path(path).read_text())
        own[op] = service_times(op, operation_spans(op, spans([(e["site"], e) for e in events])))
    # Per operation: a boot's Neutron requests are mostly reads, a delete's are a port's deletion.
    stations = {op: mean_service_ms([times]) for op, times in own.items()}
    print("station service times from the traces (ms per request on the critical path):")
    for op, times in stations.items():
        print(f"  {op}: " + ", ".join(f"{kind} {ms:.1f}" for kind, ms in times.items()))
    heads = ("boot testbed", "boot sim", "error", "delete testbed", "delete sim", "error")
    print(f"{'delay':>6} " + " ".join(f"{h:>15}" for h in heads))
    for row in json.loads(args.testbed.read_text()):
        delay = float(row["delay_ms"])
        cells = []
        for op in ("boot", "delete"):
            block = "stations:\n" + "".join(
                f"  {kind}: {{service_ms: {ms:.2f}}}\n" for kind, ms in stations[op].items()
            )
            result = simulate(parse(scenario(delay, args.times) + block, "testbed-wan.yaml"))
            found = result.operation(op)
            assert found is not None and found.latency_ms.p50 is not None
            real, sim = float(row[f"testbed_{op}_p50"]), found.latency_ms.p50
            cells += [f"{real:>15,.0f}", f"{sim:>15,.0f}", f"{sim / real - 1:>+15.0%}"]
        print(f"{delay:>5g}ms " + " ".join(cells))


if __name__ == "__main__":
    main()
