"""osprofiler's trace carried across the thread pools of OpenStack's services, and never left behind.

osprofiler keeps the active trace in thread-local storage (`osprofiler/profiler.py`, `__local_ctx`).
With the threading backends of Nova 34 and oslo.messaging 18, work runs on pooled threads of futurist
executors: oslo.messaging's RPC server (`server.py`, `executor_thread_pool_size` threads), Nova's
pools (`nova/thread_pool_factory.py`), oslo.service's looping calls
(`oslo_service/backend/_threading/loopingcall.py`, `_spawn_loop`). Two things went wrong on the
testbed, seen in its traces:

- a pooled thread keeps the last trace it ran under, so later work submitted without one (a message
  with no trace, a task spawned by an untraced thread) is written into that old trace: from the
  second traced boot on, nova-compute's and the conductor's points went to the first boot's trace;
- a looping call carries nothing (Nova's own `thread_pool_factory.spawn` does carry the trace, with
  `_serialize_profile_info` and `profiler.init` in the new thread), so a delete's network deallocation
  (`ComputeManager._try_deallocate_network`, a `loopingcall.RetryDecorator`) was never traced.

`carry_trace()` makes every futurist pool do what Nova's `spawn` does: the task runs under the
submitter's trace, or under none, and leaves its thread clean.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def carry_trace() -> None:
    import futurist
    from osprofiler import profiler

    submit = futurist.ThreadPoolExecutor.submit

    def traced_submit(self: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        active = profiler.get()
        trace = None if active is None else (active.hmac_key, active.get_base_id(), active.get_id())

        def run(*a: Any, **kw: Any) -> Any:
            if trace is None:
                profiler.clean()
            else:
                profiler.init(trace[0], base_id=trace[1], parent_id=trace[2])
            try:
                return fn(*a, **kw)
            finally:
                profiler.clean()

        return submit(self, run, *args, **kwargs)

    futurist.ThreadPoolExecutor.submit = traced_submit  # type: ignore[method-assign]


# --- the trace carried to Neutron's Open vSwitch agent, and through neutron-server's RPC endpoints ---
#
# An agent's work on a new port is not caused by a request osprofiler can follow: nova-compute plugs the
# VIF into the switch, and the agent's loop sees the port in OVSDB (ovs_neutron_agent.py `rpc_loop` ->
# `process_network_ports`). So the trace goes with the port, as an external id of its OVSDB Interface
# beside the ones libvirt and os-vif set (iface-id, attached-mac, vm-uuid): `port_trace()` is written
# there by the compute, `trace_agent_ports()` makes the agent treat a port under the trace found there.
# Once the agent runs under a trace its RPCs carry it (neutron_lib/rpc.py `RequestContextSerializer`
# puts `trace_info` in the context, the server's side `profiler.init`s from it), but neutron-server
# traces only some RPC endpoints itself (`@profiler.trace("rpc")` on neutron/plugins/ml2/rpc.py
# `update_device_up`/`_down`/`_list`): `trace_rpc_endpoints()` traces the others (device details,
# security groups, the resource cache's pulls) as Nova's services trace theirs.

PORT_TRACE = "wanstack-trace"  # the Interface's external id holding "<base id> <parent id>"


def port_trace() -> str | None:
    """The active trace as a port's external id carries it ("<base id> <parent id>"), None when none is
    active."""
    from osprofiler import profiler

    active = profiler.get()
    return None if active is None else f"{active.get_base_id()} {active.get_id()}"


def trace_agent_ports() -> None:
    """The Open vSwitch agent treats new ports under the trace their Interface carries (`PORT_TRACE`,
    the first found), in a span `agent` of its own: its RPCs to neutron-server then carry it."""
    from neutron.plugins.ml2.drivers.openvswitch.agent.ovs_neutron_agent import OVSNeutronAgent
    from oslo_config import cfg
    from osprofiler import profiler

    process = OVSNeutronAgent.process_network_ports

    def traced(self: Any, port_info: dict[str, Any], provisioning_needed: bool) -> Any:
        found = None
        added = sorted(port_info.get("added", set()))
        if added and cfg.CONF.profiler.enabled:
            rows = self.int_br.ovsdb.db_find("Interface", columns=["external_ids"]).execute(check_error=True)
            for row in rows:
                ids = row["external_ids"]
                if ids.get("iface-id") in added and PORT_TRACE in ids:
                    found = ids[PORT_TRACE].split()
                    break
        if found is None:
            return process(self, port_info, provisioning_needed)
        base_id, parent_id = found
        profiler.init(cfg.CONF.profiler.hmac_keys.split(",")[0], base_id=base_id, parent_id=parent_id)
        try:
            info = {"function": {"name": "OVSNeutronAgent.process_network_ports"}, "added": added}
            with profiler.Trace("agent", info=info):
                return process(self, port_info, provisioning_needed)
        finally:
            profiler.clean()

    OVSNeutronAgent.process_network_ports = traced


class _TracedEndpoint:
    """An RPC endpoint whose `method` runs in an osprofiler `rpc` span (when a trace is active and the
    method does not trace itself)."""

    def __init__(self, endpoint: Any, method: str) -> None:
        self._endpoint = endpoint
        self._method = method

    def __getattr__(self, name: str) -> Any:
        from osprofiler import profiler

        func = getattr(self._endpoint, name)
        if name != self._method or getattr(func, "__traced__", 0):
            return func
        kind = type(self._endpoint)
        info = {"function": {"name": f"{kind.__module__}.{kind.__qualname__}.{name}"}}

        def run(*args: Any, **kwargs: Any) -> Any:
            if profiler.get() is None:
                return func(*args, **kwargs)
            with profiler.Trace("rpc", info=info):
                return func(*args, **kwargs)

        return run


def trace_rpc_endpoints() -> None:
    """Every RPC method an oslo.messaging server runs is traced under the caller's trace (the
    dispatcher's `_do_dispatch` restores it from the context before it calls the endpoint)."""
    from oslo_messaging.rpc.dispatcher import RPCDispatcher

    dispatch = RPCDispatcher._do_dispatch

    def traced(self: Any, endpoint: Any, method: str, ctxt: Any, args: Any) -> Any:
        return dispatch(self, _TracedEndpoint(endpoint, method), method, ctxt, args)

    RPCDispatcher._do_dispatch = traced


def trace_rpc_server() -> None:
    """neutron-rpc-server writes its trace points as neutron-server does: neutron/server/api.py sets
    osprofiler up (`neutron.common.profiler.setup`) and agents' `neutron.service.Service` does, but
    neutron/server/rpc.py `rpc_server` does not, so the RPC server restores a caller's trace from the
    context and sends its points nowhere. Set up with its configuration once parsed, before its
    workers start."""
    from neutron.common import profiler
    from neutron.server import rpc
    from oslo_config import cfg

    serve = rpc.rpc_server

    def traced() -> Any:
        profiler.setup("neutron-rpc-server", cfg.CONF.host)
        return serve()

    rpc.rpc_server = traced
