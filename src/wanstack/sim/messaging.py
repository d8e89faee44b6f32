"""oslo.messaging's patterns — call, cast, fanout, notification — over a region's buses
(`sim.bus`: which nodes a message passes), as chains of hops (`message.Message`).

What the sender waits for: a call's reply, or a MessagingTimeout `rpc_response_timeout` after the
call started when a message is lost (no route, a broker or the server down); a cast or a notification
returns once the broker's publisher confirm is back (`confirm_ms`), since oslo.messaging's rabbit
driver opens its kombu connections with `confirm_publish: True` (impl_rabbit.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wanstack.scenario.placement import Placement
from wanstack.sim.bus import Buses, nearest_by_delay, region_buses
from wanstack.sim.bus.base import FanoutCopy, Target
from wanstack.sim.chain import ChainRunner
from wanstack.sim.message import BACKGROUND, Done, Early, Hop, Message, ignore
from wanstack.sim.network import Network
from wanstack.sim.stations import Station, Stations

# An AMQP basic.ack frame: 7-byte frame header, class and method ids (4), delivery tag (8), the
# `multiple` bit (1), frame end (1) (AMQP 0-9-1 §4.2.3, §1.8.3.13). The relay measures 21 bytes a cast.
CONFIRM_BYTES = 21

# What a call's server does before it replies: given the reply, it sends it when its work is done.
Inner = Callable[[Callable[[], None]], None]


@dataclass(frozen=True)
class EndCosts:
    """The messaging library's cost on a message's path at each end (`Params.rpc_client_ms`, ...)."""

    call_ms: float
    cast_ms: float
    notify_ms: float


class Messaging:
    """The patterns on one region's buses."""

    def __init__(
        self, net: Network, chains: ChainRunner, buses: Buses, costs: EndCosts, timeout_ms: float
    ) -> None:
        self.net = net
        self.chains = chains
        self.buses = buses
        self.rpc = buses.rpc
        self.notifications = buses.notifications
        self.costs = costs
        self.timeout_ms = timeout_ms

    def call(  # noqa: PLR0913 - the hot path: a call's fields go straight into its two messages
        self,
        src: str,
        dst: str,
        server: Station | None,
        *,
        request_bytes: float,
        reply_bytes: float,
        done: Done,
        failed: Done,
        arg: Any = None,
        messages: float = 1.0,
        tag: str = BACKGROUND,
        fluid: bool = False,
        inner: Inner | None = None,
        report: bool = False,
        early: Early | None = None,
    ) -> None:
        """RPC call from a client at `src` to `server` at `dst`: request, the server's work (its
        station's service, then `inner`: what it does before it replies, such as calls of its own),
        reply. A message lost on the way surfaces as a MessagingTimeout `rpc_response_timeout` after
        the call started: `failed(arg)`. `early`: the reply's `Message.early`, where the call is
        carried as one message."""
        sim = self.net.sim
        start = sim.now
        call_ms = self.costs.call_ms
        if (
            fluid
            and inner is None
            and self.chains.glide(
                (
                    (self.rpc.request_hops(src, dst, server), request_bytes, call_ms, True),
                    (self.rpc.reply_hops(dst, src), reply_bytes, call_ms, True),
                ),
                messages,
                tag,
                done,
                arg,
            )
        ):
            return

        def lost(_: Any) -> None:
            sim.at(start + self.timeout_ms, failed, arg)

        if inner is None and not fluid and self.chains.host is None and self.chains.ahead:
            # Request and reply as one message: the server answers as soon as its station is done, so
            # its reply can leave with no event of its own (`ChainRunner.served`).
            request = self.rpc.request_hops(src, dst, server)
            self.chains.run(
                Message(
                    hops=request + self.rpc.reply_hops(dst, src),
                    nbytes=request_bytes,
                    messages=messages,
                    done=done,
                    lost=lost,
                    arg=arg,
                    end_ms=call_ms,
                    tag=tag,
                    report=report,
                    reply_at=len(request),
                    reply_nbytes=reply_bytes,
                    early=early,
                )
            )
            return

        def reply() -> None:
            # Sent by the server's process, not by a client at its site.
            self.chains.run(
                Message(
                    hops=self.rpc.reply_hops(dst, src),
                    nbytes=reply_bytes,
                    messages=messages,
                    done=done,
                    lost=lost,
                    arg=arg,
                    end_ms=call_ms,
                    tag=tag,
                    fluid=fluid,
                    sender=server,
                )
            )

        def served(_: Any) -> None:
            if inner is None:
                reply()
            else:
                inner(reply)

        # The request goes as a cast does, with a call's costs at its ends.
        self.cast(
            src,
            dst,
            server,
            nbytes=request_bytes,
            done=served,
            lost=lost,
            messages=messages,
            tag=tag,
            fluid=fluid,
            end_ms=call_ms,
            report=report,
        )

    def cast(  # noqa: PLR0913 - the hot path, as `call`
        self,
        src: str,
        dst: str,
        server: Station | None,
        *,
        nbytes: float,
        done: Done,
        lost: Done | None = None,
        arg: Any = None,
        messages: float = 1.0,
        tag: str = BACKGROUND,
        fluid: bool = False,
        end_ms: float | None = None,
        report: bool = False,
    ) -> None:
        """RPC cast: one way; `done(arg)` runs when the server has processed it. `end_ms`: the
        library's cost at each end (None: a cast's; a call's request is sent as a cast). `report`: a
        periodic report (`Message.report`)."""
        self.chains.run(
            Message(
                hops=self.rpc.request_hops(src, dst, server),
                nbytes=nbytes,
                messages=messages,
                done=done,
                lost=lost,
                arg=arg,
                end_ms=self.costs.cast_ms if end_ms is None else end_ms,
                tag=tag,
                fluid=fluid,
                report=report,
            )
        )

    def fanout(self, src: str, targets: list[Target], nbytes: float, done: Done | None, arg: Any) -> None:
        """Fanout cast to every server of a topic; through a broker the message is enqueued once per
        server (the broker station works n times). Servers on several buses (a bus per cell): the
        client sends it on each bus at once (`bench.cases.Bus`), each broker copies it to its own."""
        copies = self.rpc.fanout_copies(src, targets) if targets else None
        if copies is None:
            for site, server in targets:
                self.cast(src, site, server, nbytes=nbytes, done=done or ignore, arg=arg)
            return
        for copy in copies:
            self._fanout_on(src, copy, nbytes, done or ignore, arg)

    def _fanout_on(self, src: str, copy: FanoutCopy, nbytes: float, done: Done, arg: Any) -> None:
        cast_ms = self.costs.cast_ms

        def spread(_: Any) -> None:
            for site, server in copy.targets:
                hop = (Hop(copy.bus, site, server),)
                self.chains.run(Message(hops=hop, nbytes=nbytes, done=done, arg=arg, end_ms=cast_ms))

        def enqueue(_: Any) -> None:
            # The broker copies the message into each of the n queues: n units of broker work.
            if copy.broker.up:
                copy.broker.submit(float(len(copy.targets)), spread, None)

        hop = (Hop(src, copy.bus, None),)
        self.chains.run(Message(hops=hop, nbytes=nbytes, done=enqueue, end_ms=cast_ms))

    def notify(self, src: str, nbytes: float, *, messages: float = 1.0, tag: str = BACKGROUND) -> None:
        """A notification: to the notification bus, where a listener consumes it."""
        bus = self.notifications.bus_for(src)
        self.chains.run(
            Message(
                hops=(Hop(src, bus, self.notifications.node(bus)),),
                nbytes=nbytes,
                messages=messages,
                done=ignore,
                end_ms=self.costs.notify_ms,
                tag=tag,
            )
        )

    # --- what senders wait for ----------------------------------------------------------------
    def confirm_ms(self, src: str, nbytes: float, entry: str, home: str | None = None) -> float:
        """How long a publisher waits after sending: one round trip between the publisher and its
        broker (`entry`), whatever the consumers do; in a cluster, one more round trip between the
        members when the queue's `home` member is another one."""
        legs = [(src, entry, nbytes), (entry, src, CONFIRM_BYTES)]
        if home is not None and home != entry:
            legs += [(entry, home, nbytes), (home, entry, CONFIRM_BYTES)]
        total = 0.0
        for a, b, size in legs:
            leg = self.net.delay(a, b, size)
            if leg is None:
                return math.inf
            total += leg
        return total

    def notify_confirm_ms(self, src: str, nbytes: float) -> float:
        """How long a notifier waits after a notification: the node's confirm, where it gives one."""
        if not self.notifications.confirmed:
            return 0.0
        return self.confirm_ms(src, nbytes, self.notifications.bus_for(src))

    def cast_confirm_ms(self, src: str, dst: str, nbytes: float) -> float:
        """`confirm_ms` of a cast from `src` to a server at `dst`, on this bus."""
        entry, home = self.rpc.confirm(src, dst)
        return self.confirm_ms(src, nbytes, entry, home)

    def fanout_confirm_ms(self, src: str, targets: list[Target], nbytes: float) -> float:
        """How long a fanout's sender waits: the slowest of its buses' confirms (sent at once)."""
        copies = self.rpc.fanout_copies(src, targets) if targets else None
        if copies is None:
            return 0.0
        return max(self.confirm_ms(src, nbytes, copy.bus) for copy in copies)


@dataclass
class RegionMessaging:
    """Each region's `Messaging` (its own buses, as its deployment model places them), built on first
    use: what the simulator's components use to send from a site."""

    placement: Placement
    net: Network
    chains: ChainRunner
    stations: Stations
    costs: EndCosts
    timeout_ms: float
    _regions: dict[str, Messaging] = field(default_factory=dict)

    def of(self, site: str) -> Messaging:
        """The messaging of `site`'s region."""
        region = self.placement.region_of[site]
        found = self._regions.get(region)
        if found is None:
            buses = region_buses(
                self.placement, region, self.stations.get, self.net.path, nearest_by_delay(self.net.topology)
            )
            found = self._regions[region] = Messaging(
                self.net, self.chains, buses, self.costs, self.timeout_ms
            )
        return found
