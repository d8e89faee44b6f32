"""What the pages show, checked on their figures and HTML without a browser: a colour per run at
eleven runs, readable per-run panels, an ECDF axis fitted to the data, percent shown as percent, the
evacuation's failed moves, the verdict on top, and plotly's basic bundle (traces it lacks refused)."""

from __future__ import annotations

import re
from dataclasses import replace

import plotly.graph_objects as go
import pytest

from tests.test_html import bench_result, simulated, small_evacuation
from wanstack.report.html import compare_report
from wanstack.report.html.page import (
    PALETTE,
    Section,
    bundle_version,
    plotly_js,
    render,
)
from wanstack.report.html.runs import colour, ecdf_axis, latency_time_figure, stations_figure
from wanstack.results.verdict import verdict as ranked


def test_eleven_runs_get_eleven_colours() -> None:
    """`compare default` has eleven models: ten colours gave the eleventh the first's blue."""
    assert len({colour(i) for i in range(11)}) == 11
    assert len(set(PALETTE)) >= 12


def test_the_ecdf_axis_stops_where_the_lines_stop_climbing() -> None:
    """Boots of 3 to 5 s and one of 200 s (stuck behind a cut link): the axis spans 3 to 5 s, linear."""
    values = [3000.0 + 20.0 * i for i in range(100)] + [200_000.0]
    axis = ecdf_axis(values)
    low, high = axis["range"]  # type: ignore[misc]
    assert axis["type"] == "linear" and 2500 < low < 3000 and 4980 < high < 5500, axis
    assert ecdf_axis(values[:-1])["range"] == axis["range"]
    spread = [10.0 * 1.1**i for i in range(100)]  # no gap: the axis reaches the slowest
    assert ecdf_axis(spread)["type"] == "log"
    assert ecdf_axis(spread)["range"][1] > 4.0  # type: ignore[index]


@pytest.fixture(scope="module")
def eleven() -> list[tuple[str, object]]:
    from wanstack.scenario.deployment import library

    return [(m, simulated(m)) for m in list(library())[:11]]


def test_eleven_per_run_panels_are_each_at_least_180_px_tall(eleven: list[tuple[str, object]]) -> None:
    """They were 40 px tall with 190 px between them."""
    fig = latency_time_figure(eleven)  # type: ignore[arg-type]
    assert fig is not None
    inner = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    axes = [a for name, a in fig.layout.to_plotly_json().items() if name.startswith("yaxis")]
    heights = [(a["domain"][1] - a["domain"][0]) * inner for a in axes]
    assert len(heights) >= 11 and min(heights) >= 180, heights
    assert {a.get("dtick") for a in axes} == {1}  # log scale: decades only
    failures = [t for t in fig.data if t.name == "failed or timed out" and t.showlegend]
    assert len(failures) == 1  # once in the legend, not once per panel


def test_many_runs_show_utilisation_in_percent() -> None:
    """The station table (four runs and more) says `%` in every cell: 0.714 read as a fraction."""
    result = bench_result()
    runs = [(f"run {i}", result) for i in range(4)]
    table = stations_figure(runs)  # type: ignore[arg-type]
    assert isinstance(table, str)
    percent = 100.0 * result.stations[0].utilisation
    assert f"{percent:,.3g} %" in table
    cells = re.findall(r'<td class="num"[^>]*>([^<]*)</td>', table)
    assert cells and all(c.endswith(" %") for c in cells), cells


def test_the_evacuation_page_shows_failed_moves() -> None:
    """Every move of the simulated run failed: the page said nothing of it (it drew only the moved)."""
    from wanstack.report.migration_html import plan_report

    plan, run = small_evacuation()
    failed = replace(run, moves=[replace(m, outcome="failed") for m in run.moves])
    page = plan_report(plan, failed)
    n = len(run.moves)
    assert n > 0 and f"Simulated: {n:,} of {n:,} moves did not complete" in page
    assert f"failed ({n:,})" in page and "failed: where it gave up" in page
    assert "<header><h1>wanstack migrate evacuate" in page and "<table>" in page


def test_the_verdict_leads_the_compare_and_sweep_pages() -> None:
    results = [bench_result(), bench_result()]
    default = compare_report(results, ["a", "b"], "two")
    assert default.index('id="verdict"') < default.index("<h2>Runs</h2>")
    assert "Summary: one row per run" in default and "boot p50" in default
    page = compare_report(results, ["a", "b"], "two", verdict=ranked(results))
    top = page[page.index('id="verdict"') : page.index("<h2>Runs</h2>")]
    assert "Verdict: the runs ranked, best first" in top and "<th>#</th>" in top and "Ranked by" in top
    assert re.search(r"<td[^>]*>1★?</td>", top) and re.search(r"<td[^>]*>2★?</td>", top), top


def test_pages_carry_plotly_s_basic_bundle_of_plotly_py_s_version() -> None:
    """The bundle shipped with wanstack is the version plotly.py writes figures for
    (scripts/vendor-plotly.sh refreshes it when constraints.txt moves plotly)."""
    import plotly.offline

    assert bundle_version(plotly_js()) == plotly.offline.get_plotlyjs_version()


def test_a_trace_the_bundle_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="heatmap"):
        render("t", "", [Section("h", figure=go.Figure(go.Heatmap(z=[[1, 2]])))])
    assert "Plotly.newPlot" in render("t", "", [Section("s", figure=go.Figure(go.Bar(y=[1])))])
