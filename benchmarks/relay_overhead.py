"""What the user-space WAN relay adds beyond the delay it is told to add, and what it can carry: with
TCP's window (the relay's default: a pipelined burst over a delayed link waits for its slow start)
and without it (the relay's own capacity).

python benchmarks/relay_overhead.py
"""

from __future__ import annotations

from wanstack.lab.relay import TcpWindow
from wanstack.lab.relay_probe import measure


def main() -> None:
    print(f"{'window':>7} {'delay':>8} {'added p50':>10} {'added p99':>10} {'msgs/s':>10}   (per round trip)")
    for name, window in (("tcp", TcpWindow()), ("none", None)):
        for delay in (0.0, 10.0, 25.0):
            r = measure(delay, window=window)
            print(
                f"{name:>7} {delay:>6.0f}ms {r.added_p50_ms:>8.2f}ms {r.added_p99_ms:>8.2f}ms"
                f" {r.messages_per_s:>10,.0f}"
            )


if __name__ == "__main__":
    main()
