"""Periodic traffic of every compute host, and the service liveness it produces.

Per host, with OpenStack's default periods (scenario `background`):
- nova-compute reports its state every report_interval (nova/servicegroup/drivers/db.py _report_state:
  service.save(), an RPC call to the cell conductor, which updates the services table); the service is
  up while now − updated_at ≤ service_down_time (same driver, is_up).
- the resource tracker runs every 60 s (nova/compute/resource_tracker.py update_available_resource):
  it reads its instances and migrations and saves the compute node (three conductor calls), and syncs
  its inventory with placement (one HTTP request; scheduler/client/report.py).
- the neutron L2 agent reports every report_interval by an RPC call to neutron-server (the Open
  vSwitch agent's `_report_state` passes use_call=True to neutron/agent/rpc.py
  PluginReportStateAPI.report_state: it waits for the answer, which says whether it was revived).

Hosts of one site are identical for the network, so at scale each site's hosts are simulated as one
group whose batches carry k× the bytes, while the stations see their load as a fluid rate (`fluid`
mode); with `fluid` off every host sends on its own (exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wanstack.results.schema import Outage
from wanstack.scenario.workload import Background as BackgroundTraffic
from wanstack.sim.glide import Glide, Leg, plan
from wanstack.sim.kernel import Periodic
from wanstack.sim.message import BACKGROUND, Early, Hop, Message, round_trip
from wanstack.sim.workflows import Role
from wanstack.sim.world import OnWorld


@dataclass(slots=True)
class Heartbeat:
    """When a service of a host group last reported, and whether it is seen down."""

    last_ok: float = 0.0
    down: bool = False
    # A report still on its way: oslo.messaging retries a publish until it reconnects, and the periodic
    # task (a FixedIntervalLoopingCall) waits for it before its next run.
    pending: bool = False


@dataclass(slots=True)
class HostGroup:
    """The hosts of one site simulated together (`hosts` of them in `fluid` mode, else one): their
    nova-compute and neutron-agent heartbeats, and whether their resource tracker's last run still waits on a
    held call."""

    site: str
    hosts: int
    nova: Heartbeat = field(default_factory=Heartbeat)
    neutron: Heartbeat = field(default_factory=Heartbeat)
    tracker_pending: bool = False  # the resource tracker's last run still waits on a held call
    # Its batches' ways for the routes of `Network.epoch` `epoch` (`sim.glide`): nova-compute's report,
    # the resource tracker's run, the L2 agents' report (None: one that cannot glide); `glides`: those
    # whose stations let them pass, for the stations' state `version` (`Background.version`).
    ways: tuple[Glide | None, Glide | None, Glide | None] = (None, None, None)
    glides: tuple[Glide | None, Glide | None, Glide | None] = (None, None, None)
    epoch: int = -1
    version: int = -1


class Liveness:
    """What the servicegroup and neutron's agent table say, per site."""

    def __init__(self, down_ms: float, neutron_down_ms: float, enabled: bool) -> None:
        self.enabled = enabled
        self.down_ms = down_ms
        self.neutron_down_ms = neutron_down_ms
        self.site_last_ok: dict[str, float] = {}
        self.outages: list[Outage] = []
        self._open: dict[tuple[str, str], Outage] = {}
        self._down_groups: dict[tuple[str, str], int] = {}

    def compute_up(self, site: str, now: float) -> bool:
        if not self.enabled:
            return True
        return now - self.site_last_ok.get(site, 0.0) <= self.down_ms

    def sites_down(self, hosted: int, now: float) -> int:
        """How many of the `hosted` sites with compute hosts the servicegroup sees down now: as
        `compute_up` for each, in one pass over the reports' times rather than one call per site (a
        time series samples this every few seconds over 10,000 sites). Only sites with hosts report."""
        if not self.enabled:
            return 0
        last = np.fromiter(self.site_last_ok.values(), dtype=float, count=len(self.site_last_ok))
        silent = hosted - len(last)  # never reported: as of time 0
        return int(np.count_nonzero(now - last > self.down_ms)) + (silent if now > self.down_ms else 0)

    def agent_up(self, site: str) -> bool:
        """Whether neutron-server sees the site's L2 agents alive (none of them past agent_down_time)."""
        return not self.enabled or (site, "neutron-agent") not in self._open

    def notice_silence(
        self, group: HostGroup, service: str, beat: Heartbeat, down_ms: float, now: float
    ) -> None:
        """Whether the group's `service` is down now (`beat.down`); records the outage when it has
        just gone silent for longer than `down_ms` (from when the servicegroup starts seeing it down)."""
        if not beat.down and now - beat.last_ok > down_ms:
            self.went_down(group.site, service, group.hosts, beat.last_ok + down_ms)
            beat.down = True

    def reported(self, group: HostGroup, service: str, beat: Heartbeat, now: float) -> None:
        """The group's `service` has just reported: seen up again if it was down (and a nova-compute
        report keeps its site's compute up: `compute_up`)."""
        beat.last_ok = now
        if service == "nova-compute" and now > self.site_last_ok.get(group.site, 0.0):
            self.site_last_ok[group.site] = now
        if beat.down:
            beat.down = False
            self.came_back(group.site, service, now)

    def stamped(
        self, group: HostGroup, service: str, beat: Heartbeat, arrival: float, down_ms: float
    ) -> bool:
        """Take a report that arrives at `arrival` now, stamped with its time, when the service is not
        seen down and its last report (and for nova-compute its site's) keeps it up until then anyway:
        nothing can tell the two apart. False, and nothing done, otherwise: it is seen when it
        arrives."""
        last = self.site_last_ok.get(group.site, 0.0) if service == "nova-compute" else beat.last_ok
        if beat.down or arrival - min(last, beat.last_ok) > down_ms:
            return False
        self.reported(group, service, beat, arrival)
        return True

    def early(self, group: HostGroup, service: str, beat: Heartbeat, next_run: float) -> Early:
        """A report call's `Message.early`: its answer taken as it is sent back (`stamped`) when it
        comes before the service's next run at `next_run`, which would see the report still pending."""
        down_ms = self.down_ms if service == "nova-compute" else self.neutron_down_ms

        def early(_: Any, arrival: float) -> bool:
            if arrival < next_run and self.stamped(group, service, beat, arrival, down_ms):
                beat.pending = False
                return True
            return False

        return early

    def went_down(self, site: str, service: str, hosts: int, at_ms: float) -> None:
        key = (site, service)
        self._down_groups[key] = self._down_groups.get(key, 0) + 1
        if key not in self._open:
            outage = Outage(site=site, service=service, hosts=hosts, down_at_s=at_ms / 1000.0)
            self._open[key] = outage
            self.outages.append(outage)
        else:
            self._open[key].hosts += hosts

    def came_back(self, site: str, service: str, at_ms: float) -> None:
        key = (site, service)
        self._down_groups[key] -= 1
        if self._down_groups[key] == 0 and key in self._open:
            self._open.pop(key).up_at_s = at_ms / 1000.0


@dataclass(kw_only=True)
class Background(OnWorld):
    """Periodic senders. `fluid=False`: every host is simulated on its own (exact). `fluid=True`: one
    group per site sends one batch per period that only *passes* the stations (for bytes, liveness and
    overload backlogs), while the stations carry the same load as a fluid rate (see `stations`)."""

    config: BackgroundTraffic
    liveness: Liveness
    hosts: dict[str, int]  # hosts per site
    fluid: bool
    agents_down: set[str] = field(default_factory=set)  # sites whose L2 agents are stopped (faults)
    groups: list[HostGroup] = field(init=False)
    tasks: list[Periodic] = field(init=False, default_factory=list)  # the hosts' periodic tasks
    version: int = field(init=False, default=0)  # counts `refresh_rates`: the stations' state changed

    def __post_init__(self) -> None:
        super().__post_init__()
        cfg = self.config
        self.nova_period = cfg.nova_report_interval_s * 1000.0
        self.rt_period = cfg.resource_tracker_interval_s * 1000.0
        self.neutron_period = cfg.neutron_report_interval_s * 1000.0
        self.groups = []
        for site, count in self.hosts.items():
            if self.fluid and count:
                self.groups.append(HostGroup(site, count))
            else:
                self.groups += [HostGroup(site, 1) for _ in range(count)]

    def start(self) -> None:
        sim = self.sim
        rng = sim.stream("background")
        seq = sim.seq
        nova: list[tuple[float, int, HostGroup]] = []
        tracker: list[tuple[float, int, HostGroup]] = []
        agents: list[tuple[float, int, HostGroup]] = []
        for group in self.groups:
            # Services start at random moments, so reports are spread over each period.
            nova.append((rng.uniform(0, self.nova_period), next(seq), group))
            tracker.append((rng.uniform(0, self.rt_period), next(seq), group))
            agents.append((rng.uniform(0, self.neutron_period), next(seq), group))
        self.tasks = [
            Periodic(sim, self.nova_period, self._nova_report, nova),
            Periodic(sim, self.rt_period, self._resource_tracker, tracker),
            Periodic(sim, self.neutron_period, self._neutron_report, agents),
        ]
        self.refresh_rates()

    # --- fluid load ----------------------------------------------------------------------------
    def refresh_rates(self) -> None:
        """Set every station's fluid background rate from what each site's hosts send per period,
        following the same hops as the messages (stopping where a route or a station is gone)."""
        if not self.fluid:
            return
        self.version += 1
        net = self.net
        rates: dict[tuple[str, str], float] = {}

        def visit(hops: tuple[Hop, ...], per_ms: float, report: bool = True) -> None:
            for a, b, station in hops:
                if net.delay(a, b, 0.0) is None:
                    return
                if station is not None:
                    if not station.up:
                        return
                    work = station.report_work if report else 1.0
                    rates[station.key] = rates.get(station.key, 0.0) + per_ms * work

        for group in self.groups:
            site, k = group.site, group.hosts
            if not net.site_up[site]:
                continue
            roles = self.roles.of(site)
            rpc = self.messaging.of(site).rpc
            conductor, cst = roles[Role.CONDUCTOR]
            neutron, nst = roles[Role.NEUTRON]
            placement, pst = roles[Role.PLACEMENT]
            call = rpc.request_hops(site, conductor, cst) + rpc.reply_hops(conductor, site)
            visit(call, k / self.nova_period)
            visit(call, 3 * k / self.rt_period)
            visit(round_trip(site, placement, pst), k / self.rt_period, report=False)
            report = rpc.request_hops(site, neutron, nst) + rpc.reply_hops(neutron, site)
            visit(report, k / self.neutron_period)
        for station in self.stations:
            station.set_background(rates.get(station.key, 0.0))

    # --- batches in one step (`sim.glide`) ----------------------------------------------------
    def _glided(self, group: HostGroup, which: int, beat: Heartbeat | None, down_ms: float) -> bool:
        """Send the group's batch `which` (0: nova-compute's report, 1: the resource tracker's run,
        2: the L2 agents' report) in one step if nothing can happen to it on the way; False, and
        nothing sent, otherwise. A report that arrives is seen when it arrives: at once, stamped with
        its arrival, when the service's last report keeps it up until then anyway (nothing can tell
        the two apart); else at its arrival, as the hops would bring it."""
        net = self.net
        if group.epoch != net.epoch:
            group.ways = self._plans(group)
            group.epoch = net.epoch
            group.version = -1
        if group.version != self.version:
            # Stations change state only with a fault (up) or new fluid rates (load, backlog), and
            # `refresh_rates` follows both.
            n, r, a = (way if way is not None and way.clear() else None for way in group.ways)
            group.glides = (n, r, a)
            group.version = self.version
        way = group.glides[which]
        if way is None:
            return False
        arrival = way.due(net)
        if arrival is None:
            return False
        way.send(net, BACKGROUND)
        if beat is None:
            return True  # nobody waits for the resource tracker
        service = "nova-compute" if which == 0 else "neutron-agent"
        if not self.liveness.stamped(group, service, beat, arrival, down_ms):
            self.sim.at(arrival, self._arrived, (group, service, beat))
        return True

    def _arrived(self, report: tuple[HostGroup, str, Heartbeat]) -> None:
        """A report sent in one step has arrived (`_glided`)."""
        group, service, beat = report
        self.liveness.reported(group, service, beat, self.sim.now)

    def _plans(self, group: HostGroup) -> tuple[Glide | None, Glide | None, Glide | None]:
        """The group's three batches as legs (those of `_nova_report`, `_resource_tracker` and
        `_neutron_report`), worked out for the current routes."""
        site, k, p = group.site, group.hosts, self.params
        roles = self.roles.of(site)
        m = self.messaging.of(site)
        rpc, costs = m.rpc, m.costs
        conductor, cst = roles[Role.CONDUCTOR]
        placement, pst = roles[Role.PLACEMENT]
        neutron, nst = roles[Role.NEUTRON]
        request, reply = rpc.request_hops(site, conductor, cst), rpc.reply_hops(conductor, site)
        small, large = p.rpc_small_bytes * k, p.rpc_object_bytes * k
        nova: list[Leg] = [(request, small, costs.call_ms, True), (reply, small, costs.call_ms, True)]
        call: list[Leg] = [(request, small, costs.call_ms, True), (reply, large, costs.call_ms, True)]
        tracker = [
            *call,
            *call,
            *call,
            (round_trip(site, placement, pst), p.http_request_bytes * k, 0.0, True),
        ]
        agents: list[Leg] = [
            (rpc.request_hops(site, neutron, nst), large, costs.cast_ms, True),
            (rpc.reply_hops(neutron, site), small, 0.0, False),
        ]
        net = self.net
        return (
            plan(net, nova, k, kept=True),
            plan(net, tracker, k, kept=True),
            plan(net, agents, k, kept=True),
        )

    # --- periodic senders ----------------------------------------------------------------------
    def _nova_report(self, group: HostGroup) -> None:
        now = self.sim.now
        live = self.liveness
        beat = group.nova
        if not beat.down and now - beat.last_ok > live.down_ms:  # the test of `notice_silence`, inline
            live.notice_silence(group, "nova-compute", beat, live.down_ms, now)
        if not self.net.site_up[group.site] or beat.pending:
            return  # the hosts are off, or the last report is still being retried
        if self.fluid and self._glided(group, 0, group.nova, live.down_ms):
            return
        conductor, station = self.roles.of(group.site)[Role.CONDUCTOR]
        group.nova.pending = not self.fluid  # a fluid batch is not held (`ChainRunner._unroutable`)

        def saved(_: Any) -> None:
            group.nova.pending = False
            live.reported(group, "nova-compute", group.nova, self.sim.now)

        def failed(_: Any) -> None:
            group.nova.pending = False

        k = group.hosts
        size = self.params.rpc_small_bytes * k
        self.messaging.of(group.site).call(
            group.site,
            conductor,
            station,
            request_bytes=size,
            reply_bytes=size,
            done=saved,
            failed=failed,
            messages=k,
            fluid=self.fluid,
            report=True,
            early=None if self.fluid else live.early(group, "nova-compute", beat, now + self.nova_period),
        )

    def _resource_tracker(self, group: HostGroup) -> None:
        if not self.net.site_up[group.site] or group.tracker_pending:
            return
        if self.fluid and self._glided(group, 1, None, 0.0):
            return
        group.tracker_pending = not self.fluid
        _TrackerRun(self, group).next()

    def _neutron_report(self, group: HostGroup) -> None:
        now = self.sim.now
        live = self.liveness
        beat = group.neutron
        if not beat.down and now - beat.last_ok > live.neutron_down_ms:
            live.notice_silence(group, "neutron-agent", beat, live.neutron_down_ms, now)
        if not self.net.site_up[group.site] or group.site in self.agents_down or group.neutron.pending:
            return
        if self.fluid and self._glided(group, 2, group.neutron, live.neutron_down_ms):
            return
        neutron, station = self.roles.of(group.site)[Role.NEUTRON]
        group.neutron.pending = not self.fluid

        def reported(_: Any) -> None:
            group.neutron.pending = False
            live.reported(group, "neutron-agent", group.neutron, self.sim.now)

        def lost(_: Any) -> None:
            group.neutron.pending = False

        m = self.messaging.of(group.site)
        if self.fluid:
            # At scale only the request travels as an event: the answers' load on the stations is in
            # their fluid rates (`refresh_rates`); their jobs and bytes are counted when the request
            # is in, without events of their own (nobody waits on them at scale). This keeps a
            # 100,000-host hour at 3.3 M events rather than 3.5 M.
            k = group.hosts
            answer = self.params.rpc_small_bytes * k
            reply = m.rpc.reply_hops(neutron, group.site)

            def answered(arg: Any) -> None:
                for hop in reply:
                    self.net.account(hop.src, hop.dst, k, answer, BACKGROUND)
                    if hop.station is not None:
                        hop.station.jobs += k
                reported(arg)

            m.cast(
                group.site,
                neutron,
                station,
                nbytes=self.params.rpc_object_bytes * group.hosts,
                done=answered,
                lost=lost,
                messages=group.hosts,
                fluid=True,
                report=True,
            )
            return

        m.call(
            group.site,
            neutron,
            station,
            request_bytes=self.params.rpc_object_bytes * group.hosts,
            reply_bytes=self.params.rpc_small_bytes * group.hosts,
            done=reported,
            failed=lost,
            messages=group.hosts,
            report=True,
            early=live.early(group, "neutron-agent", beat, now + self.neutron_period),
        )


class _TrackerRun:
    """One run of a host group's resource tracker sent call by call (`Background._resource_tracker`):
    three conductor calls one after the other, then Placement's inventory request. An object rather
    than a closure that calls itself: such a closure is a reference cycle, left for the cyclic garbage
    collector, whose passes over 100,000 hosts' runs took a third of an exact hour."""

    __slots__ = ("bg", "group", "messaging", "n", "roles")

    def __init__(self, bg: Background, group: HostGroup) -> None:
        self.bg = bg
        self.group = group
        self.roles = bg.roles.of(group.site)
        self.messaging = bg.messaging.of(group.site)
        self.n = 0

    def next(self, _: Any = None) -> None:
        bg, group = self.bg, self.group
        p = bg.params
        k = group.hosts
        if self.n == 3:
            placement, pst = self.roles[Role.PLACEMENT]
            bg.chains.run(
                Message(
                    hops=round_trip(group.site, placement, pst),
                    nbytes=p.http_request_bytes * k,
                    messages=k,
                    done=self.finished,
                    lost=self.finished,
                    fluid=bg.fluid,
                )
            )
            return
        self.n += 1
        conductor, station = self.roles[Role.CONDUCTOR]
        self.messaging.call(
            group.site,
            conductor,
            station,
            request_bytes=p.rpc_small_bytes * k,
            reply_bytes=p.rpc_object_bytes * k,
            done=self.next,
            failed=self.finished,
            messages=k,
            fluid=bg.fluid,
            report=True,
        )

    def finished(self, _: Any = None) -> None:
        self.group.tracker_pending = False
