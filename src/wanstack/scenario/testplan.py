"""Messaging test cases after ombt / the OpenStack "massively distributed RPC" test plan (shared domain
notes §5), placed on a scenario's sites so that the simulator and the real bench run the same ones.

TC1 one large target: every edge client calls (or casts to) one server topic at the top site.
TC2 many targets: every edge client has its own server topic at the top site.
TC3 one large fanout: a client at the top site fans out to a server at every edge site.
Notifications: every edge site notifies; one listener at the top site consumes `notifications.info`.
Calls and casts are timed by the caller (call) or by the receiver (cast, fanout: receive − send).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

# Between two messages of one client. Every process of a bench run shares this machine's 2 cores, and a
# message costs ≈ 8 ms of CPU in all (`wanstack calibrate`): ten clients 50 ms apart keep the cores
# ≈ 70 % busy, where a bench run's latencies move by 20 % from run to run; 200 ms apart, ≈ 20 %.
DEFAULT_PAUSE_MS = 200.0


class Pattern(StrEnum):
    CALL = "call"
    CAST = "cast"
    FANOUT = "fanout"
    NOTIFY = "notify"


@dataclass(frozen=True)
class MessagingCase:
    name: str
    pattern: Pattern
    clients: tuple[str, ...]  # client sites, one client each
    servers: tuple[tuple[str, str], ...]  # (site, topic) of every server
    topic_of_client: tuple[str, ...]  # the topic each client targets
    messages: int = 40  # per client
    payload: int = 100  # bytes
    pause_ms: float = DEFAULT_PAUSE_MS

    def start_offsets_ms(self) -> tuple[float, ...]:
        """When each client sends its first message, after the case starts: a seeded uniform moment
        within one pause, the same in the bench and the simulator (clients started in lockstep would
        stay bunched; started at random they spread as independent services do)."""
        rng = random.Random(f"start:{self.name}")
        return tuple(rng.uniform(0.0, self.pause_ms) for _ in self.clients)

    @property
    def deliveries(self) -> int:
        """Messages the servers should receive: a fanout reaches every server of its topic."""
        return (
            self.messages * len(self.clients) * (len(self.servers) if self.pattern is Pattern.FANOUT else 1)
        )


def default_cases(
    top: str, edges: list[str], messages: int = 40, pause_ms: float = DEFAULT_PAUSE_MS
) -> list[MessagingCase]:
    one = tuple(("t0",) * len(edges))
    many = tuple(f"t{i}" for i in range(len(edges)))
    return [
        MessagingCase("tc1-call", Pattern.CALL, tuple(edges), ((top, "t0"),), one, messages, 100, pause_ms),
        MessagingCase("tc1-cast", Pattern.CAST, tuple(edges), ((top, "t0"),), one, messages, 100, pause_ms),
        MessagingCase(
            "tc2-call",
            Pattern.CALL,
            tuple(edges),
            tuple((top, t) for t in many),
            many,
            messages,
            100,
            pause_ms,
        ),
        MessagingCase(
            "tc3-fanout",
            Pattern.FANOUT,
            (top,),
            tuple((e, "f0") for e in edges),
            ("f0",),
            messages,
            100,
            pause_ms,
        ),
        MessagingCase(
            "notify",
            Pattern.NOTIFY,
            tuple(edges),
            ((top, "notifications"),),
            tuple(("notifications",) * len(edges)),
            messages,
            100,
            pause_ms,
        ),
    ]
