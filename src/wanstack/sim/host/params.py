"""The bench host's parameters: what `wanstack calibrate` measures and fits of the bench's machine."""

from __future__ import annotations

from dataclasses import dataclass

Points = tuple[tuple[float, float], ...]  # (x, factor) of a piecewise-linear `chains.Curve`

# The bench-host model's version: parameters fitted for another version mean other things (version 2,
# issue 20: warmth on receiving ends and broker passes only, since each process's last receive, on a
# logarithmic time axis; version 1 warmed every end by its process's last end of any kind).
HOST_MODEL = 2


@dataclass(frozen=True)
class BenchHost:
    """The bench's machine, as `wanstack calibrate` measures and fits it (`bench.calibrate`).

    `cores`: every simulated process shares this many CPU cores (None: the processes' CPU is not
    modelled, only the relays' timers: the workflow replay, whose roles are threads of one process).
    The rest is per message, on that machine:
    - `end_cpu_ms`: the CPU one library end really burns, of which `Params.rpc_client_ms` is on the
      message's own path and the rest (acks, thread hand-offs, heartbeat bookkeeping) only loads the
      cores (None: nothing beyond the path cost);
    - `end_cv`: how much a library end's path cost varies from message to message (coefficient of
      variation of a gamma law around its mean; 0: always the same);
    - `relay_cpu_ms`: a relay's CPU per WAN crossing; all relays are threads of one Python process;
    - `poll_wake_cpu_ms`: the CPU of one empty poll of a listener after a message (`polling`);
    - `relay_late_ms`: how late a delayed relay's timer fires, per crossing (a 0 ms relay has none);
    - `end_warmth`: (idle ms, factor), on a logarithmic time axis — a message costs a process more
      when it had long waited for one: a receiving end and a broker's pass pay it, by the time since
      that process last received a message; a sending end never does (its thread is running). In
      two runs of benchmarks/wakeups.py (2026-12-02), a cast 200 ms after the last was 0.2-0.5 ms
      faster when another pair kept the broker and relays busy, 0.5 ms faster again when the
      receiver was kept busy too, and 0-0.2 ms faster again when its sender was. Not because the
      machine idles: a call 200 ms after the last costs as much with another process waking the
      cores every 4 ms (benchmarks/warmth.py);
    - `end_crowding`: (message ends handled on the host since the process last received, factor), a
      receiving server's only — eight client/server pairs calling 200 ms apart have a p50 up to 30 %
      above a lone pair's on some machines, more than their load on the 2 cores explains, presumably
      because their working sets push the server's out of the caches (on others the crowd costs
      nothing more: docs/calibration.md, "Machines differ");
    - `end_crowding_spread`: (the same ends, factor of the CV), any receiving end's — nine more pairs
      calling 200 ms apart leave a call's p50 where it was but stretch its p95 by half
      (benchmarks/warmth.py). A receiving end's spread is that of its cold cost: warmth lowers the
      mean, not the variation.
    Empty curves: no dependence."""

    cores: int | None
    end_cpu_ms: float | None = None
    end_cv: float = 0.0
    relay_cpu_ms: float = 0.0
    poll_wake_cpu_ms: float = 0.0
    relay_late_ms: float = 0.0
    end_warmth: Points = ()
    end_crowding: Points = ()
    end_crowding_spread: Points = ()
