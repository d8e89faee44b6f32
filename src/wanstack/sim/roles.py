"""Who plays each role of a workflow for a given target site, and the stations they run on."""

from __future__ import annotations

from collections.abc import Callable

from wanstack.scenario.placement import Placement
from wanstack.scenario.services import Service
from wanstack.sim.stations import Station
from wanstack.sim.workflows import Role

HOST_ROLES = (Role.USER, Role.COMPUTE, Role.AGENT)


class Roles:
    """Role -> site and role -> station for one target site, resolved once per site and cached."""

    def __init__(self, placement: Placement, station: Callable[[str, str], Station]) -> None:
        self.placement = placement
        self.station_for = station
        self._cache: dict[str, dict[Role, tuple[str, Station | None]]] = {}

    def of(self, site: str) -> dict[Role, tuple[str, Station | None]]:
        found = self._cache.get(site)
        if found is None:
            found = {}
            for role in Role:
                if role in HOST_ROLES:
                    found[role] = (site, None)
                else:
                    server = self.placement.serving(Service(role.value), site)
                    if server is None:
                        raise ValueError(f"{role.value} serves no instance for site {site!r}")
                    found[role] = (server, self.station_for(role.value, server))
            self._cache[site] = found
        return found
