"""Evacuation and rebalancing plans: which VM goes where, in which order, how many at once.

Assignment (which site takes each VM) is solved with OR-Tools' CP-SAT under a time limit; the start
times then come from list scheduling (`schedule`). The model:

- x[v, d] = 1 when VM v moves to site d, for the pairs where a move keeps v's downtime under its limit
  (`routes.move_cost`); every VM moves at most once, and a VM that cannot move is reported;
- capacity: the RAM and vCPUs a site takes stay within what it has free (Nova's allocation ratios
  applied, `fleet`); anti-affinity: no two VMs of a group on one site, none where the group already is;
- time: the makespan T is at least each route's work divided by its lanes, and each source host's
  work (one outgoing migration at a time). Evacuation minimises T; rebalancing minimises the highest
  site load under a budget of WAN bytes, then T.

Those constraints hold for every schedule, so the solver's bound on T is a lower bound on any plan's
makespan; so is an analytic one (the bytes that must leave a site over its routes' usable rates, a
host's moves one after another). The gap reported is (scheduled makespan − the higher bound) /
scheduled makespan. For cases too big for the time limit (more pairs than `CP_SAT_MAX_PAIRS`), the
greedy assignment CP-SAT starts from is kept — longest move first, to the site where it finishes
earliest. The search is reproducible (`DET_PER_S`).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from wanstack.migration.cost import MigrationCost
from wanstack.migration.fleet import Fleet, Vm
from wanstack.migration.routes import Route, move_cost, route, shared
from wanstack.migration.schedule import Job, Slot, list_schedule
from wanstack.migration.settings import MigrationSettings
from wanstack.scenario.build import Infrastructure

# Above this many (VM, destination) pairs the greedy assignment is kept without CP-SAT. Measured here
# (benchmarks/migration_planner.py, 2 cores, 20 s): CP-SAT shortens the greedy plan of 1,000 and 2,000
# VMs × 3 sites by 0.2–0.5 %, and does not improve on it at 10,000 or 20,000 VMs × 3 within the limit.
CP_SAT_MAX_PAIRS = 12_000
# CP-SAT's deterministic time budget per second of the wall-clock limit. With interleaved search (its
# deterministic parallel mode) and a deterministic budget, the same input gives the same plan on every
# run — unless the wall-clock limit stops the search first, as it does for 2,000 VMs on this machine.
DET_PER_S = 1.0
TICKS_PER_S = 10  # CP-SAT works in integers: times in tenths of a second


@dataclass(frozen=True)
class Planning:
    """How a plan is made: Nova's migration `settings`, the `solver` ("auto": CP-SAT from a greedy
    start up to 12k VM × destination pairs, "cp-sat" (the plan extra), "greedy") and its time limit, and
    the share of every route's bandwidth other traffic already uses."""

    settings: MigrationSettings = field(default_factory=MigrationSettings)
    solver: str = "auto"
    time_limit_s: float = 20.0
    utilisation: float = 0.0

    def cp_sat(self, pairs: int) -> bool:
        """Whether CP-SAT searches from the greedy assignment, for `pairs` VM × destination pairs."""
        return self.solver == "cp-sat" or (self.solver == "auto" and pairs <= CP_SAT_MAX_PAIRS)


@dataclass(frozen=True)
class Move:
    """One move of a plan: the VM, its source and destination sites, its source host (an index), when it
    starts (s from the plan's start), its cost, and the VM's RAM (MB)."""

    vm: str
    src: str
    dst: str
    host: int
    start_s: float
    cost: MigrationCost
    ram_mb: float = 0.0

    @property
    def end_s(self) -> float:
        return self.start_s + self.cost.total_s


@dataclass
class Plan:
    """An evacuation or rebalancing plan: its moves in start order, the VMs that cannot move with why, the
    routes used, the lower bound on the makespan (s), which solver gave it and how long it took (s), and
    (rebalance) each site's load before and after."""

    kind: str  # "evacuate" or "rebalance"
    moves: list[Move]
    unplaced: dict[str, str]  # VM -> why it cannot move
    routes: dict[tuple[str, str], Route]
    lower_bound_s: float
    solver: str  # "cp-sat optimal", "cp-sat feasible" or "greedy"
    solve_s: float
    loads_before: dict[str, float] = field(default_factory=dict)
    loads_after: dict[str, float] = field(default_factory=dict)

    @property
    def makespan_s(self) -> float:
        return max((m.end_s for m in self.moves), default=0.0)

    @property
    def gap(self) -> float:
        """(makespan − lower bound) / makespan: 0 is proven optimal."""
        span = self.makespan_s
        return max(0.0, (span - self.lower_bound_s) / span) if span > 0 else 0.0

    @property
    def wan_bytes(self) -> float:
        return sum(m.cost.wan_bytes for m in self.moves)

    @property
    def worst_downtime_ms(self) -> float:
        return max((m.cost.downtime_ms for m in self.moves), default=0.0)


@dataclass
class _Problem:
    vms: list[Vm]
    options: dict[str, dict[str, MigrationCost]]  # vm -> destination -> cost
    routes: dict[tuple[str, str], Route]
    free_ram: dict[str, float]
    free_vcpus: dict[str, int]
    groups_at: dict[str, set[str]]
    unplaced: dict[str, str]

    @property
    def pairs(self) -> int:
        return sum(len(o) for o in self.options.values())


def nearest_sites(infra: Infrastructure, site: str, count: int) -> list[str]:
    """The `count` sites nearest `site` by one-way delay, reachable ones only."""
    topo = infra.topology
    others = [s for s in infra.sites if s != site and topo.reachable(site, s)]
    return sorted(others, key=lambda s: (topo.path_delay_ms(site, s), s))[:count]


def _problem(
    infra: Infrastructure,
    fleet: Fleet,
    vms: list[Vm],
    destinations: dict[str, list[str]],  # source site -> destination sites
    settings: MigrationSettings,
    *,
    utilisation: float,
) -> _Problem:
    routes: dict[tuple[str, str], Route] = {}
    for src, dsts in destinations.items():
        for dst in dsts:
            r = route(infra, src, dst, settings, utilisation=utilisation)
            if r is not None and r.bandwidth_mbps > 0:
                routes[src, dst] = r
    routes = shared(infra, routes, settings, utilisation=utilisation)
    options: dict[str, dict[str, MigrationCost]] = {}
    unplaced: dict[str, str] = {}
    for vm in vms:
        found: dict[str, MigrationCost] = {}
        for dst in destinations.get(vm.site, []):
            r = routes.get((vm.site, dst))
            cap = fleet.sites[dst]
            if r is None or vm.guest.memory_mb > cap.free_ram_mb or vm.vcpus > cap.free_vcpus:
                continue
            if vm.group is not None and vm.group in cap.groups:
                continue
            cost = move_cost(vm, r, settings)
            if cost is not None:
                found[dst] = cost
        if found:
            options[vm.id] = found
        else:
            unplaced[vm.id] = "no destination with room, a route, and a move within its downtime limit"
    return _Problem(
        [v for v in vms if v.id in options],
        options,
        routes,
        {s: c.free_ram_mb for s, c in fleet.sites.items()},
        {s: c.free_vcpus for s, c in fleet.sites.items()},
        {s: set(c.groups) for s, c in fleet.sites.items()},
        unplaced,
    )


def _ticks(seconds: float) -> int:
    """Rounded down, so that the model relaxes the real durations and its bound stays a lower bound."""
    return math.floor(seconds * TICKS_PER_S)


def _solve_cp_sat(
    p: _Problem,
    time_limit_s: float,
    hint: dict[str, str] | None,
    *,
    max_load: bool = False,
    ram_total: dict[str, float] | None = None,
    used_ram: dict[str, float] | None = None,
    byte_budget: float | None = None,
    optional: bool = False,
) -> tuple[dict[str, str], float, str]:
    """Assignment, lower bound on the makespan (s), status. `optional`: a VM may stay (rebalance)."""
    from wanstack.extras import importing

    with importing("plan", "a CP-SAT migration plan"):
        from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    x: dict[tuple[str, str], cp_model.IntVar] = {}
    for vm in p.vms:
        for dst in p.options[vm.id]:
            x[vm.id, dst] = m.new_bool_var(f"x[{vm.id},{dst}]")
    moved: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for (vid, _), var in x.items():
        moved[vid].append(var)
    for vm in p.vms:
        if optional:
            m.add_at_most_one(moved[vm.id])
        else:
            m.add_exactly_one(moved[vm.id])
    by_vm = {v.id: v for v in p.vms}
    incoming: dict[str, list[tuple[Vm, cp_model.IntVar]]] = defaultdict(list)
    for (vid, dst), var in x.items():
        incoming[dst].append((by_vm[vid], var))
    for dst, pairs in incoming.items():
        m.add(sum(round(v.guest.memory_mb) * var for v, var in pairs) <= math.floor(p.free_ram[dst]))
        m.add(sum(v.vcpus * var for v, var in pairs) <= p.free_vcpus[dst])
        grouped: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for v, var in pairs:
            if v.group is not None:
                grouped[v.group].append(var)
        for members in grouped.values():
            if len(members) > 1:
                m.add_at_most_one(members)
    horizon = sum(_ticks(max(c.total_s for c in o.values())) for o in p.options.values()) + 1
    span = m.new_int_var(0, horizon, "makespan")
    route_work: dict[tuple[str, str], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    host_work: dict[tuple[str, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    for (vid, dst), var in x.items():
        vm = by_vm[vid]
        t = _ticks(p.options[vid][dst].total_s)
        route_work[vm.site, dst].append((t, var))
        host_work[vm.site, vm.host].append((t, var))
    for key, work in route_work.items():
        m.add(p.routes[key].lanes * span >= sum(t * var for t, var in work))
    for work in host_work.values():
        m.add(span >= sum(t * var for t, var in work))
    if max_load and ram_total is not None and used_ram is not None:
        # Loads in ‰ of each site's RAM: the highest after the moves is minimised first.
        peak = m.new_int_var(0, 1000, "peak")
        outgoing: dict[str, list[tuple[Vm, cp_model.IntVar]]] = defaultdict(list)
        for (vid, _), var in x.items():
            outgoing[by_vm[vid].site].append((by_vm[vid], var))
        for site, total in ram_total.items():
            if total <= 0:
                continue
            ram_in = sum(round(v.guest.memory_mb) * var for v, var in incoming.get(site, []))
            ram_out = sum(round(v.guest.memory_mb) * var for v, var in outgoing.get(site, []))
            m.add(1000 * (round(used_ram[site]) + ram_in - ram_out) <= peak * math.floor(total))
        if byte_budget is not None:
            mb = [(round(p.options[vid][dst].wan_bytes / 1e6), var) for (vid, dst), var in x.items()]
            m.add(sum(b * var for b, var in mb) <= math.floor(byte_budget / 1e6))
        m.minimize(peak * (horizon + 1) + span)
    else:
        m.minimize(span)
    if hint:
        for (vid, dst), var in x.items():
            m.add_hint(var, 1 if hint.get(vid) == dst else 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.max_deterministic_time = DET_PER_S * time_limit_s
    solver.parameters.num_workers = 2  # this machine's cores; more workers only time-share them
    solver.parameters.random_seed = 0
    solver.parameters.interleave_search = True  # deterministic with several workers
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}, 0.0, "cp-sat found no assignment"
    chosen = {vid: dst for (vid, dst), var in x.items() if solver.value(var)}
    # The bound of the combined objective (rebalance) says nothing about the makespan alone.
    bound = 0.0 if max_load else solver.best_objective_bound / TICKS_PER_S
    label = "cp-sat optimal" if status == cp_model.OPTIMAL else "cp-sat feasible"
    return chosen, bound, label


def _greedy(p: _Problem) -> dict[str, str]:
    """Longest move first, to the destination where its route (work over lanes) and its host finish
    earliest, among those with room left."""
    ram = dict(p.free_ram)
    vcpus = dict(p.free_vcpus)
    groups = {s: set(g) for s, g in p.groups_at.items()}
    route_load: dict[tuple[str, str], float] = defaultdict(float)
    host_load: dict[tuple[str, int], float] = defaultdict(float)
    chosen: dict[str, str] = {}
    order = sorted(p.vms, key=lambda v: (-min(c.total_s for c in p.options[v.id].values()), v.id))
    for vm in order:
        best: tuple[float, str] | None = None
        for dst, cost in p.options[vm.id].items():
            if vm.guest.memory_mb > ram[dst] or vm.vcpus > vcpus[dst]:
                continue
            if vm.group is not None and vm.group in groups[dst]:
                continue
            r = p.routes[vm.site, dst]
            finish = max(
                (route_load[vm.site, dst] + cost.total_s) / r.lanes,
                host_load[vm.site, vm.host] + cost.total_s,
            )
            if best is None or (finish, dst) < best:
                best = (finish, dst)
        if best is None:
            continue
        dst = best[1]
        cost = p.options[vm.id][dst]
        chosen[vm.id] = dst
        ram[dst] -= vm.guest.memory_mb
        vcpus[dst] -= vm.vcpus
        if vm.group is not None:
            groups[dst].add(vm.group)
        route_load[vm.site, dst] += cost.total_s
        host_load[vm.site, vm.host] += cost.total_s
    return chosen


def _analytic_bound(p: _Problem, settings: MigrationSettings) -> float:
    """A makespan no plan can beat: every VM takes at least its quickest move; a host runs its moves
    one after another; and the routes out of a site, each lane at most at its usable rate, carry at
    least every VM's smallest number of bytes."""
    quickest = {v.id: min(c.total_s for c in p.options[v.id].values()) for v in p.vms}
    host: dict[tuple[str, int], float] = defaultdict(float)
    for v in p.vms:
        host[v.site, v.host] += quickest[v.id]
    rate_from: dict[str, float] = defaultdict(float)
    for (src, _), r in p.routes.items():
        rate_from[src] += r.lanes * r.lane.usable_bytes_per_s(settings)
    bytes_from: dict[str, float] = defaultdict(float)
    for v in p.vms:
        bytes_from[v.site] += min(c.wan_bytes for c in p.options[v.id].values())
    carried = max((b / rate_from[s] for s, b in bytes_from.items() if rate_from[s] > 0), default=0.0)
    return max(max(host.values(), default=0.0), carried, max(quickest.values(), default=0.0))


def _plan(
    kind: str, p: _Problem, chosen: dict[str, str], bound: float, *, solver: str, started: float
) -> Plan:
    by_vm = {v.id: v for v in p.vms}
    jobs = [
        Job(vid, (by_vm[vid].site, by_vm[vid].host), (by_vm[vid].site, dst), p.options[vid][dst])
        for vid, dst in sorted(chosen.items())
    ]
    slots: list[Slot] = list_schedule(jobs, {k: r.lanes for k, r in p.routes.items()})
    moves = [
        Move(
            s.job.vm,
            s.job.route[0],
            s.job.route[1],
            s.job.host[1],
            s.start_s,
            s.job.cost,
            by_vm[s.job.vm].guest.memory_mb,
        )
        for s in sorted(slots, key=lambda s: (s.start_s, s.job.vm))
    ]
    return Plan(kind, moves, dict(p.unplaced), p.routes, bound, solver, time.perf_counter() - started)


def evacuate(
    infra: Infrastructure,
    fleet: Fleet,
    site: str,
    planning: Planning | None = None,
    *,
    destinations: list[str] | None = None,
    nearest: int = 3,
) -> Plan:
    """Move every VM off `site` (maintenance) to `destinations` (default: its `nearest` sites),
    minimising the time until the last one has moved, as `planning` says (default `Planning()`)."""
    started = time.perf_counter()
    how = planning or Planning()
    s = how.settings
    if site not in infra.sites:
        raise ValueError(f"no site {site!r} in the scenario")
    dsts = destinations or nearest_sites(infra, site, nearest)
    p = _problem(infra, fleet, fleet.at(site), {site: dsts}, s, utilisation=how.utilisation)
    greedy = _greedy(p)
    bound = _analytic_bound(p, s)
    candidates = [(greedy, "greedy")]
    if how.cp_sat(p.pairs) and p.vms:
        cp, cp_bound, cp_label = _solve_cp_sat(p, how.time_limit_s, greedy)
        if cp:
            candidates.append((cp, cp_label))
            bound = max(bound, cp_bound)
    # CP-SAT minimises the bound's terms, not the scheduled makespan: keep whichever assignment
    # schedules shorter (more VMs placed first).
    plans = [
        _plan("evacuate", p, chosen, bound, solver=label, started=started) for chosen, label in candidates
    ]
    best = min(plans, key=lambda plan: (-len(plan.moves), plan.makespan_s, plan.solver != "greedy"))
    if len(plans) > 1 and best is plans[0]:
        best.solver = f"greedy ({candidates[1][1]} scheduled no shorter)"
    placed = {m.vm for m in best.moves}
    for vm in p.vms:
        if vm.id not in placed:
            best.unplaced[vm.id] = "the destinations ran out of room (RAM, vCPUs or anti-affinity)"
    best.solve_s = time.perf_counter() - started
    return best


def loads(fleet: Fleet) -> dict[str, float]:
    """Each site's load in `fleet` (the share of its RAM in use)."""
    return {name: cap.load for name, cap in fleet.sites.items()}


def rebalance(
    infra: Infrastructure,
    fleet: Fleet,
    budget_bytes: float,
    planning: Planning | None = None,
    *,
    candidates_per_site: int = 200,
) -> Plan:
    """Move VMs from sites above the mean load to sites below it, lowering the highest load as far as
    `budget_bytes` over the WAN allow (then the makespan), as `planning` says (default `Planning()`).
    Each loaded site offers its `candidates_per_site` largest VMs (the ones that shift load the most
    per move)."""
    started = time.perf_counter()
    how = planning or Planning()
    s = how.settings
    before = loads(fleet)
    mean = sum(c.used_ram_mb for c in fleet.sites.values()) / max(
        1.0, sum(c.ram_mb for c in fleet.sites.values())
    )
    hot = [n for n, load in before.items() if load > mean]
    cold = [n for n, load in before.items() if load < mean]
    vms = [
        v
        for n in hot
        for v in sorted(fleet.at(n), key=lambda v: (-v.guest.memory_mb, v.id))[:candidates_per_site]
    ]
    p = _problem(infra, fleet, vms, {n: cold for n in hot}, s, utilisation=how.utilisation)
    p.unplaced.clear()  # in a rebalance, staying is a fine outcome
    ram_total = {n: c.ram_mb for n, c in fleet.sites.items()}
    used = {n: c.used_ram_mb for n, c in fleet.sites.items()}
    greedy = _greedy_rebalance(p, fleet, budget_bytes)
    chosen, label = greedy, "greedy"
    if how.cp_sat(p.pairs) and p.vms:
        cp, _, cp_label = _solve_cp_sat(
            p,
            how.time_limit_s,
            greedy,
            max_load=True,
            ram_total=ram_total,
            used_ram=used,
            byte_budget=budget_bytes,
            optional=True,
        )
        if cp or not greedy:
            chosen, label = cp, cp_label
    sub = _Problem(
        [v for v in p.vms if v.id in chosen],
        {vid: p.options[vid] for vid in chosen},
        p.routes,
        p.free_ram,
        p.free_vcpus,
        p.groups_at,
        {},
    )
    plan = _plan("rebalance", sub, chosen, _analytic_bound(sub, s), solver=label, started=started)
    after = dict(used)
    by_vm = {v.id: v for v in p.vms}
    for vid, dst in chosen.items():
        after[by_vm[vid].site] -= by_vm[vid].guest.memory_mb
        after[dst] += by_vm[vid].guest.memory_mb
    plan.loads_before = before
    plan.loads_after = {n: after[n] / ram_total[n] if ram_total[n] else 1.0 for n in after}
    return plan


def _greedy_rebalance(p: _Problem, fleet: Fleet, budget_bytes: float) -> dict[str, str]:
    """Repeatedly move, from the most loaded site, the largest VM that fits to the least loaded site
    it can reach, while the move lowers the highest load and the budget lasts."""
    used = {n: c.used_ram_mb for n, c in fleet.sites.items()}
    total = {n: c.ram_mb for n, c in fleet.sites.items()}
    vcpus = dict(p.free_vcpus)
    by_site: dict[str, list[Vm]] = defaultdict(list)
    for v in sorted(p.vms, key=lambda v: (-v.guest.memory_mb, v.id)):
        by_site[v.site].append(v)
    spent = 0.0
    chosen: dict[str, str] = {}

    def load(n: str) -> float:
        return used[n] / total[n] if total[n] else 1.0

    while True:
        hot = max(by_site, key=lambda n: (load(n), n), default=None)
        if hot is None or not by_site[hot]:
            break
        moved = False
        for vm in list(by_site[hot]):
            options = sorted(p.options[vm.id].items(), key=lambda kv: (load(kv[0]), kv[0]))
            for dst, cost in options:
                new_dst = (used[dst] + vm.guest.memory_mb) / total[dst]
                if new_dst >= load(hot) or spent + cost.wan_bytes > budget_bytes:
                    continue
                if used[dst] + vm.guest.memory_mb > total[dst] or vm.vcpus > vcpus[dst]:
                    continue
                chosen[vm.id] = dst
                spent += cost.wan_bytes
                used[hot] -= vm.guest.memory_mb
                used[dst] += vm.guest.memory_mb
                vcpus[dst] -= vm.vcpus
                by_site[hot].remove(vm)
                moved = True
                break
            if moved:
                break
        if not moved:
            break
    return chosen
