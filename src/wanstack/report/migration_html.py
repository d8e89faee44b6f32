"""A plan as an HTML page in the house layout (`wanstack migrate evacuate|rebalance --html`): the plan's
and the simulation's tables, then the moves on a timeline (one row per route lane) as planned and as
simulated — failed, aborted and unfinished moves marked — the downtimes, and the sites' loads."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from wanstack.migration.planner import Move, Plan
from wanstack.report.html.page import PALETTE, Section, render, rich_html, style
from wanstack.report.migration import loads_table, plan_table, routes_table, run_table
from wanstack.sim.migrations import PlanRun, SimulatedMove

# How a simulated move ended: its colour and what the legend calls it.
OUTCOMES = {
    "moved": ("#2ca02c", "moved"),
    "aborted": ("#ff7f0e", "aborted (did not converge)"),
    "failed": ("#d62728", "failed"),
    "pending": ("#7f7f7f", "still running when the run ended"),
}


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


def _lane_axis(fig: go.Figure, lanes: list[str], until_s: float) -> go.Figure:
    """Lanes top to bottom; time from 0 to `until_s`, the same in the planned and simulated figures."""
    fig.update_yaxes(categoryorder="array", categoryarray=sorted(set(lanes))[::-1], automargin=True)
    fig.update_xaxes(title_text="seconds from the plan's start", range=[0, 1.02 * until_s])
    fig.update_layout(barmode="overlay")
    return style(fig, 120 + 26 * len(set(lanes)))


def _until(plan: Plan, run: PlanRun | None) -> float:
    ends = [m.end_s for m in run.moves if np.isfinite(m.end_s)] if run is not None else []
    return max([plan.makespan_s, *ends, 1.0])


def planned_figure(plan: Plan, until_s: float) -> go.Figure:
    """The moves as planned: a bar per move on its route's lane, coloured by destination."""
    lane = _lanes(plan.moves)
    fig = go.Figure()
    for i, dst in enumerate(sorted({m.dst for m in plan.moves})):
        moves = [m for m in plan.moves if m.dst == dst]
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=[lane[m.vm] for m in moves],
                x=[m.cost.total_s for m in moves],
                base=[m.start_s for m in moves],
                name=f"to {dst}",
                marker={"color": PALETTE[i % len(PALETTE)], "line": {"width": 1, "color": "#fff"}},
                hovertext=[
                    f"{m.vm}: {m.cost.total_s:,.1f} s, down {m.cost.downtime_ms:,.0f} ms" for m in moves
                ],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    return _lane_axis(fig, list(lane.values()), until_s)


def simulated_figure(plan: Plan, run: PlanRun) -> go.Figure:
    """The moves as simulated, on the planned lanes: a bar from start to end coloured by how the move
    ended; a cross where a move failed or was aborted."""
    lane = _lanes(plan.moves)
    fig = go.Figure()
    by_outcome: dict[str, list[SimulatedMove]] = defaultdict(list)
    for m in run.moves:
        by_outcome[m.outcome].append(m)
    for outcome, (col, name) in OUTCOMES.items():
        moves = [m for m in by_outcome.get(outcome, []) if m.vm in lane and np.isfinite(m.start_s)]
        if not moves:
            continue
        ends = [m.end_s if np.isfinite(m.end_s) else run.result.duration_s for m in moves]
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=[lane[m.vm] for m in moves],
                x=[end - m.start_s for m, end in zip(moves, ends, strict=True)],
                base=[m.start_s for m in moves],
                name=f"{name} ({len(moves):,})",
                legendgroup=outcome,
                marker={"color": col, "opacity": 0.75, "line": {"width": 1, "color": "#fff"}},
                hovertext=[
                    f"{m.vm}: {outcome} after {end - m.start_s:,.1f} s (planned {m.planned_total_s:,.1f} s)"
                    for m, end in zip(moves, ends, strict=True)
                ],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
        if outcome in ("failed", "aborted"):
            fig.add_trace(
                go.Scatter(
                    x=ends,
                    y=[lane[m.vm] for m in moves],
                    mode="markers",
                    marker={"symbol": "x-thin", "size": 10, "line": {"width": 2, "color": "#222"}},
                    name=f"{outcome}: where it gave up",
                    legendgroup=outcome,
                    hoverinfo="skip",
                )
            )
    return _lane_axis(fig, list(lane.values()), _until(plan, run))


def _ecdf(values: list[float], name: str, col: str) -> go.Scatter:
    xs = np.sort(np.asarray(values, dtype=float))
    ys = np.arange(1, len(xs) + 1) * 100.0 / max(1, len(xs))
    return go.Scatter(
        x=xs.tolist(),
        y=ys.tolist(),
        mode="lines",
        line={"shape": "hv", "width": 2.2, "color": col},
        name=name,
        hovertemplate=f"{name}: %{{y:.0f}} % of VMs down at most %{{x:,.0f}} ms<extra></extra>",
    )


def downtime_figure(plan: Plan, run: PlanRun | None) -> go.Figure:
    """The guests' downtime: planned for every move, simulated for those that moved (ECDFs)."""
    fig = go.Figure(_ecdf([m.cost.downtime_ms for m in plan.moves], "planned", PALETTE[0]))
    if run is not None and run.moved:
        fig.add_trace(_ecdf([m.downtime_ms for m in run.moved], "simulated (moved VMs)", PALETTE[1]))
    fig.update_xaxes(title_text="downtime, ms", rangemode="tozero")
    fig.update_yaxes(title_text="VMs down at most x, %", range=[0, 102], ticksuffix=" %")
    return style(fig, 340)


def loads_figure(plan: Plan) -> go.Figure:
    sites = sorted(plan.loads_before)
    fig = go.Figure()
    for i, (name, loads) in enumerate((("before", plan.loads_before), ("after", plan.loads_after))):
        fig.add_trace(
            go.Bar(
                x=sites,
                y=[100.0 * loads.get(s, 0.0) for s in sites],
                name=name,
                marker_color=PALETTE[i],
                hovertemplate=f"%{{x}} {name}: %{{y:.1f}} % of RAM in use<extra></extra>",
            )
        )
    fig.update_yaxes(title_text="RAM in use, %", rangemode="tozero", ticksuffix=" %")
    fig.update_xaxes(title_text="site", automargin=True)
    fig.update_layout(barmode="group")
    return style(fig, 360)


def plan_report(plan: Plan, run: PlanRun | None) -> str:
    """The plan (and its simulated run) as a page."""
    sections = [
        Section("The plan", html=rich_html(plan_table(plan)) + rich_html(routes_table(plan))),
    ]
    if run is not None:
        outcomes: dict[str, int] = defaultdict(int)
        for m in run.moves:
            outcomes[m.outcome] += 1
        unmoved = len(run.moves) - outcomes.get("moved", 0)
        verdict = (
            f"{unmoved:,} of {len(run.moves):,} moves did not complete"
            if unmoved
            else f"all {len(run.moves):,} moves completed"
        )
        sections.append(Section(f"Simulated: {verdict}", html=rich_html(run_table(run))))
    if plan.loads_before:
        sections.append(Section("Site load (RAM in use)", html=rich_html(loads_table(plan))))
    if plan.moves:
        sections.append(
            Section(
                "When does each move run? As planned",
                "One row per route lane; colour: the destination.",
                planned_figure(plan, _until(plan, run)),
            )
        )
    if run is not None and run.moves:
        sections.append(
            Section(
                "And as simulated? Each move from start to end, by how it ended",
                "Same lanes as above. Crosses: where a move failed or was aborted.",
                simulated_figure(plan, run),
            )
        )
    if plan.moves:
        note = "Planned for every move; simulated for the VMs that moved."
        if run is not None and not run.moved:
            note += " No VM moved in the simulation: no simulated line."
        sections.append(Section("How long are the guests down?", note, downtime_figure(plan, run)))
    if plan.loads_before:
        sections.append(
            Section("Does the load even out? Per site, before and after", figure=loads_figure(plan))
        )
    title = f"wanstack migrate {plan.kind}: {len(plan.moves):,} moves"
    meta = (
        f"makespan {plan.makespan_s:,.0f} s (bound {plan.lower_bound_s:,.0f} s, gap {plan.gap:.1%}, "
        f"{plan.solver}); {len(plan.unplaced):,} VMs cannot move"
    )
    return render(title, meta, sections)


def plan_page(plan: Plan, run: PlanRun | None, out: Path) -> Path:
    """`plan_report` written to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(plan_report(plan, run), encoding="utf-8")
    return out
