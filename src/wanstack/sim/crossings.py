"""Count the one-way WAN crossings on an operation's critical path, from the workflow alone.

This is the analytic counterpart of the simulation: for a boot at an edge site in the centralized
model, latency grows by (crossings × one-way delay), which the tests check against the simulator.
A cast counts once, a call or HTTP exchange twice, a bulk transfer twice (request, last byte), a
notification through a remote broker twice (the sender waits for the broker's publisher confirm);
tokens are assumed cached (steady state).
"""

from __future__ import annotations

from wanstack.scenario.services import NotificationBackend
from wanstack.sim.context import Roles
from wanstack.sim.messaging import Messaging
from wanstack.sim.workflows import (
    Call,
    Cast,
    Db,
    FetchImage,
    Http,
    Notify,
    Parallel,
    Role,
    Step,
)


def _hops_crossing(hops: tuple[tuple[str, str, object], ...]) -> int:
    return sum(1 for a, b, _ in hops if a != b)


def step_rows(
    steps: tuple[Step, ...], site: str, roles: Roles, messaging: Messaging, depth: int = 0
) -> list[tuple[str, str, int]]:
    """(indented step description, "from → to" sites, one-way crossings) for every step, for reading."""
    where = roles.of(site)
    rows: list[tuple[str, str, int]] = []
    pad = "  " * depth
    for step in steps:
        if isinstance(step, Parallel):
            rows.append((f"{pad}in parallel (the longest branch counts):", "", 0))
            for i, branch in enumerate(step.branches, start=1):
                rows.append((f"{pad}  branch {i}", "", critical_crossings(branch, site, roles, messaging)))
                rows += step_rows(branch, site, roles, messaging, depth + 2)
            continue
        if isinstance(step, Http | Call | Cast):
            a, b = where[step.client][0], where[step.server][0]
            label = (
                f"{pad}{type(step).__name__.upper()} {step.client.value} → {step.server.value}: {step.what}"
            )
        elif isinstance(step, Db):
            a, b = where[step.client][0], where[step.db][0]
            label = f"{pad}DB ×{step.queries} {step.client.value} → {step.db.value}: {step.what}"
        elif isinstance(step, Notify):
            a = where[step.sender][0]
            b = messaging.notification_bus_for(a)
            label = f"{pad}NOTIFY {step.sender.value} → notification bus: {step.what} (waits for the confirm)"
        elif isinstance(step, FetchImage):
            a, b = site, where[Role.IMAGE_STORE][0]
            label = f"{pad}image metadata from glance-api, data from the image store (unless cached)"
        else:
            rows.append(
                (f"{pad}{type(step).__name__}" + (f": {step.what}" if hasattr(step, "what") else ""), "", 0)
            )
            continue
        own = critical_crossings((step,), site, roles, messaging)
        if isinstance(step, Call) and step.inner:
            own -= critical_crossings(step.inner, site, roles, messaging)
        rows.append((label, f"{a} → {b}" if a != b else a, own))
        if isinstance(step, Call) and step.inner:
            rows += step_rows(step.inner, site, roles, messaging, depth + 1)
    return rows


def critical_crossings(
    steps: tuple[Step, ...], site: str, roles: Roles, messaging: Messaging, image_local: bool = False
) -> int:
    where = roles.of(site)

    def at(role: Role) -> str:
        return where[role][0]

    total = 0
    for step in steps:
        if isinstance(step, Http):
            total += 2 * (at(step.client) != at(step.server))
        elif isinstance(step, Db):
            total += 2 * step.queries * (at(step.client) != at(step.db))
        elif isinstance(step, Call):
            total += _hops_crossing(messaging.request_hops(at(step.client), at(step.server), None))
            total += critical_crossings(step.inner, site, roles, messaging, image_local)
            total += _hops_crossing(messaging.reply_hops(at(step.server), at(step.client)))
        elif isinstance(step, Cast):
            total += _hops_crossing(messaging.request_hops(at(step.client), at(step.server), None))
        elif isinstance(step, Notify) and messaging.notifications is NotificationBackend.BROKER:
            # The sender waits for the broker's confirm (`Messaging.notify_confirm_ms`).
            total += 2 * (at(step.sender) != messaging.notification_bus_for(at(step.sender)))
        elif isinstance(step, FetchImage) and not image_local:
            total += 2 * (at(Role.GLANCE) != site) + 2 * (at(Role.IMAGE_STORE) != site)
        elif isinstance(step, Parallel):
            total += max(critical_crossings(b, site, roles, messaging, image_local) for b in step.branches)
    return total
