"""When an operation is done for the service itself: the moment Nova writes the state a client waits
for, read in the cells' databases rather than through the API.

Polling `GET /servers/{id}` from the user's site (what a client does) sees the state late: a poll's
answer takes a round trip across the WAN and the polls come one poll period apart, so the state is
seen on average about two one-way delays and half an interval after it was written, and every poll
costs nova-api and Keystone CPU the operation itself competes for on a small machine. The simulator's
`api` observer is the write itself (`sim.workflows.Visible`): the testbed reads it where it happens.

The state is the `instances` row's `vm_state` (nova/objects/instance.py, written by the conductor's
`Instance.save`: `active` for ACTIVE, `paused`, `deleted` for DELETED — nova/api/openstack/common.py
`_STATE_MAP` maps them to the API's statuses); a server whose build failed has `vm_state` `error`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

# One SELECT on a local MariaDB costs about a millisecond of CPU in all: every 20 ms the moment of the
# write is known to ±10 ms (the midpoint of the last read without it and the first with it).
POLL_S = 0.02

# The API's status (the runner's targets) as Nova writes it (`vm_states`).
VM_STATE = {"ACTIVE": "active", "PAUSED": "paused", None: "deleted"}


def connect(url: str) -> Any:
    """A PyMySQL connection from an SQLAlchemy URL (`mysql+pymysql://user:pw@host:port/db`), in
    autocommit: each SELECT sees what was committed before it (InnoDB's repeatable read would keep
    showing the first read's snapshot inside one transaction)."""
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=parts.path.lstrip("/"),
        autocommit=True,
        connect_timeout=10,
    )


@dataclass
class StateWatch:
    """Nova's cell databases (cell0's included: a server that could not be scheduled lands there),
    reached directly, not across an emulated link."""

    databases: list[str]
    _where: dict[str, int] = field(default_factory=dict)  # server -> index of the database holding it

    def state(self, connections: list[Any], server: str) -> str | None:
        """The server's `vm_state`; `deleted` once its row is soft-deleted; None while no cell has it."""
        order = [self._where[server]] if server in self._where else range(len(connections))
        for i in order:
            with connections[i].cursor() as cursor:
                cursor.execute(
                    "SELECT vm_state, deleted FROM instances WHERE uuid = %s ORDER BY id DESC LIMIT 1",
                    (server,),
                )
                row = cursor.fetchone()
            if row is not None:
                self._where[server] = i
                vm_state, deleted = row
                return "deleted" if deleted else str(vm_state)
        return None

    def wait(self, server: str, target: str | None, timeout_s: float) -> float:
        """When (`time.monotonic()`) the server's `vm_state` became the one of `target` (an API status,
        None for DELETED): the midpoint between the last read without it and the first with it."""
        wanted = VM_STATE[target]
        connections = [connect(url) for url in self.databases]
        try:
            deadline = time.monotonic() + timeout_s
            last = time.monotonic()
            while time.monotonic() < deadline:
                state = self.state(connections, server)
                now = time.monotonic()
                if state == wanted:
                    return (last + now) / 2
                if state == "error":
                    raise RuntimeError("server in ERROR")
                last = now
                time.sleep(POLL_S)
        finally:
            for c in connections:
                c.close()
        raise TimeoutError(f"not {target or 'DELETED'} in {timeout_s:.0f} s")
