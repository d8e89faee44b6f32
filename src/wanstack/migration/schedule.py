"""When each move of a plan starts: list scheduling on the routes' lanes and the source hosts.

Two resources limit a plan: a route's lanes (`routes.Route`) and the source host, which runs one
outgoing live migration at a time — Nova's `max_concurrent_live_migrations` = 1 (nova/conf/compute.py,
"to avoid outbound live migrations overwhelming the host/network"). Moves are started longest first
(LPT, Graham 1969: within 4/3 of the optimum on identical machines) whenever a lane of their route and
their host are free.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass

from wanstack.migration.cost import MigrationCost

HostKey = tuple[str, int]  # (site, host index)
RouteKey = tuple[str, str]  # (from site, to site)


@dataclass(frozen=True)
class Job:
    """A move to schedule: the VM, its source host (site, index), its route (from site, to site), and its
    cost."""

    vm: str
    host: HostKey
    route: RouteKey
    cost: MigrationCost


@dataclass(frozen=True)
class Slot:
    """A scheduled move: the job, when it starts (s from the plan's start), and the route's lane it takes."""

    job: Job
    start_s: float
    lane: int

    @property
    def end_s(self) -> float:
        return self.start_s + self.job.cost.total_s


def list_schedule(jobs: list[Job], lanes: dict[RouteKey, int], per_host: int = 1) -> list[Slot]:
    """Start times of `jobs`, longest first, as lanes and hosts free up."""
    waiting: dict[RouteKey, list[Job]] = defaultdict(list)
    for job in sorted(jobs, key=lambda j: (-j.cost.total_s, j.vm)):
        waiting[job.route].append(job)
    free_lanes = {r: list(range(lanes[r])) for r in waiting}
    host_busy: dict[HostKey, int] = defaultdict(int)
    running: list[tuple[float, int, Slot]] = []  # (end, tie-break, slot)
    slots: list[Slot] = []
    now = 0.0
    seq = 0
    while any(waiting.values()):
        for r in sorted(waiting):
            queue = waiting[r]
            i = 0
            while free_lanes[r] and i < len(queue):
                job = queue[i]
                if host_busy[job.host] >= per_host:
                    i += 1
                    continue
                queue.pop(i)
                slot = Slot(job, now, free_lanes[r].pop())
                host_busy[job.host] += 1
                heapq.heappush(running, (slot.end_s, seq, slot))
                seq += 1
                slots.append(slot)
        if not running:
            break  # cannot happen with at least one lane per route
        end, _, done = heapq.heappop(running)
        now = end
        free_lanes[done.job.route].append(done.lane)
        host_busy[done.job.host] -= 1
        # Everything else that ends now frees its resources too.
        while running and running[0][0] <= now:
            _, _, other = heapq.heappop(running)
            free_lanes[other.job.route].append(other.lane)
            host_busy[other.job.host] -= 1
    return slots
