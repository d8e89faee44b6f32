"""Two results of one scenario side by side (`wanstack compare-results`), typically the simulator's and
the bench's: per operation latency, rate and WAN bytes; per link bytes; the brokers' work. Each row
gives the first result's error relative to the second."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from wanstack.results.schema import RunResult, StationStats


def relative(x: float | None, y: float | None) -> str:
    return "–" if x is None or y is None or not y else f"{(x - y) / y:+.1%}"


def _num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


Names = tuple[str, str]


def labels(a: RunResult, b: RunResult, first: Path | None = None, second: Path | None = None) -> Names:
    """A distinct name per result, for column headers: its folder (when the files are given), then
    the engine, model and backends where the two differ (two simulator runs are both `sim`)."""
    fields = ("engine", "model", "rpc_backend", "notification_backend")
    differ = [f for f in fields if getattr(a, f) != getattr(b, f)]
    names = []
    for result, path in ((a, first), (b, second)):
        folder = _folder(path)
        details = [str(getattr(result, f)) for f in differ]
        if folder is None:
            names.append(" ".join(details) or result.engine)
        else:
            names.append(f"{folder} ({' '.join(details)})" if details else folder)
    if names[0] == names[1]:  # same folder name and same run settings: number them
        names = [f"1: {names[0]}", f"2: {names[1]}"]
    return names[0], names[1]


def _folder(path: Path | None) -> str | None:
    if path is None:
        return None
    return path.resolve().parent.name if path.name == "result.json" else path.stem


def _table(title: str, key: str, columns: Iterable[str], names: Names) -> Table:
    table = Table(title=escape(title))  # folder names are text, not rich markup
    table.add_column(key, no_wrap=True)
    for name in columns:
        # The measure on top, whose result below: long folder names fold within a narrow column.
        for who in (*names, "error"):
            header = escape(f"{name}\n{who}") if who != "error" else "error"
            table.add_column(header, justify="right", overflow="fold")
    return table


def _row(values: Iterable[tuple[float | None, float | None]], digits: int = 2) -> list[str]:
    cells = []
    for x, y in values:
        cells += [_num(x, digits), _num(y, digits), relative(x, y)]
    return cells


def operations(a: RunResult, b: RunResult, names: Names | None = None) -> Table:
    names = names or labels(a, b)
    table = _table(
        f"operations: {names[0]} vs {names[1]}", "operation", ("p50", "p95", "msgs/s", "WAN B/op"), names
    )
    for op in a.operations:
        other = b.operation(op.op)
        if other is None:
            continue
        la, lb = op.latency_ms, other.latency_ms
        pairs = ((la.p50, lb.p50), (la.p95, lb.p95), (op.rate_per_s, other.rate_per_s))
        table.add_row(op.op, *_row(pairs), *_row([(op.wan_bytes_per_op, other.wan_bytes_per_op)], 0))
    return table


def links(a: RunResult, b: RunResult, names: Names | None = None, limit: int = 12) -> Table:
    """Links both results know, by unordered pair of sites, the busiest of `b` first."""
    names = names or labels(a, b)
    table = _table(f"WAN links: {names[0]} vs {names[1]}", "link", ("bytes", "messages"), names)

    def by_pair(r: RunResult) -> dict[frozenset[str], tuple[float, float]]:
        return {
            frozenset((x.a, x.b)): (x.bytes_ab + x.bytes_ba, x.messages_ab + x.messages_ba) for x in r.links
        }

    mine, theirs = by_pair(a), by_pair(b)
    shared = sorted(set(mine) & set(theirs), key=lambda k: -theirs[k][0])[:limit]
    for pair in shared:
        (xa, ma), (xb, mb) = mine[pair], theirs[pair]
        table.add_row(" – ".join(sorted(pair)), *_row([(xa, xb), (ma, mb)], 0))
    return table


def brokers(a: RunResult, b: RunResult, names: Names | None = None) -> Table:
    names = names or labels(a, b)
    table = _table(
        f"brokers: {names[0]} vs {names[1]}", "broker", ("jobs", "busy", "ms/job", "memory MB"), names
    )

    def by_site(r: RunResult) -> dict[str, StationStats]:
        return {s.site: s for s in r.stations if s.kind.endswith("-broker")}

    mine, theirs = by_site(a), by_site(b)
    for site in sorted(set(mine) & set(theirs)):
        x, y = mine[site], theirs[site]
        cells = _row([(x.jobs, y.jobs)], 0)
        cells += _row([(x.utilisation, y.utilisation), (x.service_ms, y.service_ms)], 3)
        cells += _row([(x.memory_mb, y.memory_mb)], 0)
        table.add_row(site, *cells)
    return table


def quotas(a: RunResult, b: RunResult, names: Names | None = None) -> Table:
    """Each limit both results held (project, resource): the share of claims refused, the over-commit
    peak, the claims' latency p50 (all, and granted: what a claim adds to a boot that goes ahead)."""
    names = names or labels(a, b)
    table = _table(
        f"quotas: {names[0]} vs {names[1]}", "limit", ("refused", "over", "claim p50", "granted p50"), names
    )
    theirs = {(q.project, q.resource): q for q in b.quotas}
    for q in a.quotas:
        other = theirs.get((q.project, q.resource))
        if other is None:
            continue
        counts = [(q.refused / max(1, q.claims), other.refused / max(1, other.claims))]
        over = [(q.over_commit_peak, other.over_commit_peak)]
        latency = [(q.claim_ms_p50, other.claim_ms_p50), (q.granted_claim_ms_p50, other.granted_claim_ms_p50)]
        table.add_row(f"{q.project} {q.resource}", *_row(counts), *_row(over, 0), *_row(latency, 1))
    return table
