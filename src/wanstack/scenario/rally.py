"""How Rally observes an operation's end (`observer: rally` of an operation in the workload).

Rally (rally_openstack/task/scenarios/nova/utils.py `_boot_server`, `_delete_server`, `_pause_server`,
`_unpause_server`; options in rally_openstack/common/cfg/nova.py) sleeps a pre-poll delay after the
request, then GETs the server until it is in the state it waits for, sleeping the poll interval
between GETs (rally's `utils.wait_for_status`: a GET at once, then one every interval). A delete has
no pre-poll sleep (`nova_server_delete_prepoll_delay` is defined but `_delete_server` does not use
it). Every iteration makes new clients, so a new Keystone token (rally_openstack/common/osclients.py:
a fresh keystoneauth session per `Clients`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wanstack.scenario.workload import OperationKind


@dataclass(frozen=True)
class RallyObservation:
    """Rally's pre-poll delay and poll interval for one operation (rally_openstack's defaults)."""

    prepoll_s: float
    interval_s: float


RALLY = {
    OperationKind.BOOT: RallyObservation(1.0, 2.0),  # nova_server_boot_prepoll_delay, _poll_interval
    OperationKind.DELETE: RallyObservation(0.0, 2.0),  # nova_server_delete_poll_interval
    OperationKind.PAUSE: RallyObservation(2.0, 2.0),  # nova_server_pause_prepoll_delay, _poll_interval
    OperationKind.UNPAUSE: RallyObservation(2.0, 2.0),  # nova_server_unpause_*
}


def rally_sees(rally: RallyObservation, returned: float, seen: float) -> float:
    """When Rally's first poll that can see a state the API shows from `seen` on starts: its polls
    start at `returned` (the request's answer) + the pre-poll delay and come every interval. Seconds or
    milliseconds alike, with `rally` in the same unit."""
    first = returned + rally.prepoll_s
    if seen <= first:
        return first
    return first + math.ceil((seen - first) / rally.interval_s) * rally.interval_s
