"""The one layout of every wanstack page (run, compare, sweep, bench, compare-results, evacuate): a
header, an optional verdict table at the top, then sections of tables and plotly figures, in one style.

plotly.js goes into the page once, and it is plotly's partial "basic" bundle (scatter, bar and pie
traces, 1.2 MB) rather than the full one (4.8 MB): every page stays one file that opens offline, from
disk, with no CDN, and weighs well under 1.5 MB. Figures therefore use only those trace types
(`render` refuses others); heatmaps are HTML tables with coloured cells (`heat_table`)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from wanstack.report import quantities

if TYPE_CHECKING:
    from rich.table import Table

TEMPLATE = "plotly_white"
BUNDLE = "plotly-basic.min.js"
BUNDLE_TRACES = frozenset({"scatter", "bar", "pie"})
# One colour per run (compare), per line (sweep) or per operation (one run), the same in every figure
# of a page: plotly's ten, then six more that stay apart from them on white (`compare default` has 11
# models; past 16 the colours repeat).
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#1a1a6e",
    "#e6b800",
    "#00a37a",
    "#b3005c",
    "#7fa3ff",
    "#5c3d00",
)
FAULT_COLOUR = "rgba(214, 39, 40, 0.12)"
# The figures' width on a 1,280 px window (the page's padding off): what the legend wraps at.
FIGURE_WIDTH = 1180

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fff; }
header { background: #1f2d3d; color: #fff; padding: 0.8em 2em 0.7em; }
header h1 { font-size: 1.45em; margin: 0 0 0.15em; }
header p.meta { color: #c9d3de; margin: 0; font-size: 0.95em; }
main { padding: 0.5em 2em 2em; max-width: 1500px; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
section.verdict { border: 1px solid #c8d6e5; background: #f5f9fc; padding: 0.2em 1em 0.6em;
                  margin-top: 1.2em; border-radius: 4px; }
section.verdict h2 { border-bottom: none; margin-top: 0.6em; }
h3 { font-size: 0.95em; margin: 0.8em 0 0.1em; color: #333; }
p.note { color: #555; font-size: 0.9em; margin: 0.2em 0 0.4em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.4em 0 0.8em; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.heat td.num { min-width: 4.5em; }
table.heat th.run { vertical-align: bottom; text-align: center; }
table.heat th.run div { writing-mode: vertical-rl; transform: rotate(180deg); max-height: 12em;
                        white-space: normal; text-align: left; margin: 0 auto; }
.plotly-graph-div { margin-bottom: 0.5em; }
"""


@dataclass(frozen=True)
class Section:
    """A heading that says what the section answers, a line on how to read it, then its content:
    a figure or HTML (a table)."""

    heading: str
    note: str = ""
    figure: go.Figure | None = None
    html: str = ""


@dataclass(frozen=True)
class Verdict:
    """The answer a page leads with, above everything else: a heading, a line on how it was reached,
    and a table of rows (each a mapping column -> value, the columns in the first row's order)."""

    heading: str
    rows: Sequence[Mapping[str, object]] = field(default_factory=list)
    note: str = ""


def ms(value: float | None) -> str:
    return quantities.ms(value, thousands=True)


def _cell(value: object, attrs: str = "") -> str:
    text = (
        f"{value:,}"
        if isinstance(value, int) and not isinstance(value, bool)
        else f"{value:,.1f}"
        if isinstance(value, float)
        else str(value)
    )
    numeric = isinstance(value, int | float) or text[:1].isdigit() or text[:1] in "+−-–"
    css = ' class="num"' if numeric else ""
    return f"<td{css}{attrs}>{html.escape(text)}</td>"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; numbers (and cells that start with a digit or a sign) right-aligned."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def verdict_html(verdict: Verdict) -> str:
    """The verdict as the page's first section: its rows as a table (columns from the first row)."""
    headers = list(verdict.rows[0]) if verdict.rows else []
    rows = [[row.get(h, "–") for h in headers] for row in verdict.rows]
    note = f'<p class="note">{html.escape(verdict.note)}</p>' if verdict.note else ""
    body = table(headers, rows) if rows else ""
    return (
        f'<section class="verdict" id="verdict"><h2>{html.escape(verdict.heading)}</h2>{note}{body}</section>'
    )


def rich_html(view: Table) -> str:
    """A terminal table (rich) as the house HTML table: the same rows on the page as on the screen."""
    headers = [str(c.header) if view.show_header else "" for c in view.columns]
    columns = [[str(cell) for cell in c.cells] for c in view.columns]
    rows = [list(row) for row in zip(*columns, strict=True)]
    caption = f"<h3>{html.escape(str(view.title))}</h3>" if view.title else ""
    return caption + table(headers, rows)


def _shade(share: float) -> str:
    """A cell's background: white (0) to a dark blue (1), and a text colour that reads on it."""
    share = min(1.0, max(0.0, share))
    r, g, b = (round(255 + (dark - 255) * share) for dark in (8, 69, 148))
    ink = "#fff" if share > 0.55 else "#222"
    return f' style="background: rgb({r}, {g}, {b}); color: {ink}"'


def heat_table(
    corner: str,
    columns: Sequence[str],
    names: Sequence[str],
    values: Sequence[Sequence[float | None]],
    unit: str,
) -> str:
    """Many runs at a glance: one row per name (a link, a station), one column per run, each cell the
    value with its unit and shaded by it (darker: more; the largest cell darkest)."""
    largest = max((v for row in values for v in row if v is not None), default=0.0) or 1.0
    head = f"<th>{html.escape(corner)}</th>" + "".join(
        f'<th class="run"><div>{html.escape(c)}</div></th>' for c in columns
    )

    def cell(v: float | None) -> str:
        if v is None:
            return '<td class="num">–</td>'
        return f'<td class="num"{_shade(v / largest)}>{html.escape(f"{v:,.3g} {unit}")}</td>'

    body = "".join(
        f"<tr><td>{html.escape(name)}</td>{''.join(cell(v) for v in row)}</tr>"
        for name, row in zip(names, values, strict=True)
    )
    return f'<table class="heat"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def legend_rows(fig: go.Figure) -> int:
    """Lines the legend takes across a figure `FIGURE_WIDTH` wide, from its entries' names."""
    names = dict.fromkeys(t.name for t in fig.data if t.showlegend is not False and t.name)
    if len(names) < 2:
        return 0
    widest = max(45 + 7.5 * len(str(n)) for n in names)
    per_row = max(1, int(FIGURE_WIDTH // widest))  # plotly lines entries up in columns this wide
    return math.ceil(len(names) / per_row)


def style(fig: go.Figure, height: int) -> go.Figure:
    """The house layout: white template, the legend across the top of the figure (above any subplot
    titles), room for axis titles, the toolbar upright in the right margin (off the legend)."""
    legend = legend_rows(fig)
    titles = 30 if fig.layout.annotations else 0
    top = 20 + 22 * legend + titles
    fig.update_layout(
        template=TEMPLATE,
        height=height + top,
        margin={"l": 80, "r": 50, "t": top, "b": 60},
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "x": 0,
            "xanchor": "left",
            "traceorder": "normal",
        },
        modebar={"orientation": "v"},
        font={"size": 13},
    )
    # Tick labels off the axes, so the two at the origin do not touch.
    fig.update_xaxes(ticklabelstandoff=4)
    fig.update_yaxes(ticklabelstandoff=6)
    return fig


@cache
def plotly_js() -> str:
    """plotly's basic bundle, shipped with wanstack (scripts/vendor-plotly.sh refreshes it)."""
    return files("wanstack.report.html").joinpath(BUNDLE).read_text(encoding="utf-8")


def bundle_version(script: str) -> str:
    """The plotly.js version a bundle announces in its banner."""
    found = re.search(r"\* plotly\.js \([^)]*\) v(\S+)", script[:400])
    return found.group(1) if found else ""


def _numbers(values: object) -> np.ndarray | None:
    """A trace's coordinates as 32-bit floats (None: a gap, as NaN), or None when they are not all
    numbers (categories, text)."""
    if not isinstance(values, list | tuple) or len(values) < 8:
        return None
    if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values):
        return None
    return np.asarray([np.nan if v is None else v for v in values], dtype=np.float32)


def compact(figure: go.Figure) -> go.Figure:
    """The figure's numbers as 32-bit binary arrays, which plotly.py writes base64-encoded: about 5
    characters a value instead of up to 20 in decimal, ample for a plot (7 significant digits). An
    eleven-run compare page's data falls from about 420 kB to about 200 kB."""
    for trace in figure.data:
        for name in ("x", "y", "base"):
            packed = _numbers(getattr(trace, name, None))
            if packed is None:
                continue
            step = np.diff(packed.astype(np.float64))
            if name != "base" and np.isfinite(step).all() and step[0] != 0 and np.allclose(step, step[0]):
                # Evenly spaced (a time series' clock, an ECDF's shares): a start and a step.
                trace[name] = None
                trace[f"{name}0"], trace[f"d{name}"] = float(packed[0]), float(step.mean())
            else:
                trace[name] = packed
    return figure


def _figure_html(figure: go.Figure, div_id: str) -> str:
    unknown = {t.type or "scatter" for t in figure.data} - BUNDLE_TRACES
    if unknown:
        raise ValueError(f"trace types {sorted(unknown)} are not in plotly's basic bundle")
    compact(figure)
    return str(
        pio.to_html(
            figure,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
    )


def render(title: str, meta: str, sections: Sequence[Section], verdict: Verdict | None = None) -> str:
    """The page: the header, the verdict (if any), the sections; plotly.js once, in the head."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>",
    ]
    if any(s.figure is not None for s in sections):
        parts.append(f'<script type="text/javascript">{plotly_js()}</script>')
    parts += [
        "</head><body>",
        f'<header><h1>{html.escape(title)}</h1><p class="meta">{html.escape(meta)}</p></header>',
        "<main>",
    ]
    if verdict is not None:
        parts.append(verdict_html(verdict))
    for i, section in enumerate(sections):
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        if section.note:
            parts.append(f'<p class="note">{html.escape(section.note)}</p>')
        parts.append(section.html)
        if section.figure is not None:
            parts.append(_figure_html(section.figure, f"figure-{i}"))
    parts.append("</main></body></html>")
    return "\n".join(parts)
