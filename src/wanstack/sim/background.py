"""Periodic traffic of every compute host, and the service liveness it produces.

Per host, with OpenStack's default periods (scenario `background`):
- nova-compute reports its state every report_interval (nova/servicegroup/drivers/db.py _report_state:
  service.save(), an RPC call to the cell conductor, which updates the services table); the service is
  up while now − updated_at ≤ service_down_time (same driver, is_up).
- the resource tracker runs every 60 s (nova/compute/resource_tracker.py update_available_resource):
  it reads its instances and migrations and saves the compute node (three conductor calls), and syncs
  its inventory with placement (one HTTP request; scheduler/client/report.py).
- the neutron L2 agent reports every report_interval by a cast to neutron-server
  (neutron/agent/rpc.py PluginReportStateAPI.report_state; use_call only for the first report).

Hosts of one site are identical for the network, so at scale each site's hosts are simulated as one
group whose batches carry k× the bytes, while the stations see their load as a fluid rate (`fluid`
mode); with `fluid` off every host sends on its own (exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wanstack.results.schema import Outage
from wanstack.sim.chain import round_trip
from wanstack.sim.workflows import Role

if TYPE_CHECKING:
    from wanstack.sim.engine import Engine


@dataclass(slots=True)
class HostGroup:
    site: str
    hosts: int
    nova_last_ok: float = 0.0
    neutron_last_ok: float = 0.0
    nova_down: bool = False
    neutron_down: bool = False


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

    def notice_silence(
        self, group: HostGroup, service: str, last_ok: float, down_ms: float, down: bool, now: float
    ) -> bool:
        """Whether the group's `service` is down now; records the outage when it has just gone silent
        for longer than `down_ms` (from when the servicegroup starts seeing it down)."""
        if not down and now - last_ok > down_ms:
            self.went_down(group.site, service, group.hosts, last_ok + down_ms)
            return True
        return down

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


class Background:
    """Periodic senders. `fluid=False`: every host is simulated on its own (exact). `fluid=True`: one
    group per site sends one batch per period that only *passes* the stations (for bytes, liveness and
    overload backlogs), while the stations carry the same load as a fluid rate (see `stations`)."""

    def __init__(self, engine: Engine, fluid: bool) -> None:
        self.e = engine
        self.fluid = fluid
        cfg = engine.scenario.background
        self.nova_period = cfg.nova_report_interval_s * 1000.0
        self.rt_period = cfg.resource_tracker_interval_s * 1000.0
        self.neutron_period = cfg.neutron_report_interval_s * 1000.0
        self.groups: list[HostGroup] = []
        for site, count in engine.inventory.hosts.items():
            if fluid and count:
                self.groups.append(HostGroup(site, count))
            else:
                self.groups += [HostGroup(site, 1) for _ in range(count)]

    def start(self) -> None:
        rng = self.e.sim.stream("background")
        sim = self.e.sim
        for group in self.groups:
            # Services start at random moments, so reports are spread over each period.
            sim.after(rng.uniform(0, self.nova_period), self._nova_report, group)
            sim.after(rng.uniform(0, self.rt_period), self._resource_tracker, group)
            sim.after(rng.uniform(0, self.neutron_period), self._neutron_report, group)
        self.refresh_rates()

    # --- fluid load ----------------------------------------------------------------------------
    def refresh_rates(self) -> None:
        """Set every station's fluid background rate from what each site's hosts send per period,
        following the same hops as the messages (stopping where a route or a station is gone)."""
        if not self.fluid:
            return
        e = self.e
        rates: dict[tuple[str, str], float] = {}

        def visit(hops: tuple[tuple[str, str, object], ...], per_ms: float) -> None:
            for a, b, station in hops:
                if e.net.delay(a, b, 0.0) is None:
                    return
                if station is not None:
                    if not station.up:  # type: ignore[attr-defined]
                        return
                    key = station.key  # type: ignore[attr-defined]
                    rates[key] = rates.get(key, 0.0) + per_ms

        for group in self.groups:
            site, k = group.site, group.hosts
            if not e.net.site_up[site]:
                continue
            roles = e.roles.of(site)
            m = e.messaging_for(site)
            conductor, cst = roles[Role.CONDUCTOR]
            neutron, nst = roles[Role.NEUTRON]
            placement, pst = roles[Role.PLACEMENT]
            call = m.request_hops(site, conductor, cst) + m.reply_hops(conductor, site)
            visit(call, k / self.nova_period)
            visit(call, 3 * k / self.rt_period)
            visit(round_trip(site, placement, pst), k / self.rt_period)
            visit(m.request_hops(site, neutron, nst), k / self.neutron_period)
        for key, station in e.stations.items():
            station.set_background(rates.get(key, 0.0))

    # --- periodic senders ----------------------------------------------------------------------
    def _nova_report(self, group: HostGroup) -> None:
        e = self.e
        now = e.sim.now
        e.sim.after(self.nova_period, self._nova_report, group)
        live = e.liveness
        group.nova_down = live.notice_silence(
            group, "nova-compute", group.nova_last_ok, live.down_ms, group.nova_down, now
        )
        if not e.net.site_up[group.site]:
            return  # the hosts are off
        conductor, station = e.roles.of(group.site)[Role.CONDUCTOR]
        p = e.params

        def saved(_: Any) -> None:
            t = e.sim.now
            group.nova_last_ok = t
            if t > live.site_last_ok.get(group.site, 0.0):
                live.site_last_ok[group.site] = t
            if group.nova_down:
                group.nova_down = False
                live.came_back(group.site, "nova-compute", t)

        k = group.hosts
        e.messaging_for(group.site).call(
            group.site,
            conductor,
            station,
            p.rpc_small_bytes * k,
            p.rpc_small_bytes * k,
            saved,
            _ignore,
            None,
            k,
            fluid=self.fluid,
        )

    def _resource_tracker(self, group: HostGroup) -> None:
        e = self.e
        e.sim.after(self.rt_period, self._resource_tracker, group)
        if not e.net.site_up[group.site]:
            return
        roles = e.roles.of(group.site)
        conductor, station = roles[Role.CONDUCTOR]
        placement, pst = roles[Role.PLACEMENT]
        p = e.params
        m = e.messaging_for(group.site)
        k = group.hosts

        def call(n: int) -> None:
            if n == 3:
                e.chains.run(
                    round_trip(group.site, placement, pst),
                    p.http_request_bytes * k,
                    k,
                    _ignore,
                    None,
                    None,
                    fluid=self.fluid,
                )
                return
            m.call(
                group.site,
                conductor,
                station,
                p.rpc_small_bytes * k,
                p.rpc_object_bytes * k,
                lambda _: call(n + 1),
                _ignore,
                None,
                k,
                fluid=self.fluid,
            )

        call(0)

    def _neutron_report(self, group: HostGroup) -> None:
        e = self.e
        now = e.sim.now
        e.sim.after(self.neutron_period, self._neutron_report, group)
        live = e.liveness
        group.neutron_down = live.notice_silence(
            group, "neutron-agent", group.neutron_last_ok, live.neutron_down_ms, group.neutron_down, now
        )
        if not e.net.site_up[group.site]:
            return
        neutron, station = e.roles.of(group.site)[Role.NEUTRON]

        def reported(_: Any) -> None:
            group.neutron_last_ok = e.sim.now
            if group.neutron_down:
                group.neutron_down = False
                live.came_back(group.site, "neutron-agent", e.sim.now)

        e.messaging_for(group.site).cast(
            group.site,
            neutron,
            station,
            e.params.rpc_object_bytes * group.hosts,
            reported,
            None,
            None,
            group.hosts,
            fluid=self.fluid,
        )


def _ignore(_: Any) -> None:
    return None
