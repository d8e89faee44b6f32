"""Tables and files for migration advice, plans, and their simulated runs."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from wanstack.migration.advisor import Advice
from wanstack.migration.fleet import Vm
from wanstack.migration.mobility import PolicyOutcome
from wanstack.migration.planner import Plan
from wanstack.results.json_text import json_text
from wanstack.sim.migrations import PlanRun
from wanstack.words import count


def _s(seconds: float) -> str:
    return f"{seconds:,.1f} s" if seconds < 600 else f"{seconds / 60:,.1f} min"


def _gb(nbytes: float) -> str:
    return f"{nbytes / 1e9:,.1f} GB"


def advice_table(advice: Advice) -> Table:
    """Every destination with the score's terms (seconds of service over the horizon)."""
    t = Table(title=advice.reason, title_justify="left")
    for col in ("site", "score", "gain", "transfer", "downtime", "latency", "congestion", "distance"):
        t.add_column(col, justify="left" if col == "site" else "right")
    t.add_column("migration", justify="right")
    t.add_column("verdict")
    for c in advice.candidates:
        terms = [f"{c.terms.get(k, 0.0):+,.0f}" for k in ("gain", "transfer", "downtime", "latency")]
        terms += [f"{c.terms.get(k, 0.0):+,.1f}" for k in ("congestion", "distance")]
        cost = (
            f"{_s(c.cost.total_s)}, down {c.cost.downtime_ms:,.0f} ms"
            if c.cost is not None and c.cost.converged
            else "does not converge"
        )
        verdict = c.why_not or ("best" if c.site == advice.move_to else "allowed")
        t.add_row(c.site, f"{c.score:+,.0f}" if c.terms else "-", *terms, cost, verdict)
    return t


def site_advice_table(site: str, advice: Sequence[Advice]) -> Table:
    """The advice for every VM of `site` summed up: each decision (move where, or don't), how many VMs
    got it, and the median of their best scores, the most common decision first."""
    table = Table(title=f"{count(len(advice), 'VM')} at {site}", title_justify="left")
    for col in ("decision", "VMs", "best score (median)"):
        table.add_column(col, justify="left" if col == "decision" else "right")
    decisions: dict[str, list[float | None]] = {}
    for a in advice:
        # No allowed destination (capacity, --max-users-rtt, ...): no best score, not NaN.
        best = next((c.score for c in a.candidates if c.allowed and math.isfinite(c.score)), None)
        decisions.setdefault(f"move to {a.move_to}" if a.move_to else "don't migrate", []).append(best)
    for decision, bests in sorted(decisions.items(), key=lambda kv: -len(kv[1])):
        table.add_row(decision, f"{len(bests):,}", _median_score(bests))
    return table


def _median_score(bests: list[float | None]) -> str:
    scores = sorted(x for x in bests if x is not None)
    if not scores:
        return "n/a (no allowed destination)"
    return f"{scores[len(scores) // 2]:+,.0f}"


def follow_table(vm: Vm, moves: int, outcomes: Sequence[PolicyOutcome]) -> Table:
    """`vm` following a user over `moves` moves, per policy: the user's round trips, the migrations,
    their bytes over the WAN and the downtime they add up to."""
    table = Table(title=f"{vm.id} ({vm.flavor}) following a user over {count(moves, 'move')}")
    for col in ("policy", "mean RTT", "p95 RTT", "migrations", "WAN bytes", "downtime in all"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for o in outcomes:
        table.add_row(
            o.policy,
            f"{o.mean_rtt_ms:.1f} ms",
            f"{o.p95_rtt_ms:.1f} ms",
            str(o.migrations),
            f"{o.wan_bytes / 1e9:,.1f} GB",
            f"{o.downtime_ms / 1000:,.2f} s",
        )
    return table


def plan_table(plan: Plan) -> Table:
    t = Table(title=f"{plan.kind} plan", title_justify="left", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    planned = len(plan.moves)
    t.add_row("VMs moved / not movable", f"{planned:,} / {len(plan.unplaced):,}")
    t.add_row("makespan (planned)", _s(plan.makespan_s))
    t.add_row("lower bound (proven)", _s(plan.lower_bound_s))
    t.add_row("optimality gap", f"{plan.gap:.1%}")
    t.add_row("solver, time", f"{plan.solver}, {plan.solve_s:.1f} s")
    t.add_row("bytes over the WAN", _gb(plan.wan_bytes))
    t.add_row("worst downtime (planned)", f"{plan.worst_downtime_ms:,.0f} ms")
    strategies: dict[str, int] = defaultdict(int)
    for m in plan.moves:
        strategies[m.cost.strategy.value] += 1
    t.add_row("by strategy", ", ".join(f"{k} {v:,}" for k, v in sorted(strategies.items())) or "-")
    return t


def routes_table(plan: Plan) -> Table:
    t = Table(title="routes", title_justify="left")
    for col in ("from → to", "bandwidth", "RTT", "lanes", "VMs", "RAM", "bytes", "busy until"):
        t.add_column(col, justify="left" if col == "from → to" else "right")
    by_route: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for m in plan.moves:
        by_route[m.src, m.dst].append(m)
    for key, r in sorted(plan.routes.items()):
        moves = by_route.get(key, [])
        if not moves:
            continue
        t.add_row(
            f"{key[0]} → {key[1]}",
            f"{r.bandwidth_mbps / 1000:,.1f} Gbit/s",
            f"{r.rtt_ms:.1f} ms",
            str(r.lanes),
            f"{len(moves):,}",
            f"{sum(m.ram_mb for m in moves) / 1024:,.0f} GiB",
            _gb(sum(m.cost.wan_bytes for m in moves)),
            _s(max(m.end_s for m in moves)),
        )
    return t


def loads_table(plan: Plan) -> Table:
    t = Table(title="site load (RAM in use)", title_justify="left")
    for col in ("site", "before", "after"):
        t.add_column(col, justify="left" if col == "site" else "right")
    for site in sorted(plan.loads_before):
        t.add_row(site, f"{plan.loads_before[site]:.1%}", f"{plan.loads_after.get(site, 0.0):.1%}")
    return t


def run_table(run: PlanRun) -> Table:
    """The plan as simulated: makespan, downtimes, bytes; and the workload's boots with and without it."""
    t = Table(title="simulated", title_justify="left", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    moved = run.moved
    outcomes: dict[str, int] = defaultdict(int)
    for m in run.moves:
        outcomes[m.outcome] += 1
    t.add_row("outcomes", ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))
    t.add_row("makespan", _s(run.makespan_s))
    if moved:
        down = np.array([m.downtime_ms for m in moved])
        t.add_row(
            "downtime p50 / p95 / max",
            f"{np.percentile(down, 50):,.0f} / {np.percentile(down, 95):,.0f} / {down.max():,.0f} ms",
        )
        over = sum(1 for m in moved if m.planned_total_s and m.total_s > 1.05 * m.planned_total_s)
        t.add_row("moves > 5 % slower than planned", f"{over:,}")
        t.add_row("bytes over the WAN", _gb(sum(m.wan_bytes for m in run.moves)))
    for op in run.result.operations:
        baseline = run.baseline
        base = next((b for b in baseline.operations if b.op == op.op), None) if baseline else None
        p50 = op.latency_ms.p50 if op.latency_ms else None
        if p50 is None:
            continue
        text = f"{p50:,.0f} ms"
        if base is not None and base.latency_ms is not None and base.latency_ms.p50:
            text += f" (without the plan {base.latency_ms.p50:,.0f} ms, {p50 / base.latency_ms.p50 - 1:+.1%})"
        t.add_row(f"{op.op} p50 meanwhile", text)
    return t


PLAN_FILE = "plan.json"  # what `migrate … --out DIR` writes into its folder


def write_plan(plan: Plan, out: Path, run: PlanRun | None = None) -> Path:
    """The plan (and its simulated run) as JSON, one record per VM, into the folder `out` (PLAN_FILE)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / PLAN_FILE
    path.write_text(json_text(plan_document(plan, run), indent=1), encoding="utf-8")
    return path


def plan_document(plan: Plan, run: PlanRun | None = None) -> dict[str, Any]:
    """The plan (and its simulated run) as data: its figures, and one record per VM."""
    simulated = {m.vm: m for m in run.moves} if run is not None else {}
    moves = []
    for m in plan.moves:
        record: dict[str, Any] = {
            "vm": m.vm,
            "from": m.src,
            "to": m.dst,
            "host": m.host,
            "start_s": round(m.start_s, 3),
            "planned_total_s": round(m.cost.total_s, 3),
            "planned_downtime_ms": round(m.cost.downtime_ms, 1),
            "strategy": m.cost.strategy.value,
            "planned_wan_bytes": round(m.cost.wan_bytes),
        }
        sim = simulated.get(m.vm)
        if sim is not None:
            record |= {
                "simulated_start_s": round(sim.start_s, 3),
                "simulated_total_s": round(sim.total_s, 3),
                "simulated_downtime_ms": round(sim.downtime_ms, 1),
                "simulated_wan_bytes": round(sim.wan_bytes),
                "simulated_rounds": sim.rounds,
                "outcome": sim.outcome,
            }
        moves.append(record)
    return {
        "kind": plan.kind,
        "solver": plan.solver,
        "solve_s": round(plan.solve_s, 3),
        "makespan_s": round(plan.makespan_s, 3),
        "lower_bound_s": round(plan.lower_bound_s, 3),
        "gap": round(plan.gap, 4),
        "wan_bytes": round(plan.wan_bytes),
        "simulated_makespan_s": round(run.makespan_s, 3) if run is not None else None,
        # Where the simulation does not bear the plan out (`PlanRun.problems`); None when not simulated.
        "problems": run.problems(plan.makespan_s) if run is not None else None,
        "unplaced": plan.unplaced,
        "loads_before": plan.loads_before,
        "loads_after": plan.loads_after,
        "moves": moves,
    }
