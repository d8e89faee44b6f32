"""The coordinator's Kingbird API driven by Kingbird's own client, `python-kingbirdclient` 0.2.1 (PyPI,
2018; `kingbirdclient/api/v1/quota_manager.py`): quota set, show, detail, sync and delete, logged in at a
real Keystone as the client logs in (its `authenticate`: a keystoneauth session from a user name and
password, the Kingbird URL given), against a coordinator and two regions' services as processes
(`QuotaSites`), the usage in `detail` coming from claims made at a region.

What the client expects of the server, read from its code: every call answered 200 (`_update`,
`_delete`, `_sync` raise `APIException` on anything else, 201 and 204 included), `GET …/{target}` as
`{"quota_set": {name: limit}}`, `PUT` as `{target: {name: limit}}`, and `detail` as `{"quota_set":
{"limits": {...}, "usage": {...}}}` with a limit for every resource in `usage` (Kingbird's engine,
`quota_manager.py` get_total_usage_for_tenant). Its command line (`kingbird quota …`) does not start on
Python 3.11 with its declared dependencies: `kingbirdclient/openstack/common/gettextutils.py` imports
`babel`, which its requirements.txt does not list — so the Python API is what is driven here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from wanstack.lab.keystone import KeystoneServer, available
from wanstack.lab.openstack_env import ADMIN_PASSWORD
from wanstack.quotabench.sites import MEMBER, MEMBER_PASSWORD, PROJECT, Cloud, QuotaSites, call, prepare

kingbird = pytest.importorskip("kingbirdclient.api.client")
kingbird_exceptions = pytest.importorskip("kingbirdclient.exceptions")

pytestmark = [
    pytest.mark.skipif(not available(), reason="OpenStack's environment is not installed"),
    pytest.mark.slow,
]
REGIONS = ["edge-1", "edge-2"]
SERVER = {"instances": 1, "cores": 2, "ram_mb": 512}


@pytest.fixture(scope="module")
def keystone() -> Iterator[KeystoneServer]:
    with KeystoneServer() as server:
        yield server


def _client(keystone: KeystoneServer, sites: QuotaSites, user: str, password: str, project: str) -> Any:
    """Kingbird's client as its shell makes it: a user's password at Keystone, the Kingbird URL given."""
    return kingbird.client(
        kingbird_url=f"{sites.urls['coordinator']}/v1.0",
        username=user,
        api_key=password,
        project_name=project,
        auth_url=f"{keystone.url}/v3",
        user_domain_name="Default",
        project_domain_name="Default",
    )


def _limits(quotas: list[Any]) -> dict[str, int]:
    """The client's Quota objects as {name: limit} (what its `kb quota show` prints: `_data`, `_Limit`)."""
    return {q._data: q._Limit for q in quotas}


def _until(what: Any, timeout_s: float = 60.0) -> None:
    """Wait for `what()` to hold: a guard against a hang, not a figure."""
    deadline = time.monotonic() + timeout_s
    while not what():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_kingbirds_own_client_sets_shows_details_syncs_and_deletes(keystone: KeystoneServer) -> None:
    cloud: Cloud = prepare(keystone, REGIONS)
    with QuotaSites(keystone, REGIONS, rebalance_s=0.5) as sites:
        admin = _client(keystone, sites, "admin", ADMIN_PASSWORD, "admin")
        member = _client(keystone, sites, MEMBER, MEMBER_PASSWORD, PROJECT)
        quotas = admin.quota_manager

        # set (`kingbird quota update`): PUT /v1.0/{admin project}/os-quota-sets/{target}
        updated = quotas.update_global_limits(cloud.project_id, instances=6, cores=12, ram=4096)
        assert _limits(updated) == {"instances": 6, "cores": 12, "ram": 4096}
        # show (`kingbird quota show`): the administrator any project, a member its own
        assert _limits(quotas.global_limits(cloud.project_id)) == {"instances": 6, "cores": 12, "ram": 4096}
        assert _limits(member.quota_manager.global_limits()) == {"instances": 6, "cores": 12, "ram": 4096}
        # A member sets nothing, and reads no other project's limits (Kingbird: 403 "Admin required").
        with pytest.raises(kingbird_exceptions.APIException) as refused:
            member.quota_manager.update_global_limits(cloud.project_id, instances=100)
        assert refused.value.error_code == 403
        with pytest.raises(kingbird_exceptions.APIException) as refused:
            member.quota_manager.global_limits(admin.http_client.project_id)
        assert refused.value.error_code == 403
        # Out of Kingbird's bounds (a whole number above 0): 400, not a 5xx.
        with pytest.raises(kingbird_exceptions.APIException) as refused:
            quotas.update_global_limits(cloud.project_id, instances=0)
        assert refused.value.error_code == 400

        # Three servers claimed at edge-1 once it holds a share: detail (`kingbird quota detail`) gives
        # the limits and the usage summed over the regions, as their syncs reported it.
        def claim() -> int:
            body = {"project": cloud.project_id, "resources": SERVER}
            return call(sites.urls["edge-1"], "POST", "/v1/claims", cloud.member_token, body).status

        _until(lambda: claim() == 201)
        assert [claim() for _ in range(2)] == [201, 201]

        def detail() -> dict[str, tuple[int, int]]:
            return {q._data: (q._Limit, q._Usage) for q in quotas.quota_detail(cloud.project_id)}

        _until(lambda: detail().get("instances") == (6, 3))
        assert detail() == {"instances": (6, 3), "cores": (12, 6), "ram": (4096, 1536)}
        assert {q._data: q._Usage for q in member.quota_manager.quota_detail()}["instances"] == 3

        # sync (`kingbird quota sync`): 200, the regions rebalance at their next sync; a member may not.
        assert quotas.sync_quota(cloud.project_id) is None
        with pytest.raises(kingbird_exceptions.APIException) as refused:
            member.quota_manager.sync_quota(cloud.project_id)
        assert refused.value.error_code == 403

        # Deleting some limits is curl-only in Kingbird (`kingbird/api/controllers/v1/README.rst`, DELETE
        # 2.): the documented request, with the client's own token.
        gone = requests.delete(
            f"{sites.urls['coordinator']}/v1.0/{admin.http_client.project_id}/os-quota-sets/{cloud.project_id}",
            json={"quota_set": ["cores"]},
            headers={"X-Auth-Token": admin.http_client.token},
            timeout=30,
        )
        assert (gone.status_code, gone.json()) == (200, {"Deleted quota limits": ["cores"]})
        assert _limits(quotas.global_limits(cloud.project_id)) == {"instances": 6, "ram": 4096}

        # delete (`kingbird quota delete`): every limit of the project gone; a member may not.
        with pytest.raises(kingbird_exceptions.APIException) as refused:
            member.quota_manager.delete_quota(cloud.project_id)
        assert refused.value.error_code == 403
        assert quotas.delete_quota(cloud.project_id) is None
        assert _limits(quotas.global_limits(cloud.project_id)) == {}
