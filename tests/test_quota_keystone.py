"""A global limit written as Keystone unified limits, round-tripped against a real Keystone
(OpenStack's environment from `make openstack`, on SQLite)."""

from __future__ import annotations

from typing import Any

import pytest

from wanstack.lab.keystone import KeystoneServer, available
from wanstack.multiregion.limits import apply, plan, read
from wanstack.scenario.quotas import ProjectQuota

needs_keystone = pytest.mark.skipif(not available(), reason="OpenStack's environment is not installed")


@pytest.fixture(scope="module")
def keystone() -> Any:
    with KeystoneServer() as server:
        yield server


@needs_keystone
def test_a_global_limit_round_trips_as_region_limits(keystone: KeystoneServer) -> None:
    conn: Any = keystone.connect()
    conn.identity.create_region(id="RegionTwo")
    service = conn.identity.create_service(name="nova", type="compute")
    project = conn.identity.create_project(name="demo", domain_id="default")
    regions = ["RegionOne", "RegionTwo"]
    quota = ProjectQuota.model_validate({"name": "demo", "limits": {"instances": 10, "cores": 20}})

    first = plan(quota, regions)
    apply(conn, project.id, service.id, first)
    assert read(conn, project.id, service.id) == {
        ("RegionOne", "instances"): 5,
        ("RegionTwo", "instances"): 5,
        ("RegionOne", "cores"): 10,
        ("RegionTwo", "cores"): 10,
    }
    # Usage moved: RegionOne runs 4 servers (8 cores), RegionTwo none; the headroom is shared anew.
    again = plan(quota, regions, {("RegionOne", "instances"): 4, ("RegionOne", "cores"): 8})
    changes = apply(conn, project.id, service.id, again)
    got = read(conn, project.id, service.id)
    assert (got["RegionOne", "instances"], got["RegionTwo", "instances"]) == (7, 3)
    assert (got["RegionOne", "cores"], got["RegionTwo", "cores"]) == (14, 6)
    assert "servers in RegionOne: 5 -> 7" in changes, changes
    # Keystone drops an update to 0 (the PATCH skips a falsy value): apply deletes and creates instead.
    limit = next(x for x in conn.identity.limits(project_id=project.id) if x.region_id == "RegionTwo")
    conn.identity.update_limit(limit, resource_limit=0)
    kept = next(x for x in conn.identity.limits(project_id=project.id) if x.id == limit.id)
    assert int(kept.resource_limit) == int(limit.resource_limit) != 0
    tight = ProjectQuota.model_validate({"name": "demo", "limits": {"instances": 1, "cores": 20}})
    apply(conn, project.id, service.id, plan(tight, regions))
    got = read(conn, project.id, service.id)
    assert (got["RegionOne", "instances"], got["RegionTwo", "instances"]) == (1, 0)


QUOTAS = """
generate: {kind: star, edges: 1, delay_ms: 10}
quotas:
  projects: [{name: shop, limits: {instances: 9}}]
"""


@needs_keystone
def test_quota_plan_and_apply_from_the_command_line(
    keystone: KeystoneServer, tmp_path, runner, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from wanstack.cli import app
    from wanstack.lab.openstack_env import ADMIN_PASSWORD

    conn: Any = keystone.connect()
    if not list(conn.identity.services(type="compute")):
        conn.identity.create_service(name="nova", type="compute")
    if conn.identity.find_region("RegionTwo") is None:
        conn.identity.create_region(id="RegionTwo")
    conn.identity.create_project(name="shop", domain_id="default")
    scenario = tmp_path / "q.yaml"
    scenario.write_text(QUOTAS)
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  here:\n    auth:\n"
        f"      auth_url: {keystone.url}/v3\n      username: admin\n      password: {ADMIN_PASSWORD}\n"
        "      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n"
        "    region_name: RegionOne\n"
    )
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    shown = runner.invoke(app, ["quota", "plan", str(scenario), "--regions", "RegionOne,RegionTwo"])
    assert shown.exit_code == 0 and "servers" in shown.output, shown.output
    done = runner.invoke(
        app, ["quota", "apply", str(scenario), "--cloud", "here", "--regions", "RegionOne,RegionTwo"]
    )
    assert done.exit_code == 0, done.output
    assert (
        "servers in RegionOne: none -> 5" in done.output and "servers in RegionTwo: none -> 4" in done.output
    )
    again = runner.invoke(
        app, ["quota", "apply", str(scenario), "--cloud", "here", "--regions", "RegionOne,RegionTwo"]
    )
    assert "nothing to change" in again.output
    missing = runner.invoke(app, ["quota", "plan", str(scenario), "--project", "bank"])
    assert missing.exit_code == 2 and "shop" in missing.output
