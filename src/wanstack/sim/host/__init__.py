"""The bench-host plug-in: what the simulator needs to predict this repository's own bench, whose
every process (RabbitMQ, the oslo.messaging roles, the WAN relays) shares one machine's few cores.

A WAN study never loads it: it describes the test machine, not the WAN or OpenStack. It is selected
when a calibration of the bench host is loaded (`sim.calibration.Calibration.bench_host`) and given
to the engine (`SimOptions.host`); the engine then carries messages with `chains.SharedHostChains`
instead of the core's `chain.ChainRunner`, and adds the relays' late timers to every delayed crossing.
"""

from __future__ import annotations

from wanstack.sim.chain import ChainRunner
from wanstack.sim.host.chains import Curve, SharedHostChains
from wanstack.sim.host.params import BenchHost
from wanstack.sim.network import Network
from wanstack.sim.stations import Station

__all__ = ["BenchHost", "Curve", "SharedHostChains", "host_chains"]


def host_chains(host: BenchHost, net: Network, path_ms: float) -> ChainRunner:
    """The chain runner that carries messages on the bench's host; `path_ms`: a call end's mean path
    cost (`Params.rpc_client_ms`), the CPU an end burns when `host.end_cpu_ms` is not known."""
    if not host.cores:
        return ChainRunner(net)
    cpu = Station(net.sim, ("host-cpu", "bench"), host.cores, 1.0)
    return SharedHostChains(net, cpu, host, path_ms if host.end_cpu_ms is None else host.end_cpu_ms)
