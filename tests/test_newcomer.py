"""What a newcomer trips on (issue 19 point 6): one test per item, each failing before its fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from wanstack.cli import app
from wanstack.results.schema import RunResult
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import parse

SMALL = """\
name: t
sites:
  - name: hub
    tier: central
  - name: e1
    tier: edge
links:
  - {a: hub, b: e1, delay_ms: 10, bandwidth_mbps: RATE}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse(text, "s.yaml")
    return [p.render("s.yaml") for p in info.value.problems]


@pytest.mark.parametrize(
    ("rate", "mbit_s"), [("100mbit", 100.0), ("1gbit", 1000.0), ("500kbit", 0.5), (250, 250)]
)
def test_bandwidth_takes_unit_explicit_bits(rate: object, mbit_s: float) -> None:
    infra = parse(SMALL.replace("RATE", str(rate)), "s.yaml")
    assert infra.links[0].bandwidth_mbps == pytest.approx(mbit_s)


@pytest.mark.parametrize("rate", ["100Mbps", "100MB", "100mbps", "1gbps", "100MB/s"])
def test_bandwidth_rejects_ambiguous_bytes_or_bits(rate: str) -> None:
    """`100Mbps` used to mean 800 Mbit/s silently (tc reads `mbps` as megabytes per second)."""
    out = _problems(SMALL.replace("RATE", rate))
    assert len(out) == 1
    assert out[0].startswith("s.yaml:8:")
    assert "links[0].bandwidth_mbps" in out[0]
    assert "ambiguous" in out[0]
    assert "hint: write 100mbit" in out[0] or "hint: write 1gbit" in out[0]


def _jittered_delays(jitters: list[float], seed: int = 7, n: int = 4000) -> list[float]:
    """`n` one-way delays of 1-byte messages over a chain of 20 ms links with these jitters."""
    from wanstack.sim.kernel import Simulator
    from wanstack.sim.network import Network
    from wanstack.topology import Topology, WanLink

    names = [f"s{i}" for i in range(len(jitters) + 1)]
    links = [
        WanLink(a, b, 20.0, 20.0, j, 1e6, 0.0) for a, b, j in zip(names, names[1:], jitters, strict=False)
    ]
    net = Network(Simulator(seed), Topology(names, links), lan_delay_ms=0.1)
    nominal = 20.0 * len(jitters)
    out = []
    for _ in range(n):
        delay = net.delay(names[0], names[-1], 1.0)
        assert delay is not None
        out.append(delay - nominal)
    return out


def test_jitter_is_uniform_within_plus_minus_jitter_as_in_netem_and_the_relay() -> None:
    """netem (and the bench relay, `lab.relay`): without a distribution, each packet's delay is
    uniform in [delay − jitter, delay + jitter]. The simulator used a Gaussian of that standard
    deviation, clamped at the nominal delay: unbounded above, never early."""
    offsets = _jittered_delays([5.0])
    assert min(offsets) >= -5.0 - 1e-6 and max(offsets) <= 5.0 + 1e-6  # bounded by ±jitter
    # Flat: each of 10 bins of the ±5 ms range holds about a tenth (binomial sd ≈ 19 of 400).
    counts = [0] * 10
    for x in offsets:
        counts[min(9, int((x + 5.0) // 1.0))] += 1
    assert all(300 < c < 500 for c in counts), counts
    # Two links: per-link uniforms added (a triangle on ±10 ms), not one draw of combined variance.
    two = _jittered_delays([5.0, 5.0])
    assert min(two) >= -10.0 - 1e-6 and max(two) <= 10.0 + 1e-6
    assert sum(abs(x) < 5.0 for x in two) / len(two) == pytest.approx(0.75, abs=0.03)
    assert _jittered_delays([5.0, 5.0]) == two  # same seed, same numbers


def test_jitter_schema_says_uniform() -> None:
    from wanstack.scenario.infrastructure import BackboneLink

    description = BackboneLink.model_fields["jitter_ms"].description or ""
    assert "uniform" in description and "standard deviation" not in description


@pytest.mark.parametrize(
    ("extra", "backend"),
    [
        ("model: centralized-router-mesh\n", "router-mesh"),  # NATS servers per site in the bench
        ("messaging: {rpc: broker-cluster, broker_nodes: [hub, e1]}\n", "broker-cluster"),
        ("", "broker"),
    ],
)
def test_bench_result_reports_the_real_rpc_backend(extra: str, backend: str) -> None:
    """The bench's (and `bench --simulate`'s) RunResult said `rpc_backend: broker` whatever ran."""
    from wanstack.results.cases import CasesTally

    infra = parse(SMALL.replace("RATE", "1gbit") + extra, "s.yaml")
    result = CasesTally().result("bench", infra, 0.0, 1)
    assert result.rpc_backend == backend
    assert result.notification_backend == "broker"


def _sim_result(model: str) -> RunResult:
    from wanstack.results.schema import OperationResult
    from wanstack.results.stats import latency_stats

    boot = OperationResult(
        op="boot", submitted=2, succeeded=2, failed=0, timed_out=0, latency_ms=latency_stats([100.0, 120.0])
    )
    return RunResult(
        engine="sim",
        scenario="t",
        model=model,
        rpc_backend="broker",
        notification_backend="broker",
        seed=0,
        duration_s=1.0,
        operations=[boot],
    )


def test_compare_results_columns_tell_two_simulator_runs_apart(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two simulator runs were both headed `sim p50`, `sim p95`, ...: which column was which?"""
    import wanstack.cli.simulate

    paths = []
    for folder, model in (("centralized-run", "centralized"), ("cells-run", "cells-shared")):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "result.json"
        path.write_text(_sim_result(model).model_dump_json(), encoding="utf-8")
        paths.append(str(path))
    wide = Console(width=1000, record=True)
    monkeypatch.setattr(wanstack.cli.simulate, "console", wide)
    result = runner.invoke(app, ["compare-results", *paths])
    assert result.exit_code == 0, result.output
    rows = [line.split("┃")[1:-1] for line in wide.export_text().splitlines() if line.startswith("┃")]
    headers = [" ".join(cell.strip() for cell in column) for column in zip(*rows, strict=True)]
    p50 = [h for h in headers if "p50" in h]
    assert len(p50) == 2 and p50[0] != p50[1], headers
    assert "centralized-run" in p50[0] and "cells-run" in p50[1]


def _command_paths() -> list[list[str]]:
    """Every command and subcommand of `wanstack`, as the arguments that reach it."""
    import typer

    def walk(command: object, path: list[str]) -> list[list[str]]:
        subcommands: dict[str, object] = getattr(command, "commands", {})
        return [path] + [p for name, sub in subcommands.items() for p in walk(sub, [*path, name])]

    return walk(typer.main.get_command(app), [])


def _help(runner: CliRunner, monkeypatch: pytest.MonkeyPatch, path: list[str], width: int) -> list[str]:
    import typer.rich_utils

    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", width)
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    return [line.rstrip() for line in result.output.splitlines()]


def _first_paragraph(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Usage:")) + 2
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    return [line.strip() for line in lines[start:end]]


@pytest.mark.parametrize("width", [60, 1000])
def test_help_texts_are_whole_sentences(
    width: int, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command's --help opens with whole sentences, and every group's list of commands gives each
    one its first paragraph rewrapped: docstring line breaks used to cut it mid-sentence."""
    for path in _command_paths():
        lines = _help(runner, monkeypatch, path, width)
        first = _first_paragraph(lines)
        assert " ".join(first).endswith((".", ")")), (path, first)
        if width == 1000:
            assert len(first) == 1, (path, first)  # wide enough: never broken
        if "╭─ Commands" not in "\n".join(lines) or width != 1000:
            continue
        panel = lines[next(i for i, line in enumerate(lines) if "╭─ Commands" in line) + 1 :]
        rows = [
            line.strip("│ ") for line in panel[: next(i for i, x in enumerate(panel) if x.startswith("╰"))]
        ]
        for row in rows:  # one line per command at this width, and a whole sentence
            name, _, text = row.partition(" ")
            assert name and text.strip().endswith((".", ")")), (path, row)


def test_bench_help_mentions_notifications_and_nats(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = " ".join(_help(runner, monkeypatch, ["bench"], 1000))
    assert "notification" in text and "NATS" in text


def test_models_yaml_round_trips_and_cites_only_public_sources(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`models --yaml NAME` went through rich, which rewrapped it to the terminal (invalid YAML in 60
    columns), printed descriptions quoted and folded, and cited "shared domain notes" (files users do
    not have)."""
    import yaml

    import wanstack.cli.scenario
    from wanstack.scenario.deployment import library

    monkeypatch.setattr(wanstack.cli.scenario, "console", Console(width=60))  # a narrow terminal
    for name, model in library().items():
        result = runner.invoke(app, ["models", "--yaml", name])
        assert result.exit_code == 0, result.output
        assert yaml.safe_load(result.output) == model.model_dump(mode="json"), name
        for private in ("domain notes", "domain-notes", "../shared"):
            assert private not in result.output, (name, private)
        assert "description: |" in result.output  # multi-line text as a block, readable


STAGED = """\
name: t
regions:
  - {name: r1, sites: [hub, nowhere]}
  - {name: r2, sites: '*'}
sites:
  - name: hub
    tier: central
  - name: e1
    tier: edge
links:
  - {a: hub, b: e9, delay_ms: 10}
  - {a: hub, b: e1, delay_ms: 10}
workload:
  operations:
    - {op: boot, rate_per_s: 1, image: nonesuch}
"""


def test_validate_reports_every_problem_at_once_in_line_order() -> None:
    """A link to an unknown site stopped the checks: the unknown region member (line 3) and image
    (line 15) only showed after fixing line 11, and problems came in the checks' order."""
    out = _problems(STAGED)
    lines = [int(p.split(":")[1]) for p in out]
    assert lines == sorted(lines)
    assert [line for line in lines if line in (3, 11, 15)] == [3, 11, 15], out


WRONG_AND_CROSSED = """\
name: bad
sites:
  - {name: a, tier: central, hosts: {count: 2}}
  - {name: b, tier: edge, hosts: {count: 2}}
links:
  - {a: a, b: b, bandwidth_mbps: 100Mbps}
  - {a: a, b: c}
workload:
  operations:
    - {op: boot, times: 3, sites: [zz]}
"""


def test_validate_reports_structure_and_cross_object_problems_together() -> None:
    """A wrongly written value (line 6) hid every check across objects: the unknown link end (line 7)
    and the unknown site (line 10) only showed once it was fixed. The value is left out (its default
    applies) for those checks, and a problem it would cause is not reported."""
    out = _problems(WRONG_AND_CROSSED)
    assert [int(p.split(":")[1]) for p in out] == [6, 7, 10], out


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["run", "defualt"], "did you mean 'default'?"),
        (["validate", "edge-metr"], "did you mean 'edge-metro'?"),
        (["compare", "--models", "centralised"], "did you mean 'centralized'?"),
        (["models", "--yaml", "cels-shared"], "did you mean 'cells-shared'?"),
    ],
)
def test_misspelt_model_and_scenario_names_get_a_suggestion(
    args: list[str], suggestion: str, runner: CliRunner
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert suggestion in result.output, result.output


def test_misspelt_model_in_a_scenario_gets_a_suggestion() -> None:
    out = _problems(SMALL.replace("RATE", "1gbit") + "model: region-per-sites\n")
    assert len(out) == 1 and "did you mean 'region-per-site'?" in out[0], out


def test_version_option_prints_the_version(runner: CliRunner) -> None:
    import wanstack

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wanstack {wanstack.__version__}"


def test_bench_calibration_without_simulate_is_an_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was silently ignored: the real bench ran with no calibration to apply."""
    import wanstack.cli.real

    def no_broker(*_: object) -> None:
        raise AssertionError("the real bench was about to start RabbitMQ")

    monkeypatch.setattr(wanstack.cli.real, "need_rabbitmq", no_broker)  # never start a broker here
    calibration = Path(__file__).parent / "fixtures" / "calibration.yaml"
    result = runner.invoke(app, ["bench", "default", "--calibration", str(calibration)])
    assert result.exit_code == 2
    assert "--simulate" in result.output


def test_migrate_evacuate_works_on_the_default_scenario_without_site(runner: CliRunner) -> None:
    """Its default --site (edge-part-dieu) exists only in edge-metro: `migrate evacuate default` failed."""
    args = ["migrate", "evacuate", "default", "--solver", "greedy", "--no-simulate", "--vms-per-host", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def test_schema_uses_standard_json_schema_range_keywords(runner: CliRunner) -> None:
    """pydantic's `ge`/`gt` of before-validated quantities leaked into the schema; editors ignore them."""
    import json

    result = runner.invoke(app, ["schema"])
    document = json.loads(result.output)

    def keys(node: object) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for v in node.values() for k in keys(v)}
        return {k for v in node for k in keys(v)} if isinstance(node, list) else set()

    assert not keys(document) & {"ge", "gt", "le", "lt"}
    link = document["$defs"]["BackboneLink"]["properties"]
    delay = json.dumps(link["delay_ms"])
    assert '"minimum": 0' in delay
    assert '"exclusiveMinimum": 0' in json.dumps(link["bandwidth_mbps"])


def test_load_option_shows_site_equals_load(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    text = " ".join(_help(runner, monkeypatch, ["migrate", "advise"], 1000))
    assert "SITE=LOAD" in text and "list[str]" not in text


def test_replay_with_every_operation_failed_says_none_succeeded(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It printed `0.0 ms` for p50, p95 and mean (and exit 0) when no replay succeeded."""
    from types import SimpleNamespace

    import wanstack.bench.replay
    import wanstack.cli.real

    class AllFail:
        def __init__(self, *args: object) -> None:
            pass

        def __enter__(self) -> AllFail:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def run(self, times: int, progress: object = None) -> SimpleNamespace:
            return SimpleNamespace(latencies_ms=[], failures=times)

    monkeypatch.setattr(wanstack.cli.real, "need_rabbitmq", lambda *_: None)  # nothing real starts: AllFail
    monkeypatch.setattr(wanstack.bench.replay, "Replay", AllFail)
    monkeypatch.setattr(wanstack.bench.replay, "simulated", lambda *a, **k: [100.0, 120.0])
    result = runner.invoke(app, ["replay", "boot", "default", "--times", "3"])
    assert result.exit_code == 1, result.output
    assert not re.search(r"(?<![\d.])0\.0 ms", result.output), result.output
    assert "none of the 3 replays succeeded" in result.output


def test_migrate_advise_never_prints_nan(runner: CliRunner) -> None:
    """With no allowed destination (here: users tolerate 0.1 ms), the median best score was `+nan`."""
    args = [
        "migrate",
        "advise",
        "default",
        "--site",
        "edge-01",
        "--max-users-rtt",
        "0.1",
        "--vms-per-host",
        "1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "nan" not in result.output.lower()
    assert "n/a" in result.output


def test_counts_are_pluralised_properly(runner: CliRunner, tmp_path: Path) -> None:
    """`validate` said "1 regions" (and "1 links", "1 problem(s)")."""
    good = tmp_path / "one.yaml"
    good.write_text(SMALL.replace("RATE", "1gbit"), encoding="utf-8")
    out = runner.invoke(app, ["validate", str(good)]).output
    assert "2 sites, 1 link, 1 region," in out, out
    shown = runner.invoke(app, ["show", str(good)]).output
    assert "1 backbone link," in shown and "1 region" in shown and "1 regions" not in shown, shown
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("RATE", "100Mbps"), encoding="utf-8")
    assert "1 problem;" in runner.invoke(app, ["validate", str(bad)]).output
