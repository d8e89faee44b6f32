"""A compute host's locks in simulated time: a number of slots, the operations that want one waiting
in line (eventlet's `Semaphore`, which nova-compute's locks are, wakes its waiters first come, first
served)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from wanstack.sim.kernel import Simulator


@dataclass
class HostLock:
    """One lock of one compute host: `free` slots left, and the operations waiting for one in arrival
    order."""

    sim: Simulator
    free: int
    waiting: deque[Callable[[], None]] = field(default_factory=deque)

    def acquire(self, granted: Callable[[], None]) -> None:
        """`granted` runs once a slot is had: now, or when a holder lets one go."""
        if self.free > 0:
            self.free -= 1
            granted()
        else:
            self.waiting.append(granted)

    def release(self) -> None:
        if self.waiting:
            # The slot passes to the next in line, on its own event (not inside the releaser's).
            self.sim.after(0.0, lambda _: self.waiting.popleft()())
        else:
            self.free += 1
