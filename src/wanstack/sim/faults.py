"""Scheduled faults: cut/restore a link, lose/bring back a site or its brokers; and their impact."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from wanstack.results.schema import FaultImpact
from wanstack.scenario.faults import Fault, FaultAction
from wanstack.sim.world import OnWorld

BROKER_KINDS = ("rpc-broker", "notification-broker", "log-leader")
_ENDS = {
    FaultAction.CUT_LINK: FaultAction.RESTORE_LINK,
    FaultAction.SITE_DOWN: FaultAction.SITE_UP,
    FaultAction.BROKER_DOWN: FaultAction.BROKER_UP,
    FaultAction.AGENT_DOWN: FaultAction.AGENT_UP,
}


@dataclass
class Window:
    """A fault's window in simulated ms: from the fault to its end (`restore-link`, `site-up`, ...; None while
    it lasts), and the sites it cut off from the top site when it struck."""

    fault: Fault
    start: float
    end: float | None = None
    isolated: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Faults(OnWorld):
    """Applies the scenario's faults at their times; `changed()` runs after each (flows reroute or
    fail, the background's fluid rates follow); `top` is the core of the deployment, from which a
    site is isolated."""

    faults: list[Fault]
    top: str
    sites: list[str]
    changed: Callable[[], None]
    # Sites whose L2 agents are stopped (`agent-down`): the background sends none of their reports.
    agents_down: set[str] = field(default_factory=set)
    windows: list[Window] = field(default_factory=list)
    _pending: deque[float] = field(default_factory=deque)  # the times of the faults still to come

    def start(self) -> None:
        times = sorted(fault.at_s * 1000.0 for fault in self.faults)
        self._pending = deque(times)
        self.net.quiet_until = times[0] if times else math.inf
        for fault in sorted(self.faults, key=lambda f: f.at_s):
            self.sim.at(fault.at_s * 1000.0, self._apply, fault)

    def _target(self, fault: Fault) -> object:
        return tuple(sorted(fault.link)) if fault.link is not None else fault.site

    def _apply(self, fault: Fault) -> None:
        action = fault.action
        stations = self.stations
        if fault.link is not None:
            self.net.set_link(fault.link[0], fault.link[1], action is FaultAction.RESTORE_LINK)
        elif action in (FaultAction.AGENT_DOWN, FaultAction.AGENT_UP):
            assert fault.site is not None
            if action is FaultAction.AGENT_DOWN:
                self.agents_down.add(fault.site)
            else:
                self.agents_down.discard(fault.site)
        elif action in (FaultAction.SITE_DOWN, FaultAction.SITE_UP):
            assert fault.site is not None
            up = action is FaultAction.SITE_UP
            self.net.set_site(fault.site, up)
            for station in stations.at(fault.site):
                station.up = up and station.key not in stations.brokers_down
        else:
            assert fault.site is not None
            up = action is FaultAction.BROKER_UP
            for kind in BROKER_KINDS:
                key = (kind, fault.site)
                if up:
                    stations.brokers_down.discard(key)
                else:
                    stations.brokers_down.add(key)
                broker = stations.by_key.get(key)
                if broker is not None:
                    broker.up = up and self.net.site_up[fault.site]
        self.changed()
        pending = self._pending
        pending.popleft()
        self.net.quiet_until = pending[0] if pending else math.inf
        now = self.sim.now
        if action in _ENDS:
            self.windows.append(Window(fault, now, isolated=self._isolated()))
        else:
            for window in self.windows:
                if (
                    window.end is None
                    and _ENDS[window.fault.action] is action
                    and self._target(window.fault) == self._target(fault)
                ):
                    window.end = now

    def _isolated(self) -> list[str]:
        """Sites partitioned from the top site (the core of the deployment)."""
        return [site for site in self.sites if site != self.top and not self.net.reachable(site, self.top)]

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
