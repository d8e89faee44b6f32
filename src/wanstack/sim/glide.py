"""A fluid batch carried in one step, when nothing can happen to it on the way.

A fluid batch (`message.Message.fluid`) stands for load its stations already carry as a fluid rate:
it passes them without queueing. When every hop of it is routed over a lane without jitter or loss,
no link is full of bulk flows, every station on the way is up and below saturation, and no fault is
due before it arrives (`network.Network.quiet_until`), its hops can only add up to a fixed delay and
count fixed bytes and jobs: one event does what one per hop would. The background's batches are most
of a large run's events (a report's call is four hops), so this is what keeps a million hosts cheap.
"""

from __future__ import annotations

from collections.abc import Sequence

from wanstack.sim.message import Hop
from wanstack.sim.network import Lane, Network
from wanstack.sim.stations import Station

# One leg of a batch: its hops, its bytes, the library's cost at its ends, and whether it is waited
# for (False: an answer nobody waits on, counted but not timed).
Leg = tuple[tuple[Hop, ...], float, float, bool]


class Glide:
    """A batch's legs worked out for the routes of one `Network.epoch`: the delay they add up to,
    the lanes and bytes they count, the stations they pass and the jobs they count there."""

    __slots__ = ("counts", "jobs", "messages", "sent", "stations", "terms", "wan_bytes")

    def __init__(
        self,
        steps: tuple[tuple[float, float], ...],
        counts: tuple[tuple[Lane, float], ...],
        stations: tuple[Station, ...],
        messages: float,
    ) -> None:
        # Each hop's delay and end cost in the order its event adds them, zeros left out (adding 0.0
        # leaves a finite time as it is): `due` adds them one by one. `plan` shares equal ones.
        self.terms = tuple(x for step in steps for x in step if x)
        self.counts = counts
        self.stations = stations
        self.messages = messages
        self.jobs = int(messages)
        # What crosses the WAN (lanes between sites), and batches sent but not yet on their lanes
        # (`send`, `settle`).
        self.wan_bytes = sum(nbytes for lane, nbytes in counts if lane.route is not None)
        self.sent = 0

    def due(self, net: Network) -> float | None:
        """When a batch sent now is through, or None when something could happen to it on the way: a
        link full of bulk flows (its messages wait behind them), or a fault due before it arrives.
        Each hop's delay is added as its own event would add it (`Network.send`: now + the network's
        delay + the ends' cost), so the sum is the same to the last bit."""
        if net.bulk_full:
            return None
        t = net.sim.now
        for x in self.terms:
            t += x
        return t if t < net.quiet_until else None

    def clear(self) -> bool:
        """Whether every station on the way passes the batch at once (up, below saturation, no
        overload backlog): what `chain.ChainRunner._arrived` does for a fluid batch without waiting."""
        for station in self.stations:
            if not station.up or station.backlog or station.bg_load >= station.workers:
                return False
        return True

    def count(self, net: Network, tag: str) -> None:
        """Count the batch's bytes on its lanes and its jobs at its stations, as its hops would."""
        for lane, nbytes in self.counts:
            net.count(lane, self.messages, nbytes, tag)
        jobs = self.jobs
        for station in self.stations:
            station.jobs += jobs

    def send(self, net: Network, tag: str) -> None:
        """As `count`, for a batch sent again and again over the same lanes (the background's): its
        bytes per traffic class at once (a time series samples them), its lanes' and stations'
        counters when the network settles them (`Network.flush`, before routes change and at the end,
        before anything reads them), so a batch touches two objects rather than one per hop.
        `plan(..., kept=True)` registers it with the network."""
        by_tag = net.wan_bytes_by_tag
        by_tag[tag] = by_tag.get(tag, 0.0) + self.wan_bytes
        self.sent += 1

    def settle(self) -> None:
        """Put the batches sent since the last settling on their lanes and stations (`send`)."""
        sent = self.sent
        if sent:
            self.sent = 0
            messages = sent * self.messages
            for lane, nbytes in self.counts:
                lane.messages += messages
                lane.nbytes += sent * nbytes
            jobs = sent * self.jobs
            for station in self.stations:
                station.jobs += jobs


def plan(net: Network, legs: Sequence[Leg], messages: float, kept: bool = False) -> Glide | None:
    """The batch's `Glide`, or None when a hop has no route or its lane jitters or loses packets.
    `kept`: a way sent again and again (`Glide.send`), which the network settles."""
    steps: list[tuple[float, float]] = []
    counts: list[tuple[Lane, float]] = []
    stations: list[Station] = []
    for hops, nbytes, end_ms, timed in legs:
        one = nbytes / messages if messages > 1 else nbytes
        last = len(hops) - 1
        for j, (src, dst, station) in enumerate(hops):
            lane = net.lane(src, dst)
            if lane is None or lane.perturbed:
                return None
            if timed:
                # As `Network.send`: propagation and serialisation, and the library's cost at the
                # leg's ends (`ChainRunner.run`).
                steps.append((lane.delay_ms + one * lane.ms_per_byte, end_ms if j in (0, last) else 0.0))
            counts.append((lane, nbytes))
            if station is not None:
                stations.append(station)
    way = Glide(tuple(steps), tuple(counts), tuple(stations), messages)
    # Equal figures as one object, whichever group's batch they are: a million hosts' batches, read in
    # random order each round, then share a handful of cache lines instead of each having its own
    # (the terms' 15 distinct tuples at 10,000 sites: 25.5 s -> 22.5 s for the simulated hour).
    shared = net.shared
    way.terms = shared.setdefault(way.terms, way.terms)
    way.wan_bytes = shared.setdefault(way.wan_bytes, way.wan_bytes)
    if kept:
        net.settling.append(way)
    return way
