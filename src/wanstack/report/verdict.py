"""`compare`'s decision table: the verdict (`wanstack.results.verdict`) as the last table printed, and
as an HTML table for the top of the compare page."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from wanstack.report.fit import Column, fitted
from wanstack.report.quantities import ms, nbytes
from wanstack.results.verdict import FaultOutcome, Verdict, VerdictRow

FRONT = "★"


def _names(v: Verdict) -> list[str]:
    """Each run's name: its model, or its label (`compare --out`'s folder) where two runs share a model
    (--backends, …)."""
    models = [r.model for r in v.rows]
    return [r.model if models.count(r.model) == 1 else r.run for r in v.rows]  # no space: kept whole


def _faults(row: VerdictRow, several: bool, elsewhere: bool) -> str:
    """What works under each fault, one line per fault (named when there are several); what works
    elsewhere unless every run says the same (then the caption says it once)."""

    def line(f: FaultOutcome) -> str:
        return f"{f'{f.fault}: ' if several else ''}{f.there}{f'; {f.elsewhere}' if elsewhere else ''}"

    return "\n".join(line(f) for f in row.faults) or "no faults"


def _span(f: FaultOutcome) -> str:
    """The fault and when, on two lines of a header (a time cut from its unit reads badly)."""
    end = "the end" if f.end_s is None else f"{f.end_s:,.0f} s"
    return f"{f.fault}\n({f.start_s:,.0f} s – {end})"


def _sla(row: VerdictRow) -> str:
    return "–" if row.sla_failed is None else ("pass" if not row.sla_failed else f"FAIL ({row.sla_failed})")


def verdict_table(v: Verdict, *, width: int | None) -> Table:
    """The runs best first: rank (★: on the Pareto front), name, latencies, WAN bytes per operation,
    failures under faults, the busiest station's headroom, and what works under each fault in words —
    in a column of its own when it fits, else under each name."""
    rows, names = v.rows, _names(v)
    specs = {f.fault: f for r in rows for f in r.faults}
    several = len(specs) > 1
    under = "under " + ("faults" if several or not specs else _span(next(iter(specs.values()))))
    away = {(f.fault, f.elsewhere) for r in rows for f in r.faults}
    said_once = len(away) == len(specs)  # each fault's "elsewhere" the same in every run
    words = [_faults(r, several, not said_once) for r in rows]
    sla = any(r.sla_failed is not None for r in rows)

    def columns(named: list[Text], header: str, least: int | None = None) -> list[Column]:
        def figure(title: str, priority: int, cells: list[str]) -> Column:
            return Column(title, cells, priority, "right")

        return [
            Column("#", [f"{r.rank}{FRONT if r.pareto else ''}" for r in rows], justify="right"),
            Column(header, named, words=True, min_width=least),
            *([Column("SLA", [_sla(r) for r in rows])] if sla else []),
            figure("boot p95", 0, [ms(r.boot_p95_ms) for r in rows]),
            figure("delete p95", 0, [ms(r.delete_p95_ms) for r in rows]),
            figure("WAN/op", 1, [nbytes(r.wan_bytes_per_op) for r in rows]),
            *([figure("failed", 2, [str(r.failed_under_faults) for r in rows])] if specs else []),
            figure("headroom", 3, ["–" if r.headroom is None else f"{r.headroom:.1%}" for r in rows]),
            figure("boot p50", 4, [ms(r.boot_p50_ms) for r in rows]),
            figure("delete p50", 4, [ms(r.delete_p50_ms) for r in rows]),
            Column("busiest station", [r.busiest_station for r in rows], 5),
        ]

    names_header = "run" if len({r.model for r in rows}) < len(rows) else "model"
    title = f"Verdict: {len(rows)} runs, best first"
    notes = [
        f"Ranked by {v.ranked_by}. {FRONT}: on the Pareto front (no other run as good on "
        f"{', '.join(v.pareto_axes)} and better on one). "
        + ("failed: operations failed under faults; " if specs else "The scenario has no faults. ")
        + "headroom: 1 − the busiest station's utilisation.",
        *([f"Same in every run: {', '.join(f'{k} {val}' for k, val in v.same.items())}."] if v.same else []),
        *[
            f"{f'{fault}: ' if several else ''}{what.capitalize()}."
            for fault, what in sorted(away)
            if said_once
        ],
        *v.notes,
    ]
    plain = [Text(n, style="bold") for n in names]
    if not specs:
        return fitted(columns(plain, names_header), width=width, title=title, notes=notes)
    # Best: the words in a column of their own, wide enough to read, beside the figures that
    # matter most; else under each name.
    words_column = Column(under, words, words=True, min_width=40)
    side = fitted([*columns(plain, names_header), words_column], width=width, title=title, notes=notes)
    if width is None or {"WAN/op", "failed"} <= {str(c.header) for c in side.columns}:
        return side
    merged = [Text.assemble((n, "bold"), "\n", (w, "dim")) for n, w in zip(names, words, strict=True)]
    cols = columns(merged, f"{names_header}, {under}", 30)  # narrower, the words read badly
    return fitted(cols, width=width, title=title, notes=notes)


def verdict_rows(v: Verdict) -> list[dict[str, str]]:
    """The verdict as rows of text (column -> cell), best first, for the top of the compare page."""
    rows = []
    for row, name in zip(v.rows, _names(v), strict=True):
        faults = "; ".join(f"{f.fault}: {f.there}; {f.elsewhere}" for f in row.faults)
        rows.append(
            {
                "#": f"{row.rank}{FRONT if row.pareto else ''}",
                "run": name,
                "SLA": _sla(row),
                "boot p50": ms(row.boot_p50_ms, True),
                "boot p95": ms(row.boot_p95_ms, True),
                "delete p50": ms(row.delete_p50_ms, True),
                "delete p95": ms(row.delete_p95_ms, True),
                "WAN/op": nbytes(row.wan_bytes_per_op),
                "headroom": "–" if row.headroom is None else f"{row.headroom:.1%} ({row.busiest_station})",
                "under faults": faults or "no faults",
            }
        )
    return rows


def verdict_note(v: Verdict) -> str:
    """How the verdict ranks, what the star means, and its notes, in one paragraph."""
    return " ".join(
        [f"Ranked by {v.ranked_by}.", f"{FRONT}: on the Pareto front ({', '.join(v.pareto_axes)}).", *v.notes]
    )
