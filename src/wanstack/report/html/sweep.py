"""A sweep's table as a page: the headline — boot latency against RTT, one line per deployment model
(or per combination of the other swept parameters), the mean over seeds and their min–max band — then
the other operations as small multiples, the boots' success and WAN cost, and the numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from wanstack.report.html.page import Section, Verdict, ms, render, style
from wanstack.report.html.page import table as html_table
from wanstack.report.html.runs import colour
from wanstack.report.quantities import nbytes

RTT_TITLE = "RTT from the top site to the other sites (median), ms"
NOT_PARAMS = {"seed", "rtt_ms", "op"}
NAMES = {"model": "deployment model", "rpc_backend": "RPC backend", "backend": "RPC backend"}


def rtt_params(frame: pd.DataFrame, params: Sequence[str]) -> list[str]:
    """The swept parameters that move the RTT: with every other parameter fixed, their values give
    different `rtt_ms`."""
    rtt = frame.assign(_rtt=frame["rtt_ms"].round(6))
    out = []
    for p in params:
        others = [q for q in params if q != p]
        spread = (
            rtt.groupby(others, dropna=False)["_rtt"].nunique()
            if others
            else pd.Series([rtt["_rtt"].nunique()])
        )
        if (spread > 1).any():
            out.append(p)
    return out


def series_columns(frame: pd.DataFrame, params: Sequence[str]) -> list[str]:
    """One line per combination of these: the swept parameters that do not set the RTT (the model by
    default)."""
    swept = [p for p in params if p not in NOT_PARAMS]
    along = set(rtt_params(frame, swept))
    return [p for p in swept if p not in along] or ["model"]


def _label(columns: Sequence[str], key: tuple[Any, ...]) -> str:
    if len(columns) == 1:
        return str(key[0])
    return ", ".join(f"{c}={v}" for c, v in zip(columns, key, strict=True))


def _over_seeds(frame: pd.DataFrame, columns: Sequence[str], value: str) -> pd.DataFrame:
    """Per series and RTT: the value's mean, min and max over the seeds (and the runs' count)."""
    grouped = frame.groupby([*columns, "rtt_ms"], dropna=False, sort=False)[value]
    return grouped.agg(["mean", "min", "max", "count"]).reset_index()


@dataclass(frozen=True)
class Lines:
    """What makes a line (these columns' values) and each line's colour, the same in every figure."""

    columns: list[str]
    colours: dict[tuple[Any, ...], str]

    @classmethod
    def of(cls, frame: pd.DataFrame, columns: list[str]) -> Lines:
        keys = [key for key, _ in frame.groupby(columns, dropna=False, sort=False)]
        return cls(columns, {k: colour(i) for i, k in enumerate(keys)})


SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star", "cross")
DASHES = ("solid", "dash", "dot", "dashdot")


def _add_lines(fig: go.Figure, frame: pd.DataFrame, lines: Lines, value: str, *, row: int, col: int) -> None:
    """One line per series (mean over seeds), its seeds' min to max as error bars where they differ.
    Lines that coincide stay apart: each its own marker and dash, and nudged sideways by a hair of
    the RTT axis (the hover tells the real RTT)."""
    columns = lines.columns
    stats = _over_seeds(frame, columns, value)
    keys = list(lines.colours)
    span = float(stats["rtt_ms"].max() - stats["rtt_ms"].min()) if stats["rtt_ms"].notna().any() else 0.0
    for key, rows in stats.groupby(columns, dropna=False, sort=False):
        part = rows.sort_values("rtt_ms")
        k = keys.index(key) if key in keys else 0
        line_colour = lines.colours.get(key, "#333333")
        label = _label(columns, key)
        nudge = k * 0.006 * span  # to the right only: an axis from 0 stays from 0
        x = part["rtt_ms"].tolist()
        mean = part["mean"].tolist()
        spread = bool((part["max"] > part["min"]).any())
        fig.add_trace(
            go.Scatter(
                x=[None if pd.isna(v) else v + nudge for v in x],
                y=mean,
                mode="lines+markers",
                line={"color": line_colour, "width": 2.5, "dash": DASHES[k // len(SYMBOLS) % len(DASHES)]},
                marker={
                    "size": 9,
                    "symbol": SYMBOLS[k % len(SYMBOLS)],
                    "line": {"width": 1, "color": "#fff"},
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["max"] - part["mean"]).tolist(),
                    "arrayminus": (part["mean"] - part["min"]).tolist(),
                    "color": line_colour,
                    "thickness": 2,
                    "width": 6,
                    "visible": spread,
                },
                name=label,
                legendgroup=label,
                showlegend=row == 1 and col == 1,
                customdata=list(zip(x, part["min"], part["max"], part["count"], strict=True)),
                hovertemplate=f"{label}<br>RTT %{{customdata[0]:,.1f}} ms: %{{y:,.1f}} "
                "(min %{customdata[1]:,.1f}, max %{customdata[2]:,.1f}, %{customdata[3]} runs)"
                "<extra></extra>",
            ),
            row=row,
            col=col,
        )


def headline_figure(frame: pd.DataFrame, lines: Lines, op: str) -> go.Figure:
    part = frame[frame["op"] == op]
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.05,
        subplot_titles=[f"median {op} latency (p50)", f"95th percentile {op} latency (p95)"],
    )
    for col, value in ((1, "p50_ms"), (2, "p95_ms")):
        _add_lines(fig, part, lines, value, row=1, col=col)
        fig.update_xaxes(title_text=RTT_TITLE, row=1, col=col, rangemode="tozero")
    fig.update_yaxes(title_text=f"{op} latency, ms", row=1, col=1, rangemode="tozero")
    return style(fig, 520)


def small_multiples(frame: pd.DataFrame, lines: Lines, ops: Sequence[str]) -> go.Figure:
    cols = min(3, len(ops))
    rows = math.ceil(len(ops) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"{op} p50" for op in ops],
        horizontal_spacing=0.07,
        vertical_spacing=min(0.15, 0.5 / rows),
    )
    for k, op in enumerate(ops):
        row, col = divmod(k, cols)
        _add_lines(fig, frame[frame["op"] == op], lines, "p50_ms", row=row + 1, col=col + 1)
        fig.update_yaxes(title_text="latency, ms", row=row + 1, col=col + 1, rangemode="tozero")
        fig.update_xaxes(rangemode="tozero", row=row + 1, col=col + 1)
        if row == rows - 1 or k + cols >= len(ops):
            fig.update_xaxes(title_text="RTT, ms", row=row + 1, col=col + 1)
    return style(fig, 120 + 320 * rows)


def cost_figure(frame: pd.DataFrame, lines: Lines, op: str) -> go.Figure:
    part = frame[frame["op"] == op].assign(
        ok_pct=lambda f: 100.0 * f["succeeded"] / f["submitted"].where(f["submitted"] > 0),
        wan_mb=lambda f: f["wan_bytes_per_op"] / 1e6,
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.08,
        subplot_titles=[f"{op}s that succeeded, %", f"WAN bytes per successful {op}, MB"],
    )
    _add_lines(fig, part, lines, "ok_pct", row=1, col=1)
    _add_lines(fig, part, lines, "wan_mb", row=1, col=2)
    fig.update_yaxes(title_text="succeeded, % of submitted", row=1, col=1, range=[0, 105])
    fig.update_yaxes(title_text="MB (10⁶ B) per operation", row=1, col=2, rangemode="tozero")
    fig.update_xaxes(title_text=RTT_TITLE, rangemode="tozero")
    return style(fig, 460)


def numbers_table(frame: pd.DataFrame, columns: Sequence[str], op: str) -> str:
    part = frame[frame["op"] == op]
    grouped = part.groupby([*columns, "rtt_ms"], dropna=False, sort=False)
    stats = grouped.agg(
        runs=("p50_ms", "size"),
        p50=("p50_ms", "mean"),
        p95=("p95_ms", "mean"),
        submitted=("submitted", "sum"),
        succeeded=("succeeded", "sum"),
        wan=("wan_bytes_per_op", "mean"),
    ).reset_index()

    def num(v: Any) -> float | None:
        return None if pd.isna(v) else float(v)

    rows = [
        [
            *(str(row[c]) for c in columns),
            "–" if pd.isna(row["rtt_ms"]) else f"{row['rtt_ms']:,.1f} ms",
            int(row["runs"]),
            ms(num(row["p50"])),
            ms(num(row["p95"])),
            f"{row['succeeded'] / row['submitted']:.1%}" if row["submitted"] else "–",
            nbytes(num(row["wan"])),
        ]
        for _, row in stats.iterrows()
    ]
    headers = [*columns, "RTT", "runs", "p50 (mean over seeds)", "p95 (mean)", "succeeded", "WAN bytes/op"]
    return html_table(headers, rows)


def summary_verdict(frame: pd.DataFrame, columns: Sequence[str], op: str) -> Verdict:
    """What the page leads with until a ranking says more: per line, `op`'s p50 (mean over seeds) at
    the smallest and the largest RTT swept, and the share of them that succeeded."""
    part = frame[frame["op"] == op]
    stats = _over_seeds(part, columns, "p50_ms").sort_values("rtt_ms")
    rows: list[dict[str, object]] = []
    for group, line in stats.groupby(list(columns), dropna=False, sort=False):
        key = group if isinstance(group, tuple) else (group,)
        mine = part
        for c, v in zip(columns, key, strict=True):
            mine = mine[mine[c] == v]
        first, last = line.iloc[0], line.iloc[-1]
        submitted = mine["submitted"].sum()

        def at(row: pd.Series) -> str:
            rtt = "–" if pd.isna(row["rtt_ms"]) else f"{row['rtt_ms']:,.0f} ms"
            return f"{ms(None if pd.isna(row['mean']) else float(row['mean']))} (RTT {rtt})"

        rows.append(
            {
                " × ".join(NAMES.get(c, c) for c in columns): _label(columns, key),
                f"{op} p50, smallest RTT": at(first),
                f"{op} p50, largest RTT": at(last),
                f"{op}s succeeded": f"{mine['succeeded'].sum() / submitted:.1%}" if submitted else "–",
                "widest spread over seeds (p50 max − min)": ms(float((line["max"] - line["min"]).max()))
                if line["max"].notna().any()
                else "–",
            }
        )
    return Verdict(f"Summary: {op} per line", rows, "Means over the seeds; the figures below show every RTT.")


def sweep_report(
    table: pd.DataFrame, params: list[str], title: str, *, verdict: Verdict | None = None
) -> str:
    """`wanstack sweep`'s tidy table (one row per run and operation) as a self-contained page, led by
    `verdict` (default: the summary per line)."""
    if table.empty:
        raise ValueError("an empty sweep table")
    # Unknown figures (None: no RTT for a single site, no success to time) as NaN, never as objects.
    numeric = ["rtt_ms", "p50_ms", "p95_ms", "submitted", "succeeded", "wan_bytes_per_op"]
    frame = table.assign(**{c: pd.to_numeric(table[c], errors="coerce") for c in numeric})
    ops = list(dict.fromkeys(frame["op"]))
    op = "boot" if "boot" in ops else ops[0]
    columns = series_columns(frame, params)
    lines = Lines.of(frame, columns)
    along = rtt_params(frame, [p for p in params if p not in NOT_PARAMS])
    rtt = f"The RTT is set by {', '.join(along)}." if along else "The RTT was not swept."
    seeds = frame["seed"].nunique()
    runs = len(frame.drop_duplicates([*params, "seed"])) if params else frame["seed"].nunique()
    scenarios = ", ".join(str(s) for s in dict.fromkeys(frame["scenario"]))
    band = "; the whiskers span the seeds' min to max" if seeds > 1 else ""
    sections = [
        Section(
            f"How does {op} latency grow with the RTT? Per {' × '.join(NAMES.get(c, c) for c in columns)}",
            f"Each line: the mean over {seeds} seed(s) at each RTT{band}. {rtt} Lines that coincide are "
            "nudged apart a little along the RTT axis; each has its own marker.",
            headline_figure(frame, lines, op),
        ),
    ]
    others = [o for o in ops if o != op]
    if others:
        sections.append(
            Section(
                "And the other operations? Median latency against RTT",
                "Same lines and colours as above.",
                small_multiples(frame, lines, others),
            )
        )
    sections += [
        Section(
            f"Do {op}s still succeed, and what do they cost the WAN?",
            "Share of submitted operations that succeeded; WAN bytes while they ran, per success.",
            cost_figure(frame, lines, op),
        ),
        Section(f"{op}: the numbers", html=numbers_table(frame, columns, op)),
    ]
    meta = f"{runs} runs ({seeds} seed(s) each) of {scenarios}; swept: {', '.join(params) or '–'}"
    top = verdict if verdict is not None else summary_verdict(frame, columns, op)
    return render(title, meta, sections, verdict=top)
