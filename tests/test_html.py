"""HTML reports: each page opened in headless Chromium (Debian's `chromium`, offline, a fresh profile)
must draw every figure (plotly's SVG in the DOM), log no error to the console, and show coloured ink
in every figure's area of the screenshot. The detectors are checked on deliberately broken pages.

WANSTACK_HTML_SHOTS=DIR keeps the pages and screenshots there, for a human to look at."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from wanstack.migration.planner import Plan
from wanstack.report.html import compare_report, run_report, sweep_report
from wanstack.results.cases import broker_stats, case_result, link_traffic
from wanstack.results.schema import RunResult
from wanstack.scenario.load import parse
from wanstack.sim.engine import simulate
from wanstack.sim.migrations import PlanRun

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install-services.sh installs it)"
)

# A star of three edges: boots, deletes and pauses from every site while one edge is cut off for 200 s.
RUN = """
name: cut-edge
generate: {{kind: star, edges: 3, delay_ms: {delay}, hosts: {{count: 3}}, center_hosts: {{count: 2}}}}
model: {model}
workload:
  operations:
    - {{op: boot, times: 40, concurrency: 4, start_s: 10}}
    - {{op: delete, times: 20, concurrency: 2, start_s: 120}}
    - {{op: pause, times: 20, concurrency: 2, start_s: 150}}
    - {{op: boot, times: 20, concurrency: 2, sites: [edge-1], start_s: 230}}
link_defaults: {{jitter_ms: 3}}
background: {{nova_service_down_time_s: 60, nova_report_interval_s: 10}}
faults:
  - {{at_s: 200, action: cut-link, link: [central, edge-1]}}
  - {{at_s: 400, action: restore-link, link: [central, edge-1]}}
run: {{duration_s: 500, seed: {seed}}}
"""
MODELS = ("centralized", "cells-shared", "region-per-site")

# Any error the page raises or logs, and where its figures are and how tall it is, written onto the
# <html> element where --dump-dom shows them.
HOOK = """<script>(function () {
  var errors = [], root = document.documentElement;
  function record(text) {
    errors.push(String(text));
    root.setAttribute("data-js-errors", JSON.stringify(errors));
  }
  window.addEventListener("error", function (e) { record("error: " + e.message); });
  window.addEventListener("unhandledrejection", function (e) { record("rejection: " + e.reason); });
  var consoleError = console.error;
  console.error = function () { record("console.error: " + Array.prototype.join.call(arguments, " "));
                                consoleError.apply(console, arguments); };
  window.addEventListener("load", function () { setTimeout(function () {
    var boxes = [];
    document.querySelectorAll(".js-plotly-plot").forEach(function (d) {
      var b = d.getBoundingClientRect();
      boxes.push([d.id, b.left + window.scrollX, b.top + window.scrollY, b.width, b.height]);
    });
    root.setAttribute("data-figures", JSON.stringify(boxes));
    root.setAttribute("data-height", String(Math.ceil(document.body.getBoundingClientRect().bottom) + 30));
  }, 500); });
})();</script>"""

OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",
]
WIDTH = 1400


def small_evacuation() -> tuple[Plan, PlanRun]:
    """`wanstack migrate evacuate`'s plan for the busiest site of a small star, and its simulated run."""
    from wanstack.api.migrate import Planning, busy_site, evacuate, fleet, simulate_plan

    infra = parse(
        "name: evac\ngenerate: {kind: star, edges: 3, delay_ms: 20, hosts: {count: 4}}\n"
        "run: {duration_s: 300, seed: 1}\n",
        "evac.yaml",
    )
    vms = fleet(infra, per_host=4)
    site = busy_site(infra, vms)
    assert site is not None
    plan = evacuate(infra, vms, site, Planning(solver="greedy"))
    return plan, simulate_plan(infra, plan, vms)


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, *OFFLINE, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_errors(stderr: str) -> list[str]:
    """Uncaught exceptions as Chromium logs them (every console message is INFO:CONSOLE there)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line and "Uncaught" in line]


def png_rgb(path: Path) -> np.ndarray:
    """Chromium's screenshot as an (height, width, 3) array of 8-bit RGB."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def coloured_share(pixels: np.ndarray) -> float:
    """Share of pixels that carry colour (traces, bars, boxes): not white, grey, black or the faint
    grid lines and fault shading."""
    spread = pixels.max(axis=2).astype(int) - pixels.min(axis=2).astype(int)
    return float((spread > 60).mean())


@dataclass
class Rendered:
    figures: int
    dom: str
    errors: list[str]
    boxes: list[tuple[str, float, float, float, float]]
    shares: dict[str, float]
    height: int


def render(page_html: str, name: str, work: Path) -> Rendered:
    """The page opened in Chromium: its DOM (errors, figure boxes, height) and a screenshot of the
    whole page (again if the page turned out taller than guessed); then each figure's share of
    coloured pixels in the screenshot."""
    figures = len(re.findall(r'<div id="figure-\d+" class="plotly-graph-div"', page_html))
    page = work / f"{name}.html"
    page.write_text(page_html.replace("<head>", "<head>" + HOOK, 1), encoding="utf-8")
    profile = Path(tempfile.mkdtemp(prefix=f"chromium-{name}-"))
    try:
        height = _guess_height(page_html)
        r = _render(page, figures, profile, height)
        if r.height > height:
            r = _render(page, figures, profile, r.height)
        return r
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _guess_height(page_html: str) -> int:
    """The figures' heights, the tables' rows and the headings."""
    figures = sum(int(h) for h in re.findall(r'<div style="height:(\d+)px; width:100%;">', page_html))
    return 200 + figures + 26 * page_html.count("<tr>") + 90 * page_html.count("<h2>")


def _render(page: Path, figures: int, profile: Path, height: int) -> Rendered:
    shot = page.with_suffix(".png")
    shot.unlink(missing_ok=True)
    run = chromium(
        page, profile, f"--window-size={WIDTH},{min(height, 16_000)}", f"--screenshot={shot}", "--dump-dom"
    )
    dom = run.stdout
    root = re.search(r"<html[^>]*>", dom)
    assert root is not None, run.stderr[-2000:]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', html.unescape(root.group(0).replace("&quot;", "'"))))
    errors = console_errors(run.stderr)
    if "data-js-errors" in attrs:
        errors.append(attrs["data-js-errors"])
    boxes = [tuple(b) for b in json.loads(attrs.get("data-figures", "[]").replace("'", '"'))]
    shares: dict[str, float] = {}
    if shot.exists():
        pixels = png_rgb(shot)
        shares["page"] = coloured_share(pixels)
        for fid, left, top, width, tall in boxes:
            y0, x0 = round(top), round(left)
            shares[fid] = coloured_share(pixels[y0 : y0 + round(tall), x0 : x0 + round(width)])
    page_height = int(float(attrs.get("data-height", "0")))
    return Rendered(figures, dom, errors, boxes, shares, page_height)  # type: ignore[arg-type]


def drawn(dom: str, figure: str) -> bool:
    """Plotly drew this figure: its SVG with at least one trace that has a path, or a heatmap's image."""
    start = dom.find(f'id="{figure}"')
    end = dom.find('id="figure-', start + 1)
    part = dom[start : end if end > 0 else len(dom)]
    traces = bool(re.search(r'class="trace[^"]*"', part)) and ' d="M' in part
    heatmap = '<g class="hm"' in part and "<image" in part
    return start >= 0 and 'class="main-svg"' in part and (traces or heatmap)


def check(page_html: str, name: str, work: Path) -> Rendered:
    assert "<script src=" not in page_html, "the page loads a script from elsewhere"
    assert page_html.count("* plotly.js") == 1, "plotly.js inlined once"
    r = render(page_html, name, work)
    print(name, r.height, {k: round(v, 4) for k, v in r.shares.items()})
    assert not r.errors, r.errors
    assert r.figures >= 1 and len(r.boxes) == r.figures, (r.figures, r.boxes)
    for fid, _, _, width, height in r.boxes:
        assert drawn(r.dom, fid), f"{name}: {fid} not drawn"
        assert width > 600 and height > 150, (fid, width, height)
        assert r.shares.get(fid, 0.0) > 0.001, f"{name}: {fid} looks blank ({r.shares.get(fid)})"
    return r


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keep = os.environ.get("WANSTACK_HTML_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path_factory.mktemp("html")


def simulated(model: str = "centralized", delay: float = 20.0, seed: int = 3) -> RunResult:
    return simulate(parse(RUN.format(model=model, delay=delay, seed=seed), "cut-edge.yaml"))


def bench_result() -> RunResult:
    """What `wanstack bench` writes, by hand: the messaging cases' latencies (no samples), the links
    and the broker with its memory and connections."""
    rng = np.random.default_rng(1)
    cases = [
        case_result(name, list(rng.lognormal(np.log(base), 0.25, 60)), 60, 0, elapsed_s=5.0, wan_bytes=6e4)
        for name, base in (("tc1-call", 48.0), ("tc1-cast", 25.0), ("tc2-call", 47.0), ("tc3-fanout", 27.0))
    ]
    links = [
        link_traffic(
            "central", f"edge-{i}", (60.0, 80.0), (2.4e4 * i, 3.2e4), bandwidth_mbps=1000, duration_s=20
        )
        for i in (1, 2, 3)
    ]
    broker = broker_stats("central", 1, 960, 1.9, 20.0, memory_mb=142.0).model_copy(
        update={"connections": 14}
    )
    return RunResult(
        engine="bench",
        scenario="tc",
        model="centralized",
        rpc_backend="broker",
        notification_backend="broker",
        seed=1,
        duration_s=20.0,
        operations=cases,
        links=links,
        stations=[broker],
        totals={"wan_bytes": sum(x.bytes_ab + x.bytes_ba for x in links)},
    )


def sweep_table(folder: Path) -> tuple[pd.DataFrame, list[str]]:
    """`wanstack sweep`'s table from real runs: three models × four link delays × two seeds."""
    from wanstack.api import column_name, sweep

    scenario = folder / "sweep.yaml"
    scenario.write_text(RUN.format(model="centralized", delay=20, seed=1), encoding="utf-8")
    grid = {"links.delay_ms": [5, 25, 50, 100], "model": list(MODELS)}
    return sweep(scenario, grid, seeds=2, workers=1), [column_name(field) for field in grid]


def _run(_: Path) -> str:
    return run_report(simulated(), "wanstack run: a cut edge")


def _compare(_: Path) -> str:
    """Four runs: links and stations as heatmaps (from four runs on; compare-results has the bars)."""
    results = [simulated(m) for m in (*MODELS, "centralized-router-mesh")]
    return compare_report(results, [r.model for r in results], "wanstack compare: four models")


def _sweep(folder: Path) -> str:
    table, params = sweep_table(folder)
    return sweep_report(table, params, "wanstack sweep: models × link delay")


def _bench(_: Path) -> str:
    return run_report(bench_result(), "wanstack bench: messaging cases")


def _compare_results(_: Path) -> str:
    from wanstack.bench.scenario_bench import scenario_cases
    from wanstack.sim.cases import simulate_cases
    from wanstack.sim.engine import SimOptions

    infra = parse(
        "name: tc\ngenerate: {kind: star, edges: 3, delay_ms: 20, hosts: {count: 3}}\nrun: {seed: 1}\n",
        "tc.yaml",
    )
    sim = simulate_cases(infra, scenario_cases(infra, 20)[:4], SimOptions())
    title = "wanstack compare-results: sim vs bench"
    return compare_report([sim, bench_result()], ["sim", "bench"], title, reference=1)


PAGES: dict[str, Callable[[Path], str]] = {
    "run": _run,
    "compare": _compare,
    "sweep": _sweep,
    "bench": _bench,
    "compare-results": _compare_results,
}


@needs_chromium
@pytest.mark.parametrize("name", list(PAGES))
def test_report_renders_in_headless_chromium(name: str, work: Path, tmp_path: Path) -> None:
    check(PAGES[name](tmp_path), name, work)


@needs_chromium
def test_the_detectors_catch_a_broken_page(tmp_path: Path) -> None:
    """A figure plotly draws empty, then a script that logs an error and throws: the errors are
    caught, the figure counts as not drawn and its area of the screenshot as blank. Then a real page
    whose figures never get drawn: errors, no figure, no colour anywhere."""
    import plotly.graph_objects as go

    from wanstack.report.html.page import Section
    from wanstack.report.html.page import render as page

    broken = page(
        "broken",
        "",
        [
            Section("empty", figure=go.Figure().update_layout(height=300)),
            Section(
                "throws", html='<script>console.error("deliberate"); throw new Error("on purpose");</script>'
            ),
        ],
    )
    r = render(broken, "broken", tmp_path)
    assert any("Uncaught Error: on purpose" in e for e in r.errors), r.errors
    assert any("console.error: deliberate" in e for e in r.errors), r.errors
    assert [b[0] for b in r.boxes] == ["figure-0"] and not drawn(r.dom, "figure-0")
    assert r.shares["figure-0"] < 0.0002, r.shares
    unplotted = re.sub(r'Plotly\.newPlot\(\s*"figure-', 'Plotly.newPlotX("figure-', _run(tmp_path))
    undrawn = render(unplotted, "undrawn", tmp_path)
    assert any("newPlotX is not a function" in e for e in undrawn.errors), undrawn.errors
    assert undrawn.figures >= 4 and not undrawn.boxes
    assert not any(drawn(undrawn.dom, f"figure-{i}") for i in range(10))
    assert undrawn.shares["page"] < 0.0002, undrawn.shares


def test_cli_writes_each_report(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`--html PATH` on run, compare, bench and compare-results: one page each, plotly.js inlined."""
    from wanstack.cli import app

    scenario = tmp_path / "s.yaml"
    scenario.write_text(RUN.format(model="centralized", delay=20, seed=1), encoding="utf-8")
    s, sim, bench = str(scenario), tmp_path / "sim", tmp_path / "bench"
    commands = {
        "run": ["run", s, "--out", str(sim)],
        "compare": ["compare", s, "--models", "centralized,region-per-site", "--processes", "1"],
        "bench": ["bench", s, "--simulate", "--messages", "5", "--out", str(bench)],
        "compare-results": ["compare-results", str(sim / "result.json"), str(bench / "result.json")],
    }
    for name, args in commands.items():
        page = tmp_path / f"{name}.html"
        result = runner.invoke(app, [*args, "--html", str(page)])
        assert result.exit_code == 0, (name, result.output)
        assert f"wrote {page}" in result.output.replace("\n", ""), result.output
        text = page.read_text(encoding="utf-8")
        assert text.count("* plotly.js") == 1 and "<script src=" not in text
        assert text.count('class="plotly-graph-div"') >= 3, name


def _table(params: dict[str, list[object]], rtt: Callable[[dict[str, object]], float | None]) -> pd.DataFrame:
    """A sweep table by hand: every combination of `params` × seeds 1 and 2, a boot and a delete each;
    latency grows with the RTT, and a little with the seed."""
    import itertools

    rows = []
    for values in itertools.product(*params.values()):
        point = dict(zip(params, values, strict=True))
        for seed in (1, 2):
            for op, base in (("boot", 3000.0), ("delete", 1000.0)):
                x = rtt(point)
                p50 = base + 20 * (x or 0.0) + 10 * seed
                rows.append(
                    {
                        "model": "centralized",
                        **point,
                        "seed": seed,
                        "scenario": "s",
                        "rtt_ms": x,
                        "op": op,
                        "submitted": 10,
                        "succeeded": 9,
                        "failed": 1,
                        "timed_out": 0,
                        "p50_ms": p50,
                        "p95_ms": 1.2 * p50,
                        "wan_bytes_per_op": 1e6,
                    }
                )
    return pd.DataFrame(rows)


def test_sweep_lines_follow_the_parameters_that_do_not_set_the_rtt() -> None:
    from wanstack.report.html.sweep import Lines, headline_figure, series_columns

    table = _table(
        {
            "links.delay_ms": [0, 10, 50],
            "model": ["centralized", "cells-shared"],
            "backend": ["broker", "brokerless"],
        },
        lambda p: 2.0 * float(p["links.delay_ms"]),  # type: ignore[arg-type]
    )
    params = ["links.delay_ms", "model", "backend"]
    assert series_columns(table, params) == ["model", "backend"]
    fig = headline_figure(table, Lines.of(table, ["model", "backend"]), "boot")
    names = {t.name for t in fig.data if t.showlegend}
    assert names == {
        f"model={m}, backend={b}" for m in ("centralized", "cells-shared") for b in ("broker", "brokerless")
    }
    whiskers = [t for t in fig.data if t.error_y.visible]
    assert len(whiskers) == 8  # the seeds differ: min-max whiskers on every line of both panels
    assert len({(t.marker.symbol, t.line.dash) for t in fig.data}) == 4  # each line its own marker
    page = sweep_report(table, params, "grid")
    assert "The RTT is set by links.delay_ms." in page
    assert "How does boot latency grow with the RTT? Per deployment model × RPC backend" in page


def test_sweep_pages_without_an_rtt_axis_or_without_boots() -> None:
    one_rtt = _table({"model": ["centralized", "cells-shared"]}, lambda _: 40.0)
    assert "The RTT was not swept." in sweep_report(one_rtt, ["model"], "models")
    unknown = _table({"model": ["centralized"]}, lambda _: None)
    assert "<h2>How does boot latency" in sweep_report(unknown, ["model"], "no RTT")
    deletes = one_rtt[one_rtt["op"] == "delete"]
    assert "<h2>How does delete latency" in sweep_report(deletes, ["model"], "deletes")
    with pytest.raises(ValueError, match="empty"):
        sweep_report(one_rtt.iloc[0:0], ["model"], "nothing")
