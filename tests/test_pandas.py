"""Runs as pandas takes them (issue 37): column names without dots, so `DataFrame.query` reads them;
long tables where a column's name would be data (a failure's reason, a site); empty tables that keep
their columns and dtypes; a run's repr short enough to print; `dir(wanstack)` showing the API."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import wanstack
from tests.test_api import SMALL as WITH_A_CUT
from wanstack.results.schema import RunResult

# test_api's small star without its link cut.
SMALL = {key: value for key, value in WITH_A_CUT.items() if key != "faults"}
# Quotas and an SLA: the two tables the default scenario leaves empty.
QUOTAS = {
    **SMALL,
    "quotas": {"projects": [{"name": "demo", "limits": {"instances": 12}, "mode": "central"}]},
    "sla": {"boot": {"p95_s": 60}},
}
# The tables of the first release first: the defects were found in them.
TABLES = [
    "operations",
    "links",
    "sites",
    "stations",
    "faults",
    "outages",
    "quotas",
    "inventory",
    "sla",
    "timeseries",
    "samples",
    "failures",
    "fault_boots",
]


@pytest.fixture(scope="module")
def default_run() -> wanstack.Run:
    """The default scenario: boots refused while edge-01 is cut off (failure reasons, per-site boots)."""
    return wanstack.simulate("default")


@pytest.fixture(scope="module")
def quota_run() -> wanstack.Run:
    return wanstack.simulate(QUOTAS)


def _blank() -> wanstack.Run:
    """A run with nothing in it: every table empty."""
    return wanstack.Run(
        RunResult(
            engine="sim",
            scenario="blank",
            model="centralized",
            rpc_backend="broker",
            notification_backend="broker",
            seed=0,
            duration_s=0,
        )
    )


def test_no_column_has_a_dot(default_run: wanstack.Run, quota_run: wanstack.Run, tmp_path: Path) -> None:
    """Defect 1: `failure_reasons.…`, `boots_failed.edge-01`: query() cannot name them."""
    runs = wanstack.Runs([default_run, quota_run])
    for name in TABLES[:11]:
        for owner in (default_run, quota_run, runs):
            frame = getattr(owner, name, None)
            if frame is not None:
                assert not [c for c in frame.columns if "." in c], (name, list(frame.columns))
    default_run.save(tmp_path)
    for table in tmp_path.glob("*.csv"):
        with table.open(encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert not [c for c in header if "." in c], (table.name, header)


def test_a_sweep_table_takes_query_without_backticks() -> None:
    """Defect 1: the swept field `links.delay_ms` is the column `links_delay_ms`."""
    table = wanstack.sweep(SMALL, {"links.delay_ms": [0, 40], "model": ["centralized"]}, workers=1)
    assert not [c for c in table.columns if "." in c], list(table.columns)
    slow = table.query("links_delay_ms == 40 and op == 'boot'")
    assert list(slow["links_delay_ms"]) == [40]
    assert slow["p50_ms"].iloc[0] > table.query("links_delay_ms == 0")["p50_ms"].iloc[0]


def test_a_sweep_journal_of_dotted_columns_resumes_as_the_new_table(tmp_path: Path) -> None:
    """Defect 1: a sweep an older wanstack stopped (its journal's rows have dotted columns and a column
    per failure reason) resumes without running again, into a table of the new columns."""
    grid = {"links.delay_ms": [0, 40]}
    fresh = wanstack.sweep(SMALL, grid, workers=1, out=tmp_path)
    journal = tmp_path / "sweep.jsonl"
    older = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        assert all("links_delay_ms" in row for row in entry["rows"])
        entry["rows"] = [
            {k.replace("links_delay_ms", "links.delay_ms"): v for k, v in row.items()}
            | {"failure_reasons.NoValidHost: no host": 1}
            for row in entry["rows"]
        ]
        older.append(json.dumps(entry))
    journal.write_text("\n".join(older) + "\n", encoding="utf-8")
    started: list[int] = []
    resumed = wanstack.sweep(SMALL, grid, out=tmp_path, on_done=lambda done, _: started.append(done))
    assert started == [2]  # both runs were kept, none ran again
    assert resumed.equals(fresh)


def test_failure_reasons_are_rows_of_a_failures_table(default_run: wanstack.Run, tmp_path: Path) -> None:
    """Defect 2: a column per failure reason becomes a row per operation and reason."""
    ops = default_run.operations
    reasons = {r for o in default_run.result.operations for r in o.failure_reasons}
    assert reasons, "the default scenario refuses boots while edge-01 is cut off"
    assert not [c for c in ops.columns if any(r in c for r in reasons)], list(ops.columns)
    failures = default_run.failures
    assert list(failures.columns) == ["op", "reason", "count"]
    expected = {(o.op, r, n) for o in default_run.result.operations for r, n in o.failure_reasons.items()}
    assert set(failures.itertuples(index=False, name=None)) == expected
    default_run.save(tmp_path)
    with (tmp_path / "failures.csv").open(encoding="utf-8") as fh:
        assert [(r["op"], r["reason"], int(r["count"])) for r in csv.DictReader(fh)] == [
            tuple(t) for t in failures.itertuples(index=False, name=None)
        ]
    stacked = wanstack.Runs([default_run]).failures
    assert list(stacked.columns) == ["run", "model", "rpc_backend", "seed", "op", "reason", "count"]


def test_boots_during_a_fault_are_rows_per_site(default_run: wanstack.Run, tmp_path: Path) -> None:
    """Defect 2: `boots_failed.edge-01` (a column per site) becomes a row per fault and site."""
    sites = set(default_run.sites["site"])
    faults = default_run.faults
    assert not [c for c in faults.columns if any(s in c for s in sites)], list(faults.columns)
    impact = default_run.result.faults[0]
    assert impact.boots_failed, "boots at edge-01 fail while it is cut off"
    assert faults["boots_failed"].iloc[0] == sum(impact.boots_failed.values())
    assert faults["boots_ok"].iloc[0] == sum(impact.boots_ok.values())
    boots = default_run.fault_boots
    assert list(boots.columns) == ["fault", "start_s", "site", "boots_ok", "boots_failed"]
    expected = {
        (f.fault, f.start_s, site, f.boots_ok.get(site, 0), f.boots_failed.get(site, 0))
        for f in default_run.result.faults
        for site in {*f.boots_ok, *f.boots_failed}
    }
    assert set(boots.itertuples(index=False, name=None)) == expected
    edge = boots.query("site == 'edge-01'")
    assert edge["boots_failed"].sum() == impact.boots_failed["edge-01"]
    default_run.save(tmp_path)
    assert (tmp_path / "fault_boots.csv").is_file()


def test_an_empty_table_keeps_its_columns_and_dtypes(
    default_run: wanstack.Run, quota_run: wanstack.Run
) -> None:
    """Defect 3: an empty table was a 0×0 DataFrame; it has the columns and dtypes of a full one."""
    blank = _blank()
    for name in TABLES:
        empty = getattr(blank, name)
        assert empty.empty, name
        full = next(t for t in (getattr(r, name) for r in (default_run, quota_run)) if len(t))
        if name == "timeseries":  # its series are named by the run that has them
            assert list(empty.columns) == ["t_s"] and empty["t_s"].dtype == full["t_s"].dtype
            continue
        assert list(empty.columns) == list(full.columns), name
        assert empty.dtypes.equals(full.dtypes), (name, empty.dtypes, full.dtypes)
    none = wanstack.Runs([])
    for name in ("operations", "failures", "links", "faults", "fault_boots", "quotas", "samples"):
        stacked, one = getattr(none, name), getattr(default_run, name)
        assert list(stacked.columns) == ["run", "model", "rpc_backend", "seed", *one.columns], name


def test_stacked_tables_keep_their_dtypes_when_one_run_has_none(
    default_run: wanstack.Run, quota_run: wanstack.Run
) -> None:
    """Defect 3: stacking a run with no quotas and one with some keeps the quotas' dtypes."""
    stacked = wanstack.Runs([default_run, quota_run]).quotas
    assert len(stacked) == len(quota_run.quotas) > 0
    assert stacked.dtypes[quota_run.quotas.columns].equals(quota_run.quotas.dtypes)


def test_a_run_prints_short(default_run: wanstack.Run) -> None:
    """Defect 4: repr(run) printed the whole result (32 kB)."""
    text = repr(default_run)
    assert len(text) < 1000, len(text)
    r = default_run.result
    boot = default_run.operations.set_index("op").loc["boot"]
    for part in (
        f"scenario={r.scenario!r}",
        f"engine={r.engine!r}",
        f"seed={r.seed}",
        f"p50 {boot['p50_ms']:,.0f} ms",
        f"{int(boot['succeeded'])}/{int(boot['submitted'])} ok",
        f"operations ({len(default_run.operations)})",
        f"links ({len(default_run.links)})",
        f"failures ({len(default_run.failures)})",
        f"samples ({len(default_run.samples)})",
    ):
        assert part in text, (part, text)
    runs = repr(wanstack.Runs([default_run, _blank()]))
    assert len(runs) < 1000 and default_run.label in runs and "2 runs" in runs, runs


def test_dir_shows_the_public_api() -> None:
    """Defect 5: `dir(wanstack)` did not list `simulate` or `sweep` (loaded on first use)."""
    shown = set(dir(wanstack))
    assert {"simulate", "sweep", "compare", "load_dir", "load_scenario", "Run", "Runs"} <= set(
        wanstack.__all__
    )
    assert set(wanstack.__all__) <= shown, set(wanstack.__all__) - shown
    for name in wanstack.__all__:
        assert getattr(wanstack, name) is getattr(wanstack.api, name), name
