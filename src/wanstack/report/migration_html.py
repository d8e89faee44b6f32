"""A plan as an HTML page: the moves on a timeline (one row per route lane), the downtimes, and the
sites' loads before and after — what an operator looks at rather than reads."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from wanstack.migration.planner import Move, Plan
from wanstack.sim.migrations import PlanRun


def _lanes(moves: list[Move]) -> dict[str, str]:
    """Row label per move: its route and the lane it ran on (first free lane, in start order)."""
    free_at: dict[tuple[str, str], list[float]] = defaultdict(list)
    label: dict[str, str] = {}
    for m in sorted(moves, key=lambda m: (m.start_s, m.vm)):
        lanes = free_at[m.src, m.dst]
        i = next((k for k, t in enumerate(lanes) if t <= m.start_s + 1e-9), None)
        if i is None:
            lanes.append(m.end_s)
            i = len(lanes) - 1
        else:
            lanes[i] = m.end_s
        label[m.vm] = f"{m.src} → {m.dst} #{i + 1}"
    return label


def plan_page(plan: Plan, run: PlanRun | None, out: Path) -> Path:
    rows = 3 if plan.loads_before else 2
    titles = ["moves over time (planned)", "downtime per VM"] + (["site load"] if rows == 3 else [])
    fig = make_subplots(rows=rows, cols=1, subplot_titles=titles, vertical_spacing=0.08)
    lane = _lanes(plan.moves)
    for dst in sorted({m.dst for m in plan.moves}):
        moves = [m for m in plan.moves if m.dst == dst]
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=[lane[m.vm] for m in moves],
                x=[m.cost.total_s for m in moves],
                base=[m.start_s for m in moves],
                name=f"to {dst}",
                hovertext=[
                    f"{m.vm}: {m.cost.total_s:.1f} s, down {m.cost.downtime_ms:.0f} ms" for m in moves
                ],
            ),
            row=1,
            col=1,
        )
    planned = sorted(m.cost.downtime_ms for m in plan.moves)
    fig.add_trace(go.Histogram(x=planned, name="planned downtime (ms)", opacity=0.6), row=2, col=1)
    if run is not None:
        simulated = sorted(m.downtime_ms for m in run.moved)
        fig.add_trace(go.Histogram(x=simulated, name="simulated downtime (ms)", opacity=0.6), row=2, col=1)
    if rows == 3:
        sites = sorted(plan.loads_before)
        fig.add_trace(
            go.Bar(x=sites, y=[plan.loads_before[s] for s in sites], name="load before"), row=3, col=1
        )
        fig.add_trace(
            go.Bar(x=sites, y=[plan.loads_after.get(s, 0.0) for s in sites], name="load after"), row=3, col=1
        )
    fig.update_xaxes(title_text="seconds from the start", row=1, col=1)
    fig.update_xaxes(title_text="downtime, ms", row=2, col=1)
    fig.update_layout(
        title=f"{plan.kind}: {len(plan.moves):,} moves, makespan {plan.makespan_s:,.0f} s "
        f"(bound {plan.lower_bound_s:,.0f} s, gap {plan.gap:.1%}, {plan.solver})",
        barmode="overlay",
        height=400 * rows,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(out, include_plotlyjs=True)
    return out
