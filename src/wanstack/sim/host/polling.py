"""oslo.messaging's listener poll back-off, as CPU load on the bench's shared host.

An RPC server's listener and an RPC client's reply waiter each poll their connection with a timeout
that restarts at 1 ms after every message and doubles after every empty poll, up to 5 s
(oslo_messaging/_drivers/amqpdriver.py: ACK_REQUEUE_EVERY_SECONDS_MIN = 0.001,
ACK_REQUEUE_EVERY_SECONDS_MAX = 5.0, in AMQPListener.poll and ReplyWaiter.poll). So after each message
a listener wakes at +1, +3, +7, +15, … ms, and every wake runs a round of Python (kombu's drain with a
timeout, the exception it raises, oslo's translation of it). On a real control plane that is noise; on
the bench's 2 cores, with a listener per process and 50 ms between messages, it is most of the CPU a
message costs (`wanstack calibrate` measures it), and it delays everyone else's messages.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from wanstack.sim.kernel import Simulator
from wanstack.sim.stations import Station

FIRST_TIMEOUT_MS = 1.0  # ACK_REQUEUE_EVERY_SECONDS_MIN
MAX_TIMEOUT_MS = 5_000.0  # ACK_REQUEUE_EVERY_SECONDS_MAX


def wakes_within(gap_ms: float) -> int:
    """Empty polls a listener makes in `gap_ms` between two messages (wakes at 1, 3, 7, … ms)."""
    wakes, timeout, at = 0, FIRST_TIMEOUT_MS, FIRST_TIMEOUT_MS
    while at < gap_ms:
        wakes += 1
        timeout = min(timeout * 2, MAX_TIMEOUT_MS)
        at += timeout
    return wakes


Wake = Callable[[Hashable, float], None]  # (listener, CPU ms): run one empty poll


class PollBackoff:
    """Each listener's empty polls after its last message, each a `wake_cpu_ms` job on `cpu` (or given
    to `run`: in the listener's own process, whose interpreter it holds meanwhile). The schedule
    stops once the timeout reaches its 5 s cap (a wake every 5 s costs nothing measurable)."""

    __slots__ = ("cpu", "generation", "run", "sim", "wake_cpu_ms")

    def __init__(self, sim: Simulator, cpu: Station, wake_cpu_ms: float, run: Wake | None = None) -> None:
        self.sim = sim
        self.cpu = cpu
        self.wake_cpu_ms = wake_cpu_ms
        self.run = run
        self.generation: dict[Hashable, int] = {}

    def message(self, listener: Hashable) -> None:
        """A message reached `listener`: its poll timeout restarts at 1 ms."""
        generation = self.generation.get(listener, 0) + 1
        self.generation[listener] = generation
        self.sim.after(FIRST_TIMEOUT_MS, self._wake, (listener, generation, FIRST_TIMEOUT_MS))

    def _wake(self, arg: tuple[Hashable, int, float]) -> None:
        listener, generation, timeout = arg
        if self.generation[listener] != generation:
            return  # a message came first: that poll returned it, and the schedule restarted
        if self.run is not None:
            self.run(listener, self.wake_cpu_ms)
        else:
            self.cpu.submit(self.wake_cpu_ms, do_nothing, None)
        timeout *= 2
        if timeout < MAX_TIMEOUT_MS:
            self.sim.after(timeout, self._wake, (listener, generation, timeout))


def do_nothing(_: Any) -> None:
    """What a CPU job calls when it is done and nobody waits for it (an empty poll's wake-up, a relay's
    work)."""
    pass
