"""A message in flight: the hops it takes and what happens when it arrives or is lost.

Every exchange the simulator models — an RPC call's request and reply, a cast, a notification, a REST
request, a database query, a background report — is one `Message` carried hop by hop by a
`chain.ChainRunner`: over the network from site to site, then (optionally) through a queueing
station at the arrival site.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from wanstack.sim.stations import Station

Done = Callable[[Any], None]
# `early(arg, arrival)`: whether a message's arrival at its end host may be taken now, stamped with its
# time (`Message.early`); True once it is, with nothing scheduled otherwise.
Early = Callable[[Any, float], bool]
# Traffic class of what the WAN carries when nobody names one (`Network.wan_bytes_by_tag`).
BACKGROUND = "background"


class Hop(NamedTuple):
    """One leg: from a site to a site, then the station serving it there (None: the end host)."""

    src: str
    dst: str
    station: Station | None


def round_trip(client: str, server: str, station: Station | None) -> tuple[Hop, Hop]:
    """A request served at `station` on the server's site and its response back: HTTP, DB, tokens."""
    return (Hop(client, server, station), Hop(server, client, None))


class Message:
    """One message (or a batch of `messages` identical ones, `nbytes` in all) on its way.

    `end_ms`: the messaging library's cost at each end (the sender's on the first leg, the receiver's
    on the last). `fluid`: the message stands for load already counted as a station's fluid
    background (`stations.Station.set_background`): it passes stations without queueing, held only by
    an overload backlog. `report`: a periodic report, whose handler costs a station its `report_work`
    rather than a request's. `sender`: the process that sends it where it is not the client at the
    first hop's site (a server's reply; only the bench-host plug-in tells processes apart).
    `reply_at`: where a call's reply starts, in a call carried as one message (0: none): the reply's
    hops carry `reply_nbytes` and are not a report; the library's cost is paid at both ends of each part.
    `done(arg)` runs once the last hop is through; `lost(arg)` when a hop has no route or reaches a
    station that is down. `early`: when the last hop is sent to the end host and nothing can happen
    before it arrives, asked whether the arrival may be taken at once instead of `done` at its event
    (`chain.ChainRunner`; a periodic report whose service is up until then anyway). `at`: hops started
    so far (the one in progress is `hops[at - 1]`).

    Written out rather than a dataclass: one is built per message, and this `__init__` takes 0.41 µs
    where `@dataclass(slots=True, kw_only=True)`'s took 0.69 µs (CPython 3.11, this machine).
    """

    __slots__ = (
        "arg",
        "at",
        "done",
        "early",
        "end_ms",
        "fluid",
        "hops",
        "lost",
        "messages",
        "nbytes",
        "reply_at",
        "reply_nbytes",
        "report",
        "sender",
        "tag",
    )

    def __init__(  # noqa: PLR0913 - a record's fields, all by keyword
        self,
        *,
        hops: tuple[Hop, ...],
        nbytes: float,
        done: Done,
        lost: Done | None = None,
        arg: Any = None,
        messages: float = 1.0,
        end_ms: float = 0.0,
        tag: str = BACKGROUND,
        fluid: bool = False,
        sender: Hashable | None = None,
        report: bool = False,
        reply_at: int = 0,
        reply_nbytes: float = 0.0,
        early: Early | None = None,
    ) -> None:
        self.hops = hops
        self.nbytes = nbytes
        self.done = done
        self.lost = lost
        self.arg = arg
        self.messages = messages
        self.end_ms = end_ms
        self.tag = tag
        self.fluid = fluid
        self.sender = sender
        self.report = report
        self.reply_at = reply_at
        self.reply_nbytes = reply_nbytes
        self.early = early
        self.at = 0

    def __repr__(self) -> str:
        route = " → ".join([self.hops[0].src, *(h.dst for h in self.hops)]) if self.hops else ""
        return f"Message({route}, {self.nbytes:g} B, hop {self.at}/{len(self.hops)}, {self.tag})"


def ignore(_: Any) -> None:
    """A `Done` for what nobody waits for."""
