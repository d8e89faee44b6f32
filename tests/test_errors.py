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


# Issue 37 item 5: every problem in one pass, with hints that say what to do.

FOUR = (
    GOOD
    + """\
  - {a: hub, b: e9, delay_ms: 5}
faults:
  - {at_s: -5, action: site-down, site: hub}
  - {at_s: 10, action: site-down, site: nowhere}
  - {at_s: 20, action: cut-link, link: [hub, e7]}
placement:
  glance-api: [hubb]
"""
)


def test_a_wrong_required_value_does_not_hide_the_checks_across_objects() -> None:
    """A negative fault time (a required field) used to stop every check across objects: the unknown
    sites of the next faults, links and placement only showed up once it was fixed."""
    out = problems(FOUR)
    assert [line.split(": ")[0] for line in out] == [
        "s.yaml:9:17",
        "s.yaml:11:12",
        "s.yaml:12:41",
        "s.yaml:13:46",
        "s.yaml:15:16",
    ], out
    assert "faults[0].at_s" in out[1] and "greater than or equal to 0" in out[1]
    assert "links[1].b: link end 'e9' is not a site" in out[0]
    assert "faults[1].site: site 'nowhere' is not a site" in out[2]  # faults[1], not [0]: its own index
    assert "faults[2].link[1]: site 'e7' is not a site" in out[3]
    assert "placement.glance-api[0]: site 'hubb' is not a site" in out[4] and "did you mean 'hub'?" in out[4]
    assert all("(hint: " in line for line in out)


def test_checks_that_depend_on_a_wrong_object_are_left_out_and_the_others_run() -> None:
    """A site with a wrong tier is left out of the checks across objects: a link to it is not reported
    as a link to an unknown site, nor are sites cut off without it; a fault on an unknown site is."""
    text = (
        GOOD.replace("tier: edge", "tier: edgy")
        + "  - {a: e1, b: e2, delay_ms: 3}\n"
        + "faults:\n  - {at_s: 5, action: site-down, site: nowhere}\n"
    ).replace("links:", "  - {name: e2, tier: edge}\nlinks:")
    out = problems(text)
    assert len(out) == 2, out
    assert out[0].startswith("s.yaml:6:11: sites[1].tier:")
    assert out[1].startswith("s.yaml:12:") and "'nowhere' is not a site" in out[1]


def test_a_wrong_link_leaves_out_the_reachability_check_only() -> None:
    text = GOOD.replace("{a: hub, b: e1, delay_ms: 10}", "{a: hub, b: [e1], delay_ms: 10}")
    out = problems(text + "faults:\n  - {at_s: 5, action: site-down, site: e11}\n")
    assert len(out) == 2, out
    assert "links[0].b" in out[0]
    assert "site 'e11' is not a site" in out[1] and "did you mean 'e1'?" in out[1]


def test_a_key_written_twice_does_not_hide_the_other_problems() -> None:
    """The file is read whole despite a duplicate key (the first value kept): its other problems,
    structure and across objects, come in the same run."""
    text = GOOD.replace("name: t\n", "name: t\nname: u\n").replace("delay_ms: 10", "delay_ms: -1")
    out = problems(text + "faults:\n  - {at_s: 5, action: site-down, site: nowhere}\n")
    assert [line.split(": ")[0] for line in out] == ["s.yaml:2:1", "s.yaml:9:31", "s.yaml:11:40"], out
    assert "key 'name' is written twice" in out[0] and "'nowhere' is not a site" in out[2]


def test_a_non_finite_delay_says_so_not_use_a_larger_value() -> None:
    (out,) = problems(GOOD.replace("delay_ms: 10", "delay_ms: .nan"))
    assert out.startswith("s.yaml:8:") and "finite" in out and "larger" not in out


def test_an_unknown_sla_operation_lists_the_known_ones() -> None:
    (close,) = problems(GOOD + "sla:\n  bot: {p95_s: 5}\n")
    assert close.startswith("s.yaml:10:") and "sla.bot: unknown operation 'bot'" in close, close
    assert "did you mean 'boot'?" in close and "letters, digits" not in close
    (far,) = problems(GOOD + "sla:\n  everything: {p95_s: 5}\n")
    assert "unknown operation 'everything'" in far
    assert "boot, delete" in far and "'*'" in far


def test_yaml_merge_keys_are_read_with_their_lines() -> None:
    text = GOOD.replace(
        "  - name: e1\n    tier: edge\n",
        "  - <<: *edge\n    name: e1\n  - <<: [{tier: regional}, *edge]\n    name: e2\n",
    ).replace("sites:\n", "sites:\n  - &edge {name: base, tier: edge}\n")
    text += "  - {a: hub, b: base, delay_ms: 1}\n  - {a: hub, b: e2, delay_ms: 1}\n"
    infra = parse(text, "s.yaml")
    assert {name: site.tier.value for name, site in infra.sites.items()} == {
        "base": "edge",
        "hub": "central",
        "e1": "edge",
        "e2": "regional",  # the first merged mapping wins, as YAML 1.1 says
    }
    # A wrong value that came in through `<<` is shown where it was written (the anchor), once for
    # each site that took it.
    wrong = problems(text.replace("tier: edge}", "tier: edgy}"))
    assert [line.split(" got ")[0] for line in wrong] == [
        "s.yaml:3:30: sites[0].tier: Input should be 'central', 'regional', 'edge' or 'far-edge',",
        "s.yaml:3:30: sites[2].tier: Input should be 'central', 'regional', 'edge' or 'far-edge',",
    ]
    (bad,) = problems(GOOD.replace("    tier: edge\n", "    tier: edge\n    <<: 5\n"))
    assert bad.startswith("s.yaml:7:9: sites[1]:") and "merge key" in bad and "indentation" not in bad


def test_quota_plan_without_quotas_says_what_to_add(runner) -> None:  # type: ignore[no-untyped-def]
    """`wanstack quota plan` on its own default scenario said `no quotas: project  in the scenario`."""
    result = runner.invoke(app, ["quota", "plan"])
    assert result.exit_code == 2
    assert "project  " not in result.output and "Traceback" not in result.output
    assert "(built-in) default.yaml: quotas.projects:" in result.output, result.output
    example = result.output.split("`")[1]
    assert example.startswith("quotas:")


def test_the_quota_example_in_the_hint_is_one_quota_plan_takes(runner, write) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["quota", "plan", str(write(GOOD))])
    assert result.exit_code == 2 and "scenario.yaml: quotas.projects:" in result.output, result.output
    example = result.output.split("`")[1]
    planned = runner.invoke(app, ["quota", "plan", str(write(GOOD + example + "\n")), "--regions", "r1,r2"])
    assert planned.exit_code == 0, planned.output
    unknown = runner.invoke(app, ["quota", "plan", str(write(QUOTAS)), "--project", "dmeo"])
    assert unknown.exit_code == 2
    assert "scenario.yaml:11:5: quotas.projects: no project 'dmeo'" in unknown.output, unknown.output
    assert "did you mean 'demo'?" in unknown.output
