"""Scheduled faults: cut/restore a link, lose/bring back a site or its brokers; and their impact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wanstack.results.schema import FaultImpact
from wanstack.scenario.faults import Fault, FaultAction

if TYPE_CHECKING:
    from wanstack.sim.engine import Engine

BROKER_KINDS = ("rpc-broker", "notification-broker", "log-leader")
_ENDS = {
    FaultAction.CUT_LINK: FaultAction.RESTORE_LINK,
    FaultAction.SITE_DOWN: FaultAction.SITE_UP,
    FaultAction.BROKER_DOWN: FaultAction.BROKER_UP,
}


@dataclass
class Window:
    fault: Fault
    start: float
    end: float | None = None
    isolated: list[str] = field(default_factory=list)


class Faults:
    def __init__(self, engine: Engine, faults: list[Fault]) -> None:
        self.e = engine
        self.faults = sorted(faults, key=lambda f: f.at_s)
        self.windows: list[Window] = []

    def start(self) -> None:
        for fault in self.faults:
            self.e.sim.at(fault.at_s * 1000.0, self._apply, fault)

    def _target(self, fault: Fault) -> object:
        return tuple(sorted(fault.link)) if fault.link is not None else fault.site

    def _apply(self, fault: Fault) -> None:
        e = self.e
        action = fault.action
        if fault.link is not None:
            e.net.set_link(fault.link[0], fault.link[1], action is FaultAction.RESTORE_LINK)
        elif action in (FaultAction.SITE_DOWN, FaultAction.SITE_UP):
            assert fault.site is not None
            up = action is FaultAction.SITE_UP
            e.net.set_site(fault.site, up)
            for station in e.stations_at(fault.site):
                station.up = up and station.key not in e.brokers_down
        else:
            assert fault.site is not None
            up = action is FaultAction.BROKER_UP
            for kind in BROKER_KINDS:
                key = (kind, fault.site)
                if up:
                    e.brokers_down.discard(key)
                else:
                    e.brokers_down.add(key)
                broker = e.stations.get(key)
                if broker is not None:
                    broker.up = up and e.net.site_up[fault.site]
        e.flows.reroute_or_fail()
        if e.background is not None:
            e.background.refresh_rates()  # hosts cut off or gone stop loading the stations
        if action in _ENDS:
            self.windows.append(Window(fault, e.sim.now, isolated=self._isolated()))
        else:
            for window in self.windows:
                if (
                    window.end is None
                    and _ENDS[window.fault.action] is action
                    and self._target(window.fault) == self._target(fault)
                ):
                    window.end = e.sim.now

    def _isolated(self) -> list[str]:
        """Sites partitioned from the top site (the core of the deployment)."""
        e = self.e
        top = e.placement.top_site
        return [site for site in e.infra.sites if site != top and not e.net.reachable(site, top)]

    def impacts(self, boots: list[tuple[str, float, str]]) -> list[FaultImpact]:
        """`boots`: (site, start time, outcome) of every boot."""
        out = []
        for w in self.windows:
            end = w.end if w.end is not None else float("inf")
            ok: dict[str, int] = {}
            failed: dict[str, int] = {}
            for site, start, outcome in boots:
                if w.start <= start < end:
                    target = ok if outcome == "ok" else failed
                    target[site] = target.get(site, 0) + 1
            target_desc = "–".join(w.fault.link) if w.fault.link else w.fault.site
            out.append(
                FaultImpact(
                    fault=f"{w.fault.action.value} {target_desc}",
                    start_s=w.start / 1000.0,
                    end_s=None if w.end is None else w.end / 1000.0,
                    isolated_sites=w.isolated,
                    boots_ok=ok,
                    boots_failed=failed,
                    sites_still_booting=[s for s in w.isolated if ok.get(s, 0) > 0],
                )
            )
        return out
