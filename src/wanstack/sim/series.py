"""A run's time series: WAN throughput, operations, busiest broker, compute sites seen down."""

from __future__ import annotations

from dataclasses import dataclass, field

from wanstack.results.schema import TimeSeries
from wanstack.sim.background import Liveness
from wanstack.sim.inventory import Inventory
from wanstack.sim.stations import Station
from wanstack.sim.workload import Users
from wanstack.sim.world import OnWorld


@dataclass(kw_only=True)
class SeriesRecorder(OnWorld):
    """Samples the run every `resolution_ms`."""

    users: Users
    inventory: Inventory
    liveness: Liveness
    resolution_ms: float
    series: TimeSeries = field(init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.series = TimeSeries(
            resolution_s=self.resolution_ms / 1000.0,
            series={
                "wan_mbps": [],
                "ops_in_flight": [],
                "ops_finished": [],
                "busiest_broker_utilisation": [],
                "compute_sites_down": [],
            },
        )
        self._wan = 0.0
        self._finished = 0
        self._busy: dict[tuple[str, str], float] = {}
        self._hosted = 0  # sites with compute hosts (`start`)
        self._seen = 0  # stations when `_brokers` was made
        self._brokers: list[tuple[tuple[str, str], Station]] = []

    def start(self) -> None:
        self._hosted = sum(1 for n in self.inventory.hosts.values() if n)
        self.sim.after(self.resolution_ms, self._sample)

    def _sample(self, _: object = None) -> None:
        s = self.series.series
        now = self.sim.now
        resolution = self.resolution_ms
        self.series.t_s.append(now / 1000.0)
        wan = self.net.wan_bytes_total
        s["wan_mbps"].append((wan - self._wan) * 8 / 1e6 / (resolution / 1000.0))
        self._wan = wan
        s["ops_in_flight"].append(float(self.users.in_flight))
        finished = len(self.users.finished)
        s["ops_finished"].append(float(finished - self._finished))
        self._finished = finished
        busiest = 0.0
        by_key = self.stations.by_key
        if len(by_key) != self._seen:  # stations are made on first use
            self._seen = len(by_key)
            self._brokers = [(k, st) for k, st in by_key.items() if k[0] in ("rpc-broker", "router")]
        for key, st in self._brokers:
            area = st.busy_area()
            busiest = max(busiest, (area - self._busy.get(key, 0.0)) / (resolution * st.workers))
            self._busy[key] = area
        s["busiest_broker_utilisation"].append(busiest)
        down = self.liveness.sites_down(self._hosted, now)
        s["compute_sites_down"].append(float(down))
        self.sim.after(resolution, self._sample)
