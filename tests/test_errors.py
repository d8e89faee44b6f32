"""Bad scenario files: each problem is reported once, located, with a hint; the CLI exits with 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from wanstack.cli import app
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import load, parse

GOOD = """\
name: t
sites:
  - name: hub
    tier: central
  - name: e1
    tier: edge
links:
  - {a: hub, b: e1, delay_ms: 10}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse(text, "s.yaml")
    return [p.render("s.yaml") for p in info.value.problems]


def test_a_good_file_loads() -> None:
    infra = parse(GOOD, "s.yaml")
    assert set(infra.sites) == {"hub", "e1"}
    assert infra.placement.top_site == "hub"


def test_negative_delay_is_located_with_line_and_column() -> None:
    out = problems(GOOD.replace("delay_ms: 10", "delay_ms: -3"))
    assert len(out) == 1
    assert out[0].startswith("s.yaml:8:")
    assert "links[0].delay_ms" in out[0]
    assert "greater than or equal to 0" in out[0]
    assert "hint:" in out[0]


def test_unknown_field_suggests_the_close_one() -> None:
    out = problems(GOOD.replace("delay_ms: 10", "delay: 10"))
    assert len(out) == 1
    assert "unknown field 'delay'" in out[0]
    assert "did you mean 'delay_ms'?" in out[0]
    assert out[0].startswith("s.yaml:8:")


def test_unknown_top_level_field() -> None:
    out = problems(GOOD + "sitez: []\n")
    assert "unknown field 'sitez'" in out[0]
    assert "did you mean 'sites'?" in out[0]
    assert out[0].startswith("s.yaml:9:")


def test_duplicate_site_names() -> None:
    out = problems(GOOD.replace("name: e1", "name: hub"))
    assert any(
        "site name 'hub' is used more than once" in line and line.startswith("s.yaml:5:") for line in out
    )


def test_duplicate_yaml_keys() -> None:
    out = problems(GOOD.replace("name: t\n", "name: t\nname: u\n"))
    assert out == ["s.yaml:2:1: name: key 'name' is written twice (hint: keep one of them)"]


def test_link_to_missing_site_names_the_close_one() -> None:
    out = problems(GOOD.replace("b: e1", "b: e2"))
    assert len(out) == 1
    assert "link end 'e2' is not a site" in out[0]
    assert "did you mean 'e1'?" in out[0]


def test_unreachable_site() -> None:
    out = problems(GOOD.replace("links:", "  - {name: lone, tier: far-edge}\nlinks:"))
    assert len(out) == 1
    assert "site 'lone' cannot reach its control site 'hub'" in out[0]
    assert out[0].startswith("s.yaml:7:5: sites[2]:")


def test_service_placed_on_missing_site() -> None:
    out = problems(GOOD + "placement:\n  glance-api: [hub, nowhere]\n")
    assert len(out) == 1
    assert out[0].startswith("s.yaml:10:21: placement.glance-api[1]:")


def test_unknown_service_name() -> None:
    out = problems(GOOD + "placement:\n  glanse-api: [hub]\n")
    assert "placement.glanse-api" in out[0]


def test_unknown_model() -> None:
    out = problems(GOOD + "model: cellz\n")
    assert "unknown deployment model 'cellz'" in out[0]
    assert out[0].startswith("s.yaml:9:")


def test_fault_on_a_link_that_does_not_exist() -> None:
    text = GOOD.replace("links:", "  - {name: e2, tier: edge}\nlinks:") + "  - {a: hub, b: e2, delay_ms: 3}\n"
    out = problems(text + "faults:\n  - {at_s: 10, action: cut-link, link: [e1, e2]}\n")
    assert len(out) == 1 and "no backbone link between 'e1' and 'e2'" in out[0]


def test_fault_with_wrong_target() -> None:
    out = problems(GOOD + "faults:\n  - {at_s: 10, action: cut-link, site: hub}\n")
    assert "cut-link needs `link: [a, b]`" in out[0]


def test_operation_needs_one_count() -> None:
    out = problems(GOOD + "workload:\n  operations:\n    - {op: boot}\n")
    assert "exactly one of `times`" in out[0]
    assert out[0].startswith("s.yaml:11:")


def test_link_without_delay_or_location() -> None:
    out = problems(GOOD.replace(", delay_ms: 10", ""))
    assert "has no delay_ms and site 'hub' has no location" in out[0]


def test_yaml_syntax_error_is_located() -> None:
    out = problems("sites:\n  - name: a\n   tier: central\n")
    assert len(out) == 1
    assert out[0].startswith("s.yaml:3:")
    assert "YAML syntax" in out[0]


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("delay_ms: 10", "delay_ms: -1").replace("tier: edge", "tier: edgy")
    assert len(problems(text)) == 2


def test_missing_file_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load(bad)


def test_cli_exits_2_without_traceback(runner, write) -> None:  # type: ignore[no-untyped-def]
    path = write(GOOD.replace("delay_ms: 10", "delay_ms: -3"))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}:8:" in result.output


def test_cli_validate_ok(runner, write) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["validate", str(write(GOOD))])
    assert result.exit_code == 0, result.output
    assert "2 sites" in result.output


QUOTAS = (
    GOOD
    + """\
quotas:
  projects:
    - name: demo
      limits: {instances: 40, cores: 80}
      mode: lease
      lease: {term_s: 2m, skew_s: 500ms}
"""
)


def test_a_quotas_section_loads() -> None:
    (project,) = parse(QUOTAS, "s.yaml").scenario.quotas.projects
    assert project.limits.items() == [("instances", 40), ("cores", 80)]
    assert project.lease.term_s == 120.0 and project.lease.skew_s == 0.5


def test_an_unknown_quota_mode_is_located_and_a_project_needs_a_limit() -> None:
    (bad_mode,) = problems(QUOTAS.replace("mode: lease", "mode: escrowed"))
    assert bad_mode.startswith("s.yaml:13:") and "escrow" in bad_mode
    (no_limit,) = problems(QUOTAS.replace("{instances: 40, cores: 80}", "{}"))
    assert "sets no limit" in no_limit


def test_a_claim_needs_a_project_with_a_limit_and_hold_s_is_for_claims() -> None:
    claims = "workload:\n  operations:\n    - {op: claim, rate_per_s: 2, hold_s: 5, project: demo}\n"
    assert parse(QUOTAS + claims, "s.yaml").scenario.workload.operations[0].hold_s == 5.0
    (unknown,) = problems(QUOTAS + claims.replace("project: demo", "project: dmeo"))
    assert "s.yaml:17:" in unknown and "'dmeo' is not under quotas.projects" in unknown and "demo" in unknown
    (no_quotas,) = problems(GOOD + claims.replace(", project: demo", ""))
    assert "a claim needs a limit" in no_quotas and "quotas:" in no_quotas
    (boot_hold,) = problems(QUOTAS + claims.replace("op: claim", "op: boot"))
    assert "`hold_s` is for `op: claim`" in boot_hold
