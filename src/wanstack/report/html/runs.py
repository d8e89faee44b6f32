"""Figures of one run or of several side by side (one colour per run): latency distributions per
operation, latency over time, WAN bytes per link, station load, and the time series with the faults
and what the servicegroups saw down."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from wanstack.report.html.page import FAULT_COLOUR, PALETTE, heat_table, style
from wanstack.results.schema import LinkTraffic, RunResult, StationStats

Runs = Sequence[tuple[str, RunResult]]
MAX_BARS = 25
MAX_POINTS = 8_000
MAX_ECDF_POINTS = 2_000
ECDF_TITLE = "done within x, % of successes"
PERCENTILES = (("p50", "circle"), ("p95", "diamond"), ("p99", "triangle-right"), ("max", "x"))
SERIES = {
    "wan_mbps": ("WAN throughput", "Mbit/s", 1.0),
    "ops_in_flight": ("operations in flight", "operations", 1.0),
    "ops_finished": ("operations finished per interval", "operations", 1.0),
    "busiest_broker_utilisation": ("busiest broker's utilisation", "%", 100.0),
    "compute_sites_down": ("compute sites seen down", "sites", 1.0),
}


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def operations(runs: Runs) -> list[str]:
    """Every operation with a success in some run, in the order the runs list them."""
    names: dict[str, None] = {}
    for _, r in runs:
        for o in r.operations:
            if o.latency_ms.count:
                names.setdefault(o.op)
    return list(names)


def ok_latencies(result: RunResult) -> dict[str, list[float]] | None:
    """Latencies of the successful operations, per operation; None without samples."""
    s = result.samples  # None: bench results, older files
    if s is None:
        return None
    out: dict[str, list[float]] = {}
    for op, latency, outcome in zip(s.op, s.latency_ms, s.outcome, strict=True):
        if outcome == "ok":
            out.setdefault(op, []).append(latency)
    return out


def _log_axis(values: Sequence[float | None]) -> bool:
    """A log scale when the values span more than a factor 20."""
    positive = [v for v in values if v is not None and v > 0]
    return bool(positive) and max(positive) / min(positive) > 20


def _ecdf(values: Sequence[float]) -> tuple[list[float], list[float]]:
    """The empirical distribution as a step line: each latency and the share (%) at most that long."""
    xs = np.sort(np.asarray(values, dtype=float))
    ys = np.arange(1, len(xs) + 1) * 100.0 / max(1, len(xs))
    if len(xs) > 2 * MAX_ECDF_POINTS:
        keep = np.linspace(0, len(xs) - 1, MAX_ECDF_POINTS).astype(int)
        xs, ys = xs[keep], ys[keep]
    return xs.tolist(), ys.tolist()


def _ecdf_line(values: Sequence[float], name: str, col: str, op: str) -> go.Scatter:
    x, y = _ecdf(values)
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        line={"color": col, "width": 2.2, "shape": "hv"},
        name=name,
        hovertemplate=f"{name}: %{{y:.0f}} % of {op}s within %{{x:,.1f}} ms<extra></extra>",
    )


def _ecdfs(runs: Runs, ops: list[str], samples: list[dict[str, list[float]]]) -> go.Figure:
    """One run: a line per operation; several: a panel per operation, a line per run."""
    if len(runs) == 1:
        fig = go.Figure()
        for j, op in enumerate(ops):
            fig.add_trace(_ecdf_line(samples[0].get(op, []), op, colour(j), op))
        pooled = [v for op in ops for v in samples[0].get(op, [])]
        axis = ecdf_axis(pooled)
        slowest = _off_axis("", pooled).strip()
        axis["title_text"] = f"{axis['title_text']} {slowest}".strip()
        fig.update_xaxes(**axis)
        fig.update_yaxes(title_text=ECDF_TITLE)
        fig.update_layout(height=420)
        return fig
    cols = min(3, len(ops))
    rows = math.ceil(len(ops) / cols)
    titles = [_off_axis(op, [v for per_op in samples for v in per_op.get(op, [])]) for op in ops]
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.5 / rows
    )
    for k, op in enumerate(ops):
        for i, (label, _) in enumerate(runs):
            line = _ecdf_line(samples[i].get(op, []), label, colour(i), op)
            line.update(legendgroup=label, showlegend=k == 0)
            fig.add_trace(line, row=k // cols + 1, col=k % cols + 1)
        values = [v for per_op in samples for v in per_op.get(op, [])]
        fig.update_xaxes(**ecdf_axis(values), row=k // cols + 1, col=k % cols + 1)
    fig.update_yaxes(title_text=ECDF_TITLE, col=1)
    fig.update_layout(height=330 * rows)
    return fig


def ecdf_span(values: Sequence[float]) -> tuple[float, float, float]:
    """Where the ECDF lines climb: the smallest sample and the last before stragglers, with the largest.
    Stragglers are the samples past the 90th percentile beyond a jump of more than 3× (a boot stuck
    behind a cut link for minutes while the rest took seconds): an axis to them would squeeze every
    line into its left tenth."""
    xs = np.sort(np.asarray([v for v in values if v > 0], dtype=float))
    if not xs.size:
        return 0.0, 0.0, 0.0
    high = xs[-1]
    for i in range(int(0.9 * (xs.size - 1)), xs.size - 1):
        if xs[i + 1] > 3.0 * xs[i]:
            high = xs[i]
            break
    return float(xs[0]), float(high), float(xs[-1])


def ecdf_axis(values: Sequence[float]) -> dict[str, object]:
    """The latency axis of an ECDF fitted to where its lines climb (`ecdf_span`); the stragglers' part
    of the lines goes on off the axis (zoom out to see it)."""
    low, high, _ = ecdf_span(values)
    return latency_axis([low, high] if high > 0 else [])


def _off_axis(op: str, values: Sequence[float]) -> str:
    """A panel's title, with the slowest sample when the axis stops short of it."""
    _, high, top = ecdf_span(values)
    return f"{op} (slowest, {top:,.0f} ms, off the axis)" if top > high else op


def _percentiles(runs: Runs, ops: list[str]) -> go.Figure:
    """Without samples: each operation's p50, p95, p99 and max as markers on a line."""
    fig = go.Figure()
    one = len(runs) == 1
    for i, (label, r) in enumerate(runs):
        stats = [(op, r.operation(op)) for op in ops]
        present = [(op, o.latency_ms) for op, o in stats if o is not None and o.latency_ms.count]
        col = colour(i)
        fig.add_trace(
            go.Scatter(
                x=[v for _, s in present for v in (s.p50, s.max, None)],
                y=[v for op, _ in present for v in (op, op, None)],
                mode="lines",
                line={"color": col, "width": 2},
                orientation="h",
                offsetgroup=label,
                name=label,
                showlegend=not one,
                hoverinfo="skip",
            )
        )
        for stat, symbol in PERCENTILES:
            fig.add_trace(
                go.Scatter(
                    x=[getattr(s, stat) for _, s in present],
                    y=[op for op, _ in present],
                    mode="markers",
                    marker={
                        "symbol": symbol,
                        "size": 11,
                        "color": col,
                        "line": {"width": 1, "color": "#333"},
                    },
                    orientation="h",
                    offsetgroup=label,
                    name=stat if one else f"{label} {stat}",
                    showlegend=one,
                    hovertemplate=f"{label} {stat}: %{{x:,.1f}} ms<extra>%{{y}}</extra>",
                )
            )
    fig.update_layout(scattermode="group")
    return fig


def latency_axis(values: Sequence[float | None], title: str = "latency, ms") -> dict[str, object]:
    """An x axis for these latencies: log beyond a factor 20 between them, from 0 otherwise, with a
    margin on either side so no line sits on the frame."""
    positive = [v for v in values if v is not None and v > 0]
    if not positive:
        return {"title_text": title}
    low, high = min(positive), max(positive)
    if _log_axis(positive):
        return {
            "type": "log",
            "range": [math.log10(low / 1.2), math.log10(high * 1.2)],
            "title_text": f"{title} (log scale)",
        }
    # From 0 unless the values sit far from it (then from just below the smallest).
    start = 0.0 if low < 0.5 * high else low - 0.08 * (high - low) - 0.02 * high
    return {"type": "linear", "range": [start, high + 0.05 * (high - start)], "title_text": title}


def latency_figure(runs: Runs) -> go.Figure | None:
    """Latency of the successful operations: their distribution (ECDF) from every sample, or, where a
    run kept none (the bench, older files), its percentiles."""
    ops = operations(runs)
    if not ops:
        return None
    samples = [ok_latencies(r) for _, r in runs]
    if all(s is not None for s in samples):
        fig = _ecdfs(runs, ops, [s for s in samples if s is not None])
        fig.update_yaxes(range=[0, 102], ticksuffix=" %")
        return style(fig, fig.layout.height)
    fig = _percentiles(runs, ops)
    stats = [o.latency_ms for _, r in runs for o in r.operations]
    values = [s.p50 for s in stats] + [s.max for s in stats]
    fig.update_xaxes(**latency_axis(values, "latency of successful operations, ms"))
    fig.update_yaxes(title_text="operation", categoryorder="array", categoryarray=ops[::-1])
    return style(fig, 140 + len(ops) * max(50, 26 * len(runs)))


def _fault_spans(runs: Runs) -> list[tuple[str, float, float]]:
    spans: dict[tuple[str, float, float], None] = {}
    for _, r in runs:
        for f in r.faults:
            spans.setdefault((f.fault, f.start_s, r.duration_s if f.end_s is None else f.end_s))
    return list(spans)


def _mark_faults(fig: go.Figure, runs: Runs, cols: int = 1) -> None:
    for _, start, end in _fault_spans(runs):
        for col in range(1, cols + 1):
            fig.add_vrect(
                x0=start, x1=end, fillcolor=FAULT_COLOUR, line_width=0, layer="below", row="all", col=col
            )


def latency_time_figure(runs: Runs) -> go.Figure | None:
    """Every operation's latency at the time it started (failures as crosses), faults shaded."""
    kept = [(label, r, r.samples) for label, r in runs if r.samples is not None and r.samples.op]
    if not kept:
        return None
    ops = list(dict.fromkeys(op for _, _, s in kept for op in s.op))
    grid = Grid.of(len(kept))
    fig = make_subplots(
        rows=grid.rows,
        cols=grid.cols,
        shared_xaxes="all",
        shared_yaxes="all",
        vertical_spacing=grid.vertical_spacing(),
        horizontal_spacing=0.06,
        subplot_titles=[label for label, _, _ in kept] if len(kept) > 1 else None,
    )
    all_latencies: list[float] = []
    crossed = False  # the failures' legend entry shown once
    points = max(500, MAX_POINTS // len(kept))  # the page's weight: every run's points together
    for k, (_, _, s) in enumerate(kept):
        row, col = grid.cell(k)
        step = max(1, len(s.op) // points)
        index = range(0, len(s.op), step)
        for j, op in enumerate(ops):
            ok = [i for i in index if s.op[i] == op and s.outcome[i] == "ok"]
            fig.add_trace(
                go.Scatter(
                    x=[s.start_s[i] for i in ok],
                    y=[s.latency_ms[i] for i in ok],
                    text=[s.site[i] for i in ok],
                    mode="markers",
                    marker={"color": colour(j), "size": 7, "opacity": 0.7},
                    name=op,
                    legendgroup=op,
                    showlegend=k == 0,
                    hovertemplate=f"{op} at %{{text}}: %{{y:,.1f}} ms, started %{{x:,.1f}} s<extra></extra>",
                ),
                row=row,
                col=col,
            )
        bad = [i for i in index if s.outcome[i] != "ok"]
        fig.add_trace(
            go.Scatter(
                x=[s.start_s[i] for i in bad],
                y=[s.latency_ms[i] for i in bad],
                text=[f"{s.op[i]} {s.outcome[i]} at {s.site[i]}" for i in bad],
                mode="markers",
                marker={"color": "#222", "size": 8, "symbol": "x-thin", "line": {"width": 2}},
                name="failed or timed out",
                legendgroup="failed",
                showlegend=bool(bad) and not crossed,
                hovertemplate="%{text}: after %{y:,.1f} ms, started %{x:,.1f} s<extra></extra>",
            ),
            row=row,
            col=col,
        )
        crossed = crossed or bool(bad)
        all_latencies += [s.latency_ms[i] for i in index]
    _mark_faults(fig, runs, cols=grid.cols)
    log = _log_axis(all_latencies)
    # Decades only on a log axis: 2, 3, 5 between them run into each other on a short panel.
    fig.update_yaxes(type="log" if log else "linear", dtick=1 if log else None, nticks=None if log else 5)
    if log:  # the range of the latencies themselves (an empty panel of the grid would stretch it)
        positive = [v for v in all_latencies if v > 0]
        fig.update_yaxes(range=[math.log10(min(positive) / 1.5), math.log10(max(positive) * 1.5)])
    for row in range(1, grid.rows + 1):
        fig.update_yaxes(title_text="latency, ms" + (" (log)" if log else ""), row=row, col=1)
    fig.update_xaxes(range=[0, max(r.duration_s for _, r, _ in kept)], showticklabels=True)
    for k in grid.bottom(len(kept)):
        row, col = grid.cell(k)
        fig.update_xaxes(title_text="operation started, s since the run's start", row=row, col=col)
    return style(fig, grid.height())


MANY_RUNS = 4


@dataclass(frozen=True)
class Grid:
    """Small multiples, one panel per run: one column up to three runs, two from four on; every panel
    `panel` px tall with `gap` px between rows for the next row's title and this one's axis."""

    rows: int
    cols: int
    panel: int = 220
    gap: int = 90

    @classmethod
    def of(cls, panels: int) -> Grid:
        cols = 1 if panels < MANY_RUNS else 2
        panel = 380 if panels <= 2 else 260 if panels < MANY_RUNS else 220
        return cls(math.ceil(panels / cols), cols, panel)

    def cell(self, k: int) -> tuple[int, int]:
        return k // self.cols + 1, k % self.cols + 1

    def height(self) -> int:
        return self.rows * self.panel + (self.rows - 1) * self.gap + 40

    def vertical_spacing(self) -> float:
        return self.gap / (self.height() - 40) if self.rows > 1 else 0.0

    def bottom(self, panels: int) -> list[int]:
        """The panels with no panel below them: they carry the x axis' title."""
        return [k for k in range(panels) if k + self.cols >= panels]


def _link_name(x: LinkTraffic) -> str:
    return f"{x.a} – {x.b}"


def _byte_unit(largest: float) -> tuple[float, str]:
    for unit, size in (("GB (10⁹ B)", 1e9), ("MB (10⁶ B)", 1e6), ("kB (10³ B)", 1e3)):
        if largest >= size:
            return size, unit
    return 1.0, "bytes"


def links_figure(runs: Runs) -> go.Figure | str | None:
    """WAN bytes per link: one run by direction and kind (control messages, image transfers); a few
    runs side by side (both directions); many as a table, a row per link and a column per run."""
    totals: dict[str, float] = {}
    for _, r in runs:
        for x in r.links:
            name = _link_name(x)
            totals[name] = max(totals.get(name, 0.0), x.bytes_ab + x.bytes_ba)
    if not totals:
        return None
    names = sorted(totals, key=lambda n: -totals[n])[:MAX_BARS]
    size, unit = _byte_unit(max(totals.values()))
    if len(runs) >= MANY_RUNS:
        by_run = [{_link_name(x): (x.bytes_ab + x.bytes_ba) / size for x in r.links} for _, r in runs]
        values = [[b.get(n) for b in by_run] for n in names]
        return heat_table("link (both ways)", [label for label, _ in runs], names, values, unit.split(" ")[0])
    fig = go.Figure()
    if len(runs) == 1:
        by_name = {_link_name(x): x for x in runs[0][1].links}
        parts: tuple[tuple[str, Callable[[LinkTraffic], float], str], ...] = (
            ("a → b messages", lambda x: x.bytes_ab - x.bulk_bytes_ab, "#1f77b4"),
            ("a → b bulk (images)", lambda x: x.bulk_bytes_ab, "#aec7e8"),
            ("b → a messages", lambda x: x.bytes_ba - x.bulk_bytes_ba, "#ff7f0e"),
            ("b → a bulk (images)", lambda x: x.bulk_bytes_ba, "#ffbb78"),
        )
        for part, value, col in parts:
            fig.add_trace(
                go.Bar(
                    x=[value(by_name[n]) / size for n in names],
                    y=names,
                    orientation="h",
                    name=part,
                    marker_color=col,
                    customdata=[f"{by_name[n].mean_utilisation:.2%}" for n in names],
                    hovertemplate=f"%{{y}} {part}: %{{x:,.2f}} {unit} (busiest direction's mean utilisation "
                    "%{customdata})<extra></extra>",
                )
            )
        fig.update_layout(barmode="stack")
    else:
        for i, (label, r) in enumerate(runs):
            by = {_link_name(x): (x.bytes_ab + x.bytes_ba) / size for x in r.links}
            fig.add_trace(
                go.Bar(
                    x=[by.get(n) for n in names],
                    y=names,
                    orientation="h",
                    name=label,
                    marker_color=colour(i),
                    hovertemplate=f"%{{y}} ({label}): %{{x:,.2f}} {unit}<extra></extra>",
                )
            )
        fig.update_layout(barmode="group")
    fig.update_xaxes(title_text=f"bytes over the run, {unit}; a → b is the link's order in its name")
    fig.update_yaxes(title_text="link", categoryorder="array", categoryarray=names[::-1], automargin=True)
    return style(fig, 160 + len(names) * (26 if len(runs) == 1 else 16 * len(runs) + 8))


def _station_name(s: StationStats) -> str:
    return f"{s.kind} @ {s.site}"


STATION_PANELS: tuple[tuple[str, Callable[[StationStats], float | None]], ...] = (
    ("utilisation, %", lambda s: s.utilisation * 100.0),
    ("resident memory at the end, MB", lambda s: s.memory_mb),
    ("connections", lambda s: None if s.connections is None else float(s.connections)),
)


def stations_figure(runs: Runs) -> go.Figure | str | None:
    """The busiest stations' utilisation, and, where measured (bench, brokers), memory and connections;
    many runs as a table, a row per station and a column per run."""
    busiest: dict[str, float] = {}
    for _, r in runs:
        for s in r.stations:
            busiest[_station_name(s)] = max(busiest.get(_station_name(s), 0.0), s.utilisation)
    if not busiest:
        return None
    names = sorted(busiest, key=lambda n: -busiest[n])[:MAX_BARS]
    if len(runs) >= MANY_RUNS:
        by_run = [{_station_name(s): s.utilisation * 100.0 for s in r.stations} for _, r in runs]
        values = [[b.get(n) for b in by_run] for n in names]
        return heat_table("station (utilisation)", [label for label, _ in runs], names, values, "%")
    panels = [
        (title, value)
        for k, (title, value) in enumerate(STATION_PANELS)
        if k == 0 or any(value(s) is not None for _, r in runs for s in r.stations)
    ]
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.04)
    for i, (label, r) in enumerate(runs):
        by = {_station_name(s): s for s in r.stations}
        for col, (title, value) in enumerate(panels, start=1):
            got = [by.get(n) for n in names]
            fig.add_trace(
                go.Bar(
                    x=[None if s is None else value(s) for s in got],
                    y=names,
                    orientation="h",
                    name=label,
                    legendgroup=label,
                    showlegend=col == 1 and len(runs) > 1,
                    marker_color=colour(i),
                    customdata=[
                        ""
                        if s is None
                        else f"{s.jobs:,} jobs, {s.service_ms:.2f} ms each, max queue "
                        f"{'–' if s.max_queue is None else s.max_queue}"
                        for s in got
                    ],
                    hovertemplate=f"%{{y}} ({label}): %{{x:,.2f}} {title}<br>%{{customdata}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
            fig.update_xaxes(title_text=title, row=1, col=col)
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1], automargin=True)
    fig.update_layout(barmode="group")
    return style(fig, 160 + len(names) * (24 if len(runs) == 1 else 14 * len(runs) + 8))


Lane = tuple[str, float, float, str, str, str]
FAULT_BAR = "rgba(214, 39, 40, 0.35)"  # the faults' shading, darker: no run's colour


def _lanes(runs: Runs) -> list[Lane]:
    """Bars of the liveness panel: (lane, start, end, group, colour, hover) for the faults and for
    the outages, one lane per service and site whichever run saw it (a bar per run in it)."""
    lanes = [
        (f"fault: {name}", start, end, "fault", FAULT_BAR, f"{name}: {start:,.0f}–{end:,.0f} s")
        for name, start, end in _fault_spans(runs)
    ]
    for i, (label, r) in enumerate(runs):
        for o in r.outages:
            end = r.duration_s if o.up_at_s is None else o.up_at_s
            back = "still down at the end" if o.up_at_s is None else f"up again at {o.up_at_s:,.0f} s"
            lanes.append(
                (
                    f"{o.service} down @ {o.site}",
                    o.down_at_s,
                    end,
                    label,
                    colour(i) if len(runs) > 1 else "#7f7f7f",
                    f"{label}: {o.hosts} hosts seen down at {o.down_at_s:,.0f} s, {back}",
                )
            )
    return lanes


def timeline_figure(runs: Runs) -> go.Figure | None:
    """The run over time: each recorded series (one line per run), then the faults and the services
    seen down as bars on the same time axis; the faults shaded across every panel."""
    names = list(dict.fromkeys(n for _, r in runs if r.timeseries is not None for n in r.timeseries.series))
    lanes = _lanes(runs)
    rows = len(names) + (1 if lanes else 0)
    if not rows:
        return None
    lane_rows = len({lane[0] for lane in lanes})
    lane_px = lane_rows * max(30, 7 * len({lane[3] for lane in lanes}))
    titles = [_series_title(n, runs) for n in names] + (["faults and services seen down"] if lanes else [])
    heights = [190.0] * len(names) + ([float(max(110, lane_px))] if lanes else [])
    gap = 70  # px between panels: the next panel's title and this one's ticks
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=gap / (sum(heights) + gap * (rows - 1)) if rows > 1 else 0.0,
        subplot_titles=titles,
        row_heights=heights,
    )
    for row, name in enumerate(names, start=1):
        _, unit, scale = SERIES.get(name, (name, "", 1.0))
        for i, (label, r) in enumerate(runs):
            if r.timeseries is None or name not in r.timeseries.series:
                continue
            fig.add_trace(
                go.Scatter(
                    x=r.timeseries.t_s,
                    y=[v * scale for v in r.timeseries.series[name]],
                    mode="lines",
                    line={"color": colour(i), "width": 1.8},
                    name=label,
                    legendgroup=label,
                    showlegend=row == 1 and len(runs) > 1,
                    hovertemplate=f"{label}: %{{y:,.2f}} {unit} at %{{x:,.0f}} s<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text=unit, row=row, col=1, rangemode="tozero")
    if lanes:
        groups = list(dict.fromkeys(lane[3] for lane in lanes))
        for group in groups:
            mine = [lane for lane in lanes if lane[3] == group]
            fig.add_trace(
                go.Bar(
                    x=[end - start for _, start, end, _, _, _ in mine],
                    base=[start for _, start, _, _, _, _ in mine],
                    y=[lane for lane, _, _, _, _, _ in mine],
                    orientation="h",
                    marker_color=mine[0][4],
                    # The faults span their lane (an offset takes them out of the runs' grouping).
                    **({"offset": -0.4, "width": 0.8} if group == "fault" else {"offsetgroup": group}),
                    name=group,
                    legendgroup=group,
                    showlegend=False,
                    hovertext=[hover for *_, hover in mine],
                    hovertemplate="%{hovertext}<extra></extra>",
                ),
                row=rows,
                col=1,
            )
        fig.update_layout(barmode="group", bargap=0.25)
        fig.update_yaxes(autorange="reversed", automargin=True, row=rows, col=1)
    _mark_faults(fig, runs)
    duration = max(r.duration_s for _, r in runs)
    fig.update_xaxes(range=[0, duration])
    fig.update_xaxes(title_text="time since the run's start, s", row=rows, col=1)
    return style(fig, round(sum(heights)) + gap * (rows - 1) + 40)


def _series_title(name: str, runs: Runs) -> str:
    title = SERIES.get(name, (name.replace("_", " "), "", 1.0))[0]
    if name == "ops_finished":
        resolutions = {r.timeseries.resolution_s for _, r in runs if r.timeseries is not None}
        if len(resolutions) == 1:
            title = f"operations finished per {resolutions.pop():g} s"
    return title
