"""The bench-host plug-in: what the simulator needs to predict this repository's own bench, whose
every process (RabbitMQ, the oslo.messaging roles, the WAN relays) shares one machine's few cores.

A WAN study never loads it: it describes the test machine, not the WAN or OpenStack. It is selected
when a calibration of the bench host is loaded (`sim.calibration.Calibration.bench_host`) and given
to the engine (`SimOptions.host`); the world's chain runner then carries messages through the host's
CPU (`chains.SharedHost`, the runner's `chain.HostModel`), and the network adds the relays' late
timers to every delayed crossing (`world.build_world`).
"""

from __future__ import annotations

from wanstack.sim.host.chains import Curve, SharedHost
from wanstack.sim.host.params import BenchHost
from wanstack.sim.network import Network
from wanstack.sim.stations import Station

__all__ = ["BenchHost", "Curve", "SharedHost", "shared_host"]


def shared_host(host: BenchHost, net: Network, path_ms: float) -> SharedHost | None:
    """The host model that carries messages on the bench's host (None when its cores are not
    modelled: only the relays' timers are, by the network); `path_ms`: a call end's mean path cost
    (`Params.rpc_client_ms`), the CPU an end burns when `host.end_cpu_ms` is not known."""
    if not host.cores:
        return None
    cpu = Station(net.sim, ("host-cpu", "bench"), host.cores, 1.0)
    return SharedHost(net, cpu, host, path_ms if host.end_cpu_ms is None else host.end_cpu_ms)
