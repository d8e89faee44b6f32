"""Run an OpenStack daemon (nova-compute, nova-conductor, ...) by its console script's name with
osprofiler's trace carried across its thread pools (`tracing.carry_trace`):
`python -m wanstack_openstack.daemon NAME ARGS...`. Nothing else in the daemon changes, but for
nova-compute, which also finds wanstack's virt driver under Nova's name for it, and Neutron's daemons,
whose traces go on to the Open vSwitch agent's work on a port and through every RPC endpoint
(`tracing.trace_agent_ports`, `tracing.trace_rpc_endpoints`)."""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points

from wanstack_openstack.tracing import carry_trace, trace_agent_ports, trace_rpc_endpoints, trace_rpc_server

# `compute_driver = wanstack_guestless.GuestlessLibvirt`: wanstack_openstack/virt.py.
GUESTLESS = "nova.virt.wanstack_guestless"


def main() -> None:
    name, *args = sys.argv[1:]
    (script,) = entry_points(group="console_scripts", name=name)
    # Loading the entry point imports the daemon's module first, which selects the concurrency model
    # (Nova's `monkey_patch.patch(backend=...)` runs at import) before futurist is touched here.
    run = script.load()
    carry_trace()
    if name == "nova-compute":
        # Nova imports a virt driver from under nova.virt only (nova/virt/driver.py
        # `load_compute_driver`: "nova.virt." + compute_driver): wanstack's is named there.
        sys.modules[GUESTLESS] = importlib.import_module("wanstack_openstack.virt")
    if name == "neutron-openvswitch-agent":
        trace_agent_ports()  # a new port treated under the trace it carries from nova-compute
    if name.startswith("neutron-"):
        trace_rpc_endpoints()  # neutron-server's endpoints that do not trace themselves
    if name == "neutron-rpc-server":
        trace_rpc_server()
    sys.argv = [name, *args]
    sys.exit(run())


if __name__ == "__main__":
    main()
