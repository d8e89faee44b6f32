"""Every page kind (run, compare of 4 runs and `compare default`'s 11, sweep, bench, compare-results,
evacuate) laid out by headless Chromium at 1,280 and 1,920 px: no figure title, axis title, subplot
title, legend, toolbar or tick label overlaps another; every plot area is tall enough to read; every
page, plotly.js included, weighs at most 1.5 MB. The boxes come from a script run in the page after
plotly drew it, written onto <html> where --dump-dom shows them.

WANSTACK_HTML_SHOTS=DIR keeps the pages there (tests/test_html.py's screenshots go there too)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_html import CHROMIUM, MODELS, OFFLINE, PAGES, needs_chromium, small_evacuation
from wanstack.report.html import compare_report

MAX_BYTES = 1_500_000
MIN_PLOT_PX = 150  # a plot area shorter than this squeezes its ticks into each other
WIDTHS = (1280, 1920)

# Boxes of every label plotly drew, per figure: [kind, text, left, top, right, bottom].
BOXES = """<script>window.addEventListener("load", function () { setTimeout(function () {
  var out = {};
  document.querySelectorAll(".js-plotly-plot").forEach(function (fig) {
    var boxes = [];
    function add(kind, el, text) {
      var b = el.getBoundingClientRect();
      if (b.width > 0.5 && b.height > 0.5) boxes.push([kind, text, b.left, b.top, b.right, b.bottom]);
    }
    fig.querySelectorAll(".g-gtitle text, [class^='g-x'][class$='title'] text").forEach(function (e) {
      add("x title", e, e.textContent); });
    fig.querySelectorAll("[class^='g-y'][class$='title'] text").forEach(function (e) {
      add("y title", e, e.textContent); });
    fig.querySelectorAll("g.annotation").forEach(function (e) { add("subplot title", e, e.textContent); });
    fig.querySelectorAll("g.legend .bg").forEach(function (e) { add("legend", e, "legend"); });
    fig.querySelectorAll(".modebar").forEach(function (e) { add("toolbar", e, "toolbar"); });
    fig.querySelectorAll("g.xtick text, g.ytick text").forEach(function (e) {
      add(e.parentNode.getAttribute("class") + " label", e, e.textContent); });
    var plots = [];
    fig.querySelectorAll(".bglayer rect.bg").forEach(function (e) {
      var b = e.getBoundingClientRect(); plots.push([b.width, b.height]); });
    out[fig.id] = {boxes: boxes, plots: plots};
  });
  var page = [];
  document.querySelectorAll("main h2, main h3, main p.note, th.run").forEach(function (e) {
    var text = document.createRange();  // the text itself: it may overflow its cell
    text.selectNodeContents(e);
    var b = e.tagName == "TH" ? text.getBoundingClientRect() : e.getBoundingClientRect();
    page.push([e.tagName == "TH" ? "column label" : e.tagName.toLowerCase(), e.textContent.slice(0, 40),
               b.left, b.top, b.right, b.bottom]);
  });
  out["page"] = {boxes: page, plots: []};
  document.documentElement.setAttribute("data-layout", JSON.stringify(out));
}, 300); });</script>"""


def _compare_default(_: Path) -> str:
    """The page a user found unreadable: `wanstack compare default --html`, every model of the library
    (eleven), one colour and one panel each."""
    from wanstack.api import compare
    from wanstack.report.html import run_label
    from wanstack.scenario.deployment import library

    results = [r.result for r in compare("default", list(library()), processes=2)]
    assert len(results) >= 11
    return compare_report(results, [run_label(r) for r in results], "wanstack compare: default")


def _evacuate(_: Path) -> str:
    """`wanstack migrate evacuate --html` on a small star: the plan and its simulated run."""
    from wanstack.report.migration_html import plan_report

    return plan_report(*small_evacuation())


KINDS: dict[str, Callable[[Path], str]] = {
    **PAGES,
    "compare-default": _compare_default,
    "evacuate": _evacuate,
}


def overlaps(boxes: list[list[object]]) -> list[str]:
    """Pairs of labels whose boxes overlap by more than a pixel each way."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            dx = min(float(a[4]), float(b[4])) - max(float(a[2]), float(b[2]))  # type: ignore[arg-type]
            dy = min(float(a[5]), float(b[5])) - max(float(a[3]), float(b[3]))  # type: ignore[arg-type]
            if dx > 1.0 and dy > 1.0:
                found.append(f"{a[0]} {a[1]!r} overlaps {b[0]} {b[1]!r} ({dx:.0f}×{dy:.0f} px)")
    return found


def layout(page: Path, width: int) -> dict[str, dict[str, list[list[object]]]]:
    assert CHROMIUM is not None
    profile = Path(tempfile.mkdtemp(prefix="chromium-layout-"))
    try:
        run = subprocess.run(
            [
                CHROMIUM,
                *OFFLINE,
                f"--user-data-dir={profile}",
                f"--window-size={width},1000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    root = re.search(r"<html[^>]*>", run.stdout)
    assert root is not None, run.stderr[-2000:]
    found = re.search(r'data-layout="([^"]*)"', root.group(0))
    assert found is not None, "the layout script did not run"
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import os

    keep = os.environ.get("WANSTACK_HTML_SHOTS")
    folder = Path(keep) if keep else tmp_path_factory.mktemp("layout")
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, make in KINDS.items():
        page = folder / f"layout-{name}.html"
        page.write_text(make(folder), encoding="utf-8")
        out[name] = page
    return out


@pytest.mark.parametrize("name", list(KINDS))
def test_every_page_weighs_at_most_1_5_mb_and_carries_its_plotly(name: str, pages: dict[str, Path]) -> None:
    """One file, plotly.js inside it once (offline, no CDN), under 1.5 MB."""
    text = pages[name].read_text(encoding="utf-8")
    assert "<script src=" not in text and text.count("* plotly.js") == 1
    assert pages[name].stat().st_size <= MAX_BYTES, (name, pages[name].stat().st_size)


@pytest.fixture(scope="module")
def layouts(pages: dict[str, Path]) -> dict[tuple[str, int], dict[str, dict[str, list[list[object]]]]]:
    """Every page at every width laid out, four Chromiums at a time (each mostly waits to start)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(key: tuple[str, int]) -> dict[str, dict[str, list[list[object]]]]:
        name, width = key
        hooked = pages[name].with_name(f"{pages[name].stem}-{width}.html")
        hooked.write_text(
            pages[name].read_text(encoding="utf-8").replace("<head>", "<head>" + BOXES, 1), "utf-8"
        )
        return layout(hooked, width)

    keys = [(name, width) for name in pages for width in WIDTHS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(keys, pool.map(one, keys), strict=True))


@needs_chromium
@pytest.mark.parametrize("width", WIDTHS)
def test_no_label_overlaps_another_and_every_plot_is_readable(
    width: int, layouts: dict[tuple[str, int], dict[str, dict[str, list[list[object]]]]]
) -> None:
    problems = []
    for (name, at), figures in layouts.items():
        if at != width:
            continue
        assert len(figures) > 1, f"{name}: no figure laid out"
        for fid, got in figures.items():
            problems += [f"{name} {fid} @{width}: {p}" for p in overlaps(got["boxes"])]
            problems += [
                f"{name} {fid} @{width}: a plot area {w:.0f}×{h:.0f} px"
                for w, h in got["plots"]  # type: ignore[misc]
                if float(h) < MIN_PLOT_PX  # type: ignore[arg-type]
            ]
    assert not problems, "\n".join(problems[:40])


def test_the_overlap_detector_sees_overlaps() -> None:
    boxes: list[list[object]] = [["x title", "a", 0, 0, 100, 20], ["legend", "legend", 90, 10, 200, 40]]
    assert overlaps(boxes) == ["x title 'a' overlaps legend 'legend' (10×10 px)"]
    assert overlaps([boxes[0], ["y title", "b", 100, 0, 150, 20]]) == []  # touching is fine


def test_models_are_eleven_in_the_library() -> None:
    """`compare default` runs every model of the library: the page must tell eleven apart."""
    from wanstack.report.html.page import PALETTE
    from wanstack.scenario.deployment import library

    assert len(library()) <= len(set(PALETTE)) and len(set(PALETTE)) >= 12
    assert set(MODELS) <= set(library())
