"""The global inventory in simulated time: a view at the top site that follows each region's nova-api
while it answers and keeps, for a site it can no longer reach, its count at the moment it last
could. At any moment it gives `multiregion.inventory.Inventory`: live where the region answers, last
known or unreachable where it does not.

Reachability only changes on a fault, so the view is updated then (`network_changed`) rather than
polled: a real poller's counts would be up to one poll period older than these."""

from __future__ import annotations

from dataclasses import dataclass, field

from wanstack.multiregion.inventory import Counts, Inventory, site_count
from wanstack.results.schema import InventoryRow
from wanstack.scenario.services import Service
from wanstack.sim.inventory import Inventory as Servers
from wanstack.sim.world import OnWorld


@dataclass(kw_only=True)
class InventoryWatch(OnWorld):
    """The top site's view of every compute site's servers: live while the nova-api that lists them answers,
    the count it last had (with its time, s) once it does not, none for a site never reached; `view` gives it
    as a `multiregion.inventory.Inventory`, `results` as the result's rows."""

    servers: Servers
    # The most each compute site's hosts hold (1-vCPU servers, vCPUs, RAM), from the world's sites.
    capacity: dict[str, Counts] = field(init=False)
    last_known: dict[str, tuple[float, Counts]] = field(default_factory=dict)  # sites out of reach
    never: set[str] = field(default_factory=set)  # sites that have never answered
    _api: dict[str, str] = field(default_factory=dict)  # the nova-api that lists each site's servers

    def __post_init__(self) -> None:
        super().__post_init__()
        self.capacity = {
            name: Counts(
                site.host_count * site.hosts.vcpus,
                site.host_count * site.hosts.vcpus,
                # nova counts RAM in MiB (its "MB"): ram_gb GiB per host
                round(site.host_count * site.hosts.ram_gb * 1024),
            )
            for name, site in self.world.infra.sites.items()
            if site.host_count
        }
        self._api = {s: self.placement.serving(Service.NOVA_API, s) or s for s in self.capacity}

    def start(self) -> None:
        # A first look once the faults of time 0 have struck (events at one time run in order).
        self.sim.after(0.0, self._first_look)

    def _first_look(self, _: object = None) -> None:
        self.never = {site for site in self.capacity if not self._answers(site)}

    def _answers(self, site: str) -> bool:
        """Whether the top site reaches the nova-api that lists `site`'s servers."""
        return self.net.reachable(self.placement.top_site, self._api[site])

    def network_changed(self) -> None:
        now_s = self.sim.now / 1000.0
        for site in self.capacity:
            if self._answers(site):
                self.last_known.pop(site, None)
                self.never.discard(site)
            elif site not in self.last_known and site not in self.never:
                self.last_known[site] = (now_s, Counts(*self.servers.at_site(site)))

    def view(self) -> Inventory:
        now_s = self.sim.now / 1000.0
        rows = []
        for site, capacity in self.capacity.items():
            live = self._answers(site)
            answered = (now_s, Counts(*self.servers.at_site(site))) if live else self.last_known.get(site)
            if site in self.never:
                answered, live = None, False
            region = self.placement.region_of.get(site, "")
            rows.append(
                site_count(region, site, now_s=now_s, answered=answered, live=live, capacity=capacity)
            )
        return Inventory(now_s, tuple(rows))

    def results(self) -> list[InventoryRow]:
        return [
            InventoryRow(
                region=r.region,
                site=r.site,
                source=r.source.value,
                as_of_s=r.as_of_s,
                instances=None if r.counts is None else r.counts.instances,
                vcpus=None if r.counts is None else r.counts.vcpus,
                instances_low=r.low.instances,
                instances_high=r.high.instances,
                vcpus_low=r.low.vcpus,
                vcpus_high=r.high.vcpus,
                ram_mb=None if r.counts is None else r.counts.ram_mb,
                ram_mb_low=r.low.ram_mb,
                ram_mb_high=r.high.ram_mb,
            )
            for r in self.view().rows
        ]
