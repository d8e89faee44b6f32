"""One user request in the simulator (a boot, a delete, ...) and how it ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wanstack.scenario.workload import Operation as OperationSpec
from wanstack.scenario.workload import OperationKind

if TYPE_CHECKING:
    from wanstack.sim.locks import HostLock
    from wanstack.sim.message import Hop


@dataclass(slots=True)
class Operation:
    """One user request in progress (`kind` at target `site`, started at `start` ms) and how it ended:
    `outcome` is "" until then, then "ok", "failed" (with its `reason`) or "timeout"; `host` and `instance`
    are the compute host and server it was given (-1: none yet)."""

    kind: OperationKind
    site: str
    spec: OperationSpec
    start: float
    done: Callable[[Operation], None]
    outcome: str = ""  # "", "ok", "failed", "timeout"
    reason: str = ""
    end: float = 0.0
    host: int = -1
    instance: int = -1
    tail: bool = False  # done as the client sees it; the steps after `Visible` are running
    returned: float = -1.0  # when the user's request was answered (its first REST exchange)
    answer: Hop | None = None  # the way back of a request `answered_later`, until `Respond`
    holding: list[HostLock] | None = None  # the host's locks it holds (let go if it fails)
    rally_end: float = -1.0  # observer rally: when Rally's poll saw the operation done
