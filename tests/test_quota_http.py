"""The quota service's HTTP face as an attacker and a careless operator see it (issue 36): the coordinator
and regions served by their real server in this process, on SQLite in a temporary folder, each token
mapped to its caller by a table (what Keystone would answer; `tests/test_quota_service.py` checks real
Keystone tokens). Raw sockets where a client library would refuse to send what is sent."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wanstack.multiregion.service.coordinator import Coordinator
from wanstack.multiregion.service.http import Caller, HttpError, Server
from wanstack.multiregion.service.region import RegionService
from wanstack.multiregion.service.rules import Policy
from wanstack.multiregion.service.store import CoordinatorStore, RegionStore
from wanstack.quotabench.sites import call

A, B = "project-a", "project-b"
CALLERS = {
    "admin": Caller("admin-project", frozenset({"admin"}), "admin", "u-admin", "Default"),
    "member-a": Caller(A, frozenset({"member"}), "alice", "u-alice", "Default"),
    "member-b": Caller(B, frozenset({"member"}), "bob", "u-bob", "Default"),
    "edge-1": Caller("service", frozenset({"service"}), "quota-edge-1", "u-e1", "Default"),
    "edge-2": Caller("service", frozenset({"service"}), "quota-edge-2", "u-e2", "Default"),
}


def authenticate(headers: dict[str, str]) -> Caller:
    token = headers.get("x-auth-token", "")
    if token not in CALLERS:
        raise HttpError(401, "the token is not valid")
    return CALLERS[token]


@dataclass
class Stack:
    coordinator: str
    regions: dict[str, str]
    services: dict[str, RegionService]
    books: Coordinator


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """A coordinator over edge-1 and edge-2 with tokens checked; the regions' services (not syncing by
    themselves: the tests sync them) with tokens checked too."""
    policy = Policy(rebalance_s=0.2)
    coordinator = Coordinator(
        CoordinatorStore(f"sqlite:///{tmp_path / 'c.db'}", ["edge-1", "edge-2"]), policy
    )
    servers = [Server(coordinator.app(authenticate), "127.0.0.1", 0, timeout_s=2).start()]
    regions, services = {}, {}
    for name in ("edge-1", "edge-2"):
        service = RegionService(
            name, RegionStore(f"sqlite:///{tmp_path / name}.db"), servers[0].url, None, 0.2
        )
        services[name] = service
        servers.append(Server(service.app(authenticate), "127.0.0.1", 0, timeout_s=2).start())
        regions[name] = servers[-1].url
    try:
        yield Stack(servers[0].url, regions, services, coordinator)
    finally:
        _stop(servers)


def _stop(servers: list[Server]) -> None:
    """Every server stopped, at once (each takes up to a second)."""
    threads = [threading.Thread(target=s.stop) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _sync(stack: Stack, region: str, token: str | None = None, **body: object) -> tuple[int, str]:
    """A region's sync sent by hand: its store's report, as `token`'s caller (the region's own user)."""
    sync_no, rows, _ = stack.services[region].store.report()
    payload = {"region": region, "sync_no": sync_no, "rows": rows, **body}
    got = call(stack.coordinator, "POST", "/v1/sync", token or region, payload)
    return got.status, got.error


def _limit(stack: Stack, **limits: int) -> None:
    base = f"/v1.0/admin-project/os-quota-sets/{A}"
    assert call(stack.coordinator, "PUT", base, "admin", {"quota_set": limits}).status == 200


def _raw(url: str, request: bytes, timeout_s: float = 15.0) -> tuple[str, float]:
    """The status line a raw request gets ('' when the connection is closed without one), and how long."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout_s) as sock:
        sock.sendall(request)
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
    return answer.split(b"\r\n", 1)[0].decode(), time.monotonic() - started


# --- bounded values, no 5xx ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resources",
    [{"ram_mb": 2**62}, {"ram_mb": 2**64}, {"instances": True}, {}, {"instances": 0}, {"cores": 1.5}],
    ids=["2^62", "2^64", "true", "empty", "zero", "float"],
)
def test_a_claim_out_of_bounds_is_refused_with_400(stack: Stack, resources: dict[str, object]) -> None:
    got = call(
        stack.regions["edge-1"], "POST", "/v1/claims", "member-a", {"project": A, "resources": resources}
    )
    assert got.status == 400, got
    assert got.error


@pytest.mark.parametrize("limit", [10**30, 2**31, 0, -1, True, "8"])
def test_a_limit_out_of_bounds_is_refused_with_400(stack: Stack, limit: object) -> None:
    base = f"/v1.0/admin-project/os-quota-sets/{A}"
    got = call(stack.coordinator, "PUT", base, "admin", {"quota_set": {"ram": limit}})
    assert got.status == 400, got


@pytest.mark.parametrize(
    "body",
    [
        {"sync_no": "abc"},
        {"rows": [{}]},
        {"sync_no": 2**64},
        {"rows": [{"project": A, "resource": "instances", "share": 2**63, "used": 0, "applied_seq": 0}]},
        {"rows": [{"project": A, "resource": "instances", "share": None, "used": -1, "applied_seq": 0}]},
        {"rows": "all"},
    ],
    ids=["sync_no-abc", "empty-row", "sync_no-2^64", "share-2^63", "used-negative", "rows-string"],
)
def test_a_malformed_sync_is_refused_with_400(stack: Stack, body: dict[str, object]) -> None:
    assert _sync(stack, "edge-1", **body)[0] == 400


def test_the_poison_pill_no_longer_stops_every_sync(stack: Stack) -> None:
    """Issue 36: two claims of 2^62 MB while RAM had no limit, then a limit of 8192: every sync of the region
    failed with 500 (OverflowError), for all projects. Now the claims are refused, and a region using more
    than a new limit keeps syncing: it is lowered to what it uses, and refused until it is under."""
    edge = stack.regions["edge-1"]
    _apply(stack)
    body = {"project": A, "resources": {"ram_mb": 2**62}}
    assert [call(edge, "POST", "/v1/claims", "member-a", body).status for _ in range(2)] == [400, 400]
    big = [call(edge, "POST", "/v1/claims", "member-a", {"project": A, "resources": {"ram_mb": 2**31 - 1}})]
    assert big[0].status == 201, big
    _limit(stack, ram=8192)  # far below what edge-1 uses: accepted, as Kingbird does
    for _ in range(3):
        _apply(stack)
    assert (
        call(edge, "POST", "/v1/claims", "member-a", {"project": A, "resources": {"ram_mb": 1}}).status == 403
    )
    assert call(edge, "DELETE", f"/v1/claims/{big[0].id}", "member-a").status == 204
    for _ in range(3):  # nothing stuck: the headroom comes back to the regions
        _apply(stack)
    assert (
        call(edge, "POST", "/v1/claims", "member-a", {"project": A, "resources": {"ram_mb": 512}}).status
        == 201
    )


def _apply(stack: Stack) -> None:
    """A round of syncs: each region's report sent as its own user, the answer applied as its service
    does (`RegionService.sync`)."""
    for name, service in stack.services.items():
        sync_no, rows, claimed = service.store.report()
        sent_at = time.monotonic()
        answer = _post_json(
            stack.coordinator, "/v1/sync", name, {"region": name, "sync_no": sync_no, "rows": rows}
        )
        service.store.apply(answer["rows"], sent_at=sent_at, used_at_send=claimed, term_s=None)  # type: ignore[arg-type]
        service.store.set_accepted(True)


def _post_json(url: str, path: str, token: str, body: object) -> dict[str, object]:
    import http.client

    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(
            "POST", path, json.dumps(body), {"X-Auth-Token": token, "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        payload: dict[str, object] = json.loads(response.read())
        assert response.status == 200, payload
        return payload
    finally:
        conn.close()


def test_a_member_cannot_read_another_projects_quotas(stack: Stack) -> None:
    _limit(stack, instances=10)
    for path in (f"/v1.0/{B}/os-quota-sets/{A}", f"/v1.0/{B}/os-quota-sets/{A}/detail"):
        assert call(stack.coordinator, "GET", path, "member-b").status == 403, path
    for path in (f"/v1.0/{A}/os-quota-sets/{A}", f"/v1.0/{A}/os-quota-sets/{A}/detail"):
        assert call(stack.coordinator, "GET", path, "member-a").status == 200, path
    assert call(stack.coordinator, "GET", f"/v1.0/{A}/os-quota-sets/{B}", "member-b").status == 403
    assert call(stack.coordinator, "GET", f"/v1.0/admin-project/os-quota-sets/{A}", "admin").status == 200


# --- the token before the body, size caps ----------------------------------------------------------------


def test_a_large_body_without_a_token_is_refused_before_it_is_read(stack: Stack) -> None:
    body = b"[" + b"1," * (3 * 1024 * 1024) + b"1]"  # 6 MB of integers
    head = f"POST /v1/claims HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    status, took = _raw(stack.regions["edge-1"], head)  # the headers alone: the body never sent
    assert status.startswith("HTTP/1.1 401"), status
    assert took < 2.0
    # With a member's token: too large for a claim (413), from its Content-Length, without reading it.
    head = head.replace(b"Host: x", b"Host: x\r\nX-Auth-Token: member-a")
    status, _ = _raw(stack.regions["edge-1"], head)
    assert status.startswith("HTTP/1.1 413"), status
    # Past the server's own cap: 413 from the server itself.
    huge = b"POST /v1/claims HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n"
    assert _raw(stack.regions["edge-1"], huge)[0].startswith("HTTP/1.1 413")


@pytest.mark.parametrize(("length", "want"), [("abc", "400"), ("-1", "400"), ("1e3", "400"), ("100", "408")])
def test_a_malformed_content_length_gets_an_answer_not_a_held_connection(
    stack: Stack, length: str, want: str
) -> None:
    request = (
        f"POST /v1/claims HTTP/1.1\r\nHost: x\r\nX-Auth-Token: member-a\r\nContent-Length: {length}\r\n\r\n"
        '{"project": '
    ).encode()
    status, took = _raw(stack.regions["edge-1"], request, timeout_s=30)
    # A Content-Length longer than the body: the server's timeout ends the wait (408 or a closed
    # connection), never a connection held for ever.
    assert status.startswith(f"HTTP/1.1 {want}") or (want == "408" and status == ""), status
    assert took < 10


def test_deeply_nested_json_is_refused_with_400(stack: Stack) -> None:
    for depth in (50, 30_000):
        body = "[" * depth + "]" * depth
        request = (
            "POST /v1/claims HTTP/1.1\r\nHost: x\r\nX-Auth-Token: member-a\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
        status, _ = _raw(stack.regions["edge-1"], request)
        assert status.startswith("HTTP/1.1 400"), (depth, status)


def test_the_server_takes_200_parallel_connections_without_a_reset(stack: Stack) -> None:
    """wsgiref's backlog of 5 reset up to 18 of 200 parallel claims (issue 36)."""
    _apply(stack)
    results: list[int] = []
    gate = threading.Barrier(200)

    def one() -> None:
        gate.wait()
        results.append(call(stack.regions["edge-1"], "GET", "/", timeout_s=30).status)

    threads = [threading.Thread(target=one) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(200) == 200, sorted(set(results))


# --- regions authenticated as themselves, fail closed ----------------------------------------------------


def test_only_a_regions_own_user_may_sync_as_it(stack: Stack) -> None:
    assert _sync(stack, "edge-1", token="admin")[0] == 403  # any administrator: issue 36's forged sync
    assert _sync(stack, "edge-1", token="edge-2")[0] == 403  # another region's user
    assert _sync(stack, "edge-1", token="member-a")[0] == 403
    assert _sync(stack, "edge-1")[0] == 200


def test_a_region_the_coordinator_does_not_know_grants_nothing_and_detail_says_so(tmp_path: Path) -> None:
    policy = Policy(rebalance_s=0.2)
    coordinator = Coordinator(
        CoordinatorStore(f"sqlite:///{tmp_path / 'c.db'}", ["edge-1", "edge-2"]), policy
    )
    top = Server(coordinator.app(None), "127.0.0.1", 0).start()
    stranger = RegionService("edge-9", RegionStore(f"sqlite:///{tmp_path / 'e9.db'}"), top.url, None, 0.2)
    known = RegionService("edge-1", RegionStore(f"sqlite:///{tmp_path / 'e1.db'}"), top.url, None, 0.2)
    servers = [Server(s.app(None), "127.0.0.1", 0).start() for s in (stranger, known)]
    try:
        base = f"/v1.0/admin-project/os-quota-sets/{A}"
        assert call(top.url, "PUT", base, "", {"quota_set": {"instances": 20}}).status == 200
        claim = {"project": A, "resources": {"instances": 1}}
        # Before any sync: neither grants (the coordinator has not accepted them yet).
        assert call(servers[1].url, "POST", "/v1/claims", "", claim).status == 403
        assert not stranger.sync() and known.sync()
        assert "403" in stranger.last_sync_error
        assert [call(servers[0].url, "POST", "/v1/claims", "", claim).status for _ in range(3)] == [403] * 3
        assert (
            call(servers[1].url, "POST", "/v1/claims", "", {"project": B, "resources": {"cores": 1}}).status
            == 201
        )
        detail = _get(top.url, base + "/detail")["quota_set"]
        assert detail["partial"] and list(detail["unknown_regions"]) == ["edge-9"], detail
        # A region refused after it was accepted (taken out of --regions) stops granting too.
        coordinator.store.regions.remove("edge-1")
        assert not known.sync()
        assert (
            call(servers[1].url, "POST", "/v1/claims", "", {"project": B, "resources": {"cores": 1}}).status
            == 403
        )
    finally:
        _stop([*servers, top])


def test_the_sync_answer_carries_the_period_and_regions_follow_it(stack: Stack) -> None:
    answer = _post_json(
        stack.coordinator, "/v1/sync", "edge-1", {"region": "edge-1", "sync_no": 1, "rows": []}
    )
    assert answer["rebalance_s"] == 0.2


def _get(url: str, path: str, token: str = "") -> dict[str, object]:
    from wanstack.quotabench.sites import get

    found: dict[str, object] = get(url, path, token)
    return found


# --- claims that cannot be lost or duplicated ------------------------------------------------------------


def test_a_retried_claim_with_its_idempotency_key_is_counted_once(stack: Stack) -> None:
    import http.client

    _limit(stack, instances=4)
    for _ in range(2):
        _apply(stack)
    edge = stack.regions["edge-1"]
    host, port = edge.removeprefix("http://").split(":")

    def post(key: str, amount: int = 1) -> tuple[int, dict[str, object], str | None]:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        body = json.dumps({"project": A, "resources": {"instances": amount}})
        conn.request("POST", "/v1/claims", body, {"X-Auth-Token": "member-a", "Idempotency-Key": key})
        response = conn.getresponse()
        payload = json.loads(response.read())
        conn.close()
        return response.status, payload, response.getheader("Idempotent-Replayed")

    first = post("boot-1")
    again = post("boot-1")
    assert first[0] == again[0] == 201 and first[1]["claim"]["id"] == again[1]["claim"]["id"]  # type: ignore[index]
    assert again[2] == "true" and first[2] is None
    assert post("boot-1", 2)[0] == 422  # the key used for other amounts
    listed = _get(edge, f"/v1/claims?project={A}", "member-a")["claims"]
    assert [c["id"] for c in listed] == [first[1]["claim"]["id"]]  # type: ignore[index]
    assert stack.services["edge-1"].store.rows[A, "instances"].used == 1
    # Another project's list is not a member's to read.
    assert call(edge, "GET", f"/v1/claims?project={A}", "member-b").status == 403
    claim_id = first[1]["claim"]["id"]  # type: ignore[index]
    assert call(edge, "DELETE", f"/v1/claims/{claim_id}", "member-a").status == 204
    assert post("boot-1")[0] == 409  # its claim was released: not made again


def test_a_claim_never_confirmed_is_released_after_the_grace(stack: Stack) -> None:
    _apply(stack)
    edge = stack.regions["edge-1"]
    body = {"project": A, "resources": {"instances": 1}}
    lost, kept = (call(edge, "POST", "/v1/claims", "member-a", body).id for _ in range(2))
    confirmed = _post_json(edge, f"/v1/claims/{kept}/confirm", "member-a", None)
    assert confirmed["claim"]["confirmed"]  # type: ignore[index]
    store = stack.services["edge-1"].store
    assert store.expire(grace_s=3600.0) == []
    assert store.expire(grace_s=0.0, now=time.time() + 1) == [lost]
    assert [c["id"] for c in _get(edge, f"/v1/claims?project={A}", "member-a")["claims"]] == [kept]  # type: ignore[index]
    assert store.rows[A, "instances"].used == 1
