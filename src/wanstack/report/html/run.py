"""The pages of `wanstack run`, `bench`, `compare` and `compare-results`: a header and tables of what
the runs were, then their figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go

from wanstack.report.html.page import Section, Verdict, ms, render, table
from wanstack.report.html.runs import (
    MANY_RUNS,
    MAX_BARS,
    Runs,
    latency_figure,
    latency_time_figure,
    links_figure,
    stations_figure,
    timeline_figure,
)
from wanstack.report.quantities import nbytes
from wanstack.report.tables import compare_rows
from wanstack.report.verdict import verdict_note, verdict_rows
from wanstack.results.schema import OperationResult, RunResult
from wanstack.results.verdict import Verdict as Ranking


def _describe(r: RunResult) -> str:
    events = f", {r.events:,} events" if r.events else ""
    return (
        f"{r.engine} run of {r.scenario} · model {r.model} · RPC {r.rpc_backend}, notifications "
        f"{r.notification_backend} · seed {r.seed} · {r.duration_s:,.0f} s{events}"
    )


def _reasons(o: OperationResult) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(o.failure_reasons.items()))


def _rate(o: OperationResult) -> str:
    return "–" if o.rate_per_s is None else f"{o.rate_per_s:,.1f}"


def operations_table(r: RunResult) -> str:
    headers = ["operation", "submitted", "ok", "failed", "timed out", "mean", "p50", "p95", "p99", "max"]
    headers += ["WAN bytes/op", "ok/s", "failure reasons"]
    rows = [
        [
            o.op,
            o.submitted,
            o.succeeded,
            o.failed,
            o.timed_out,
            ms(o.latency_ms.mean),
            ms(o.latency_ms.p50),
            ms(o.latency_ms.p95),
            ms(o.latency_ms.p99),
            ms(o.latency_ms.max),
            nbytes(o.wan_bytes_per_op),
            _rate(o),
            _reasons(o),
        ]
        for o in r.operations
    ]
    return table(headers, rows)


def _totals_table(r: RunResult) -> str:
    def value(name: str, v: float) -> str:
        return nbytes(v) if "bytes" in name else f"{v:,.6g}"

    return table(["total", "value"], [[k.replace("_", " "), value(k, v)] for k, v in r.totals.items()])


def _faults_table(r: RunResult) -> str:
    rows = [
        [
            f.fault,
            f"{f.start_s:,.0f} s",
            "–" if f.end_s is None else f"{f.end_s:,.0f} s",
            ", ".join(f.isolated_sites) or "–",
            sum(f.boots_ok.values()),
            sum(f.boots_failed.values()),
            ", ".join(f.sites_still_booting) or "–",
        ]
        for f in r.faults
    ]
    headers = ["fault", "start", "end", "sites cut off", "boots ok during it", "boots failed"]
    return table([*headers, "cut-off sites still booting"], rows)


def _sla_section(results: Sequence[tuple[str | None, RunResult]]) -> Section:
    """The scenario's `sla:` criteria against each run (`results.sla`); a run column when labelled."""

    def shown(criterion: str, v: float | None) -> str:
        if v is None:
            return "none succeeded"
        return f"{v:.1f} %" if criterion.endswith("_pct") else f"{v:.3f} s"

    labelled = any(label is not None for label, _ in results)
    rows = [
        [
            *([label or ""] if labelled else []),
            c.op,
            c.criterion,
            "–" if c.limit is None else shown(c.criterion, c.limit),
            shown(c.criterion, c.value),
            "pass" if c.passed else "FAIL",
        ]
        for label, r in results
        for c in r.sla
    ]
    failed = sum(row[-1] == "FAIL" for row in rows)
    verdict = "every criterion passed" if not failed else f"{failed} of {len(rows)} criteria FAILED"
    headers = [*(["run"] if labelled else []), "operation", "criterion", "limit", "measured", "result"]
    return Section(f"SLA: {verdict}", html=table(headers, rows))


def _quotas_table(r: RunResult, label: str | None = None) -> str:
    """The run's quotas; with `label`, a first column naming the run (compare)."""
    rows = [
        [
            *([label] if label is not None else []),
            q.project,
            q.resource,
            q.mode,
            q.limit,
            q.claims,
            q.refused,
            q.refused_with_headroom,
            q.over_commit_peak,
            ms(q.claim_ms_p50),
            ms(q.claim_ms_p95),
        ]
        for q in r.quotas
    ]
    headers = ["project", "resource", "mode", "limit", "claims", "refused", "refused with headroom"]
    run = ["run"] if label is not None else []
    return table([*run, *headers, "over-commit peak", "claim p50", "claim p95"], rows)


def _compare_quotas(runs: Runs) -> str:
    """Every run's quota rows in one table (the header once)."""
    pages = [_quotas_table(r, label) for label, r in runs if r.quotas]
    head, _, _ = pages[0].partition("<tbody>")
    bodies = [p.partition("<tbody>")[2].removesuffix("</tbody></table>") for p in pages]
    return f"{head}<tbody>{''.join(bodies)}</tbody></table>"


def _section(heading: str, note: str, content: go.Figure | str | None) -> Section | None:
    """A section around a figure, or around the HTML table that stands for one (many runs)."""
    if content is None:
        return None
    if isinstance(content, str):
        return Section(heading, note, html=content)
    return Section(heading, note, content)


def _figures(runs: Runs) -> list[Section]:
    """The figures every run page has, where the runs recorded what they need."""
    kept = all(r.samples is not None for _, r in runs)
    how = (
        "Each line: the share of successful operations done within x ms (an ECDF); a step means two groups "
        "of operations, e.g. sites near and far from the control plane."
        if kept
        else "Markers: ● p50, ◆ p95, ▶ p99, ✕ max (no per-operation samples in these results)."
    )
    many = len(runs) >= MANY_RUNS
    candidates = [
        _section("How long do operations take? Latency per operation", how, latency_figure(runs)),
        _section(
            "Did latency change during the run? Each operation at the time it started",
            "Shaded: faults. Crosses: failed or timed-out operations (at the time they gave up)."
            + (" One panel per run, the same axes in all." if len(runs) > 1 else ""),
            latency_time_figure(runs),
        ),
        _section(
            "What does the WAN carry? Bytes per link",
            f"The busiest links (at most {MAX_BARS}), "
            + (
                "bytes both ways over the run; darker: more."
                if many
                else "messages and image transfers both ways."
            ),
            links_figure(runs),
        ),
        _section(
            "Which services are loaded? Busiest stations (brokers, APIs, databases)",
            "Utilisation: busy workers over workers × run time, in percent"
            + ("; darker: busier." if many else "."),
            stations_figure(runs),
        ),
        _section(
            "What happened over time? Load, brokers and liveness, faults shaded",
            "Bars in the last panel: faults (red) and services the servicegroups saw down"
            + (", one bar per run in its colour." if len(runs) > 1 else "."),
            timeline_figure(runs),
        ),
    ]
    return [s for s in candidates if s is not None]


def run_report(result: RunResult, title: str) -> str:
    """One run (simulated or bench) as a self-contained HTML page."""
    tables = [Section("Operations", "Latencies of successful operations.", html=operations_table(result))]
    if result.totals:
        tables.append(Section("Totals", html=_totals_table(result)))
    if result.faults:
        tables.append(Section("Faults", html=_faults_table(result)))
    if result.quotas:
        tables.append(Section("Quotas", html=_quotas_table(result)))
    if result.sla:
        tables.append(_sla_section([(None, result)]))
    return render(title, _describe(result), [*tables, *_figures([("run", result)])])


def _relative(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "–"
    return f"{(value - reference) / reference:+.1%}"


def _compare_operations(runs: Runs, reference: int) -> str:
    first = runs[reference][1]
    names = list(dict.fromkeys(o.op for _, r in runs for o in r.operations))
    rows = []
    for op in names:
        ref = first.operation(op)
        for label, r in runs:
            o = r.operation(op)
            if o is None:
                continue
            rows.append(
                [
                    op,
                    label,
                    o.submitted,
                    o.succeeded,
                    o.failed + o.timed_out,
                    ms(o.latency_ms.p50),
                    ms(o.latency_ms.p95),
                    _relative(o.latency_ms.p50, None if ref is None else ref.latency_ms.p50),
                    nbytes(o.wan_bytes_per_op),
                    _rate(o),
                ]
            )
    headers = ["operation", "run", "submitted", "ok", "failed or timed out", "p50", "p95"]
    return table([*headers, f"p50 vs {runs[reference][0]}", "WAN bytes/op", "ok/s"], rows)


def summary_verdict(results: Sequence[RunResult], labels: Sequence[str]) -> Verdict:
    """What the page leads with until a ranking says more: `compare`'s summary, a row per run."""
    rows = [{"run": label} | row for label, row in zip(labels, compare_rows(results), strict=True)]
    if all(label.startswith(r.model) for label, r in zip(labels, results, strict=True)):
        rows = [{k: v for k, v in row.items() if k not in ("model", "RPC")} for row in rows]  # in "run"
    return Verdict(
        "Summary: one row per run", rows, "Boots of each run; the busiest broker; what the faults did."
    )


def compare_report(
    results: Sequence[RunResult],
    labels: Sequence[str],
    title: str,
    *,
    reference: int = 0,
    verdict: Ranking | None = None,
) -> str:
    """Several runs side by side, one colour each (`compare`, and `compare-results` with two); the
    p50s relative to run number `reference`'s. `verdict` (the runs ranked) goes first; without one,
    the summary table."""
    if len(results) != len(labels) or not results or not 0 <= reference < len(results):
        raise ValueError("one label per result, at least one result, and a reference among them")
    runs = list(zip(labels, results, strict=True))
    rows: list[list[object]] = [
        [label, r.engine, r.scenario, r.model, r.rpc_backend, r.notification_backend, r.seed, r.duration_s]
        for label, r in runs
    ]
    header = table(
        ["run", "engine", "scenario", "model", "RPC", "notifications", "seed", "run time, s"], rows
    )
    sections = [
        Section("Runs", html=header),
        Section(
            "Operations", "Latencies of successful operations.", html=_compare_operations(runs, reference)
        ),
    ]
    if any(r.quotas for r in results):
        sections.append(Section("Quotas", html=_compare_quotas(runs)))
    if any(r.sla for r in results):
        sections.append(_sla_section([(label, r) for label, r in runs if r.sla]))
    sections += _figures(runs)
    scenarios = ", ".join(dict.fromkeys(r.scenario for r in results))
    top = (
        Verdict("Verdict: the runs ranked, best first", verdict_rows(verdict), verdict_note(verdict))
        if verdict is not None
        else summary_verdict(results, labels)
    )
    return render(title, f"{len(results)} runs of {scenarios}", sections, verdict=top)


def run_label(r: RunResult) -> str:
    """A run among `compare`'s: its model, RPC backend and quota mode."""
    return " · ".join(r.variant())


def compare_files(paths: Sequence[Path], results: Sequence[RunResult], title: str) -> str:
    """`compare-results`: the runs read from their files, with every operation's latency where
    samples.csv/.parquet sit beside result.json; the first's p50s relative to the second's."""
    from wanstack.report.files import read_result

    full = [
        read_result(p.parent) if p.name == "result.json" and p.parent.is_dir() else r
        for p, r in zip(paths, results, strict=True)
    ]
    labels = [
        f"{r.engine}: {p.parent.name if p.name == 'result.json' else p.stem}"
        for p, r in zip(paths, full, strict=True)
    ]
    if len(set(labels)) < len(labels):
        labels = [f"{label} ({i})" for i, label in enumerate(labels, start=1)]
    return compare_report(full, labels, title, reference=len(full) - 1)
