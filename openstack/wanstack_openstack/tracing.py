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
