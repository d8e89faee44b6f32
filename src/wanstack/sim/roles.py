"""Who plays each role of a workflow for a given target site, and the stations they run on."""

from __future__ import annotations

from collections.abc import Callable

from wanstack.scenario.placement import Placement
from wanstack.scenario.services import Service
from wanstack.sim.stations import Station
from wanstack.sim.workflows import Role

HOST_ROLES = (Role.USER, Role.COMPUTE, Role.AGENT)
# Every role in `Role`'s order, with the service that plays it (None: the host's own), worked out once:
# iterating an Enum and calling one by value cost a 10,000-site run a third of a second.
_PLAYED_BY = tuple((role, None if role in HOST_ROLES else Service(role.value)) for role in Role)


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
            for role, service in _PLAYED_BY:
                if service is None:
                    found[role] = (site, None)
                else:
                    server = self.placement.serving(service, site)
                    if server is None:
                        raise ValueError(f"{role.value} serves no instance for site {site!r}")
                    found[role] = (server, self.station_for(role.value, server))
            self._cache[site] = found
        return found
