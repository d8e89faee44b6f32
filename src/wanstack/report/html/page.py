"""One self-contained HTML page: a header, tables and plotly figures, plotly.js inlined once (the page
works offline, from a file, with no CDN)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

from wanstack.report import quantities

TEMPLATE = "plotly_white"
# One colour per run (compare) or per operation (one run), the same in every figure of a page.
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
)
FAULT_COLOUR = "rgba(214, 39, 40, 0.12)"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5em 2em;
       color: #222; max-width: 1500px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
p.note { color: #555; font-size: 0.9em; margin: 0.2em 0 0.4em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.4em 0 0.8em; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
"""


@dataclass(frozen=True)
class Section:
    """A heading that says what the section answers, a line on how to read it, then its content:
    a figure or HTML (a table)."""

    heading: str
    note: str = ""
    figure: go.Figure | None = None
    html: str = ""


def ms(value: float | None) -> str:
    return quantities.ms(value, thousands=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; numbers (and cells that start with a digit or a sign) right-aligned."""

    def cell(value: object) -> str:
        text = (
            f"{value:,}"
            if isinstance(value, int)
            else f"{value:,.1f}"
            if isinstance(value, float)
            else str(value)
        )
        numeric = isinstance(value, int | float) or text[:1].isdigit() or text[:1] in "+−-–"
        return f'<td class="num">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _legend_rows(fig: go.Figure) -> int:
    """Lines the legend takes across the page (about 1,250 px wide), from its entries' names."""
    names = dict.fromkeys(t.name for t in fig.data if t.showlegend is not False and t.name)
    if len(names) < 2:
        return 0
    width = sum(45 + 7.5 * len(str(n)) for n in names)
    return math.ceil(width / 1250)


def style(fig: go.Figure, height: int) -> go.Figure:
    """The house layout: white template, the legend across the top of the figure (above any subplot
    titles), room for axis titles."""
    legend = _legend_rows(fig)
    titles = 28 if fig.layout.annotations else 0
    top = 20 + 24 * legend + titles
    fig.update_layout(
        template=TEMPLATE,
        height=height + top,
        margin={"l": 70, "r": 30, "t": top, "b": 60},
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "x": 0,
            "xanchor": "left",
            "traceorder": "normal",
        },
        font={"size": 13},
    )
    return fig


def render(title: str, meta: str, sections: Sequence[Section]) -> str:
    """The page: plotly.js goes with the first figure; every later figure uses it."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{html.escape(meta)}</p>',
    ]
    first = True
    for i, section in enumerate(sections):
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        if section.note:
            parts.append(f'<p class="note">{html.escape(section.note)}</p>')
        parts.append(section.html)
        if section.figure is not None:
            parts.append(
                pio.to_html(
                    section.figure,
                    include_plotlyjs=first,
                    full_html=False,
                    div_id=f"figure-{i}",
                    config={"displaylogo": False, "responsive": True},
                )
            )
            first = False
    parts.append("</body></html>")
    return "\n".join(parts)
