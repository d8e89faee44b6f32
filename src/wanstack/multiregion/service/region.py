"""A region's quota service: claims and releases decided at the region against its shares (no WAN
crossing on the claim's path), and a sync with the coordinator every `rebalance_s` that moves shares
and renews leases (`rules.py`). Served next to the region's nova-api.

    POST   /v1/claims        {"project": P, "resources": {"instances": 1, "cores": 2, "ram_mb": 512}}
                             → 201 {"claim": {...}} | 403 (over the region's share: nova's answer
                             to a quota exceeded)
    DELETE /v1/claims/{id}   → 204 | 404
    GET    /v1/shares        what the region holds and uses (administrators)
    GET    /                 the service's name (no token; a liveness probe)
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from keystoneauth1.session import Session

from wanstack.multiregion.service.http import App, HttpError, Request, Response
from wanstack.multiregion.service.store import RESOURCES, RegionStore
from wanstack.multiregion.service.tokens import ServiceCredentials

log = logging.getLogger(__name__)

# How long a region waits for Keystone to give it a token (its syncs wait one period).
LOGIN_TIMEOUT_S = 60.0


@dataclass
class RegionService:
    """A region's quota service: claims and releases decided against its shares in `store`, and a thread that
    syncs with the coordinator every `rebalance_s` (with its Keystone `credentials`), counting the syncs that
    worked and failed; `app` is its WSGI application."""

    name: str
    store: RegionStore
    coordinator_url: str
    credentials: ServiceCredentials | None  # None: no Keystone (tests of the rules only)
    rebalance_s: float = 10.0
    syncs_ok: int = 0
    syncs_failed: int = 0
    last_sync_error: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.session: Session | None = None
        self.login: Session | None = None
        if self.credentials is not None:
            # Two sessions on one token: the syncs give up after a period, but getting the token
            # does not. Keystone checks the password with bcrypt (12 rounds by default, keystone/
            # conf/identity.py `password_hash_rounds`: 0.39 s of CPU on this project's machine), which
            # a loaded machine could not finish within a 0.5 s period; each sync then asked again
            # and left Keystone hashing one more password, until it answered nobody within 10 s
            # (tests/test_quota_service.py beside one busy loop, 2026-12-03).
            auth = self.credentials.auth()
            self.session = self.credentials.session(self.rebalance_s, auth)
            self.login = self.credentials.session(LOGIN_TIMEOUT_S, auth)
        self.thread = threading.Thread(target=self._loop, name=f"quota-sync:{self.name}", daemon=True)

    # --- the API ----------------------------------------------------------------------------------
    def app(self, authenticate: Any) -> App:
        app = App(authenticate)
        app.route(
            "GET",
            "/",
            lambda r: Response({"service": "wanstack-quota", "role": "region", "region": self.name}),
            public=True,
        )
        app.route("POST", "/v1/claims", self._claim)
        app.route("DELETE", "/v1/claims/{claim_id}", self._release)
        app.route("GET", "/v1/shares", self._shares)
        return app

    def _claim(self, request: Request) -> Response:
        body = request.body if isinstance(request.body, dict) else {}
        project, resources = body.get("project"), body.get("resources")
        if not isinstance(project, str) or not isinstance(resources, dict):
            raise HttpError(
                400, 'give {"project": ID, "resources": {"instances": n, "cores": n, "ram_mb": n}}'
            )
        unknown = sorted(set(resources) - set(RESOURCES))
        if unknown or not all(isinstance(v, int) and v >= 0 for v in resources.values()):
            raise HttpError(
                400, f"resources are {', '.join(RESOURCES)} with whole amounts ≥ 0 (got {resources})"
            )
        caller = request.caller
        if caller is not None and not caller.admin and caller.project_id != project:
            raise HttpError(403, "a token of another project")
        claim_id, why = self.store.claim(project, {k: v for k, v in resources.items() if v}, time.monotonic())
        if claim_id is None:
            raise HttpError(403, f"Quota exceeded in region {self.name}: {why}", region=self.name)
        return Response({"claim": {"id": claim_id, "project": project, "resources": resources}}, 201)

    def _release(self, request: Request) -> Response:
        claim_id = request.params["claim_id"]
        live = self.store.live.get(claim_id)
        caller = request.caller
        if live is not None and caller is not None and not caller.admin and caller.project_id != live[0]:
            raise HttpError(403, "a token of another project")
        if self.store.release(claim_id) is None:
            raise HttpError(404, "no such claim (or released already)")
        return Response(None, 204)

    def _shares(self, request: Request) -> Response:
        caller = request.caller
        if caller is not None and not caller.admin:
            raise HttpError(403, "administrators only")
        return Response(
            {
                "region": self.name,
                "shares": self.store.shares(),
                "syncs_ok": self.syncs_ok,
                "syncs_failed": self.syncs_failed,
                "last_sync_error": self.last_sync_error,
            }
        )

    # --- the sync ---------------------------------------------------------------------------------
    def sync(self) -> bool:
        """One sync with the coordinator; False when it did not answer."""
        sync_no, rows, claimed = self.store.report()
        sent_at = time.monotonic()
        body: dict[str, Any] = {"region": self.name, "sync_no": sync_no, "rows": rows}
        try:
            if self.session is None:
                import requests

                answer = requests.post(f"{self.coordinator_url}/v1/sync", json=body, timeout=self.rebalance_s)
            else:
                assert self.login is not None
                self.login.get_token()  # the token kept, or a new one however long Keystone takes
                answer = self.session.post(f"{self.coordinator_url}/v1/sync", json=body, raise_exc=False)
        except Exception as err:  # keystoneauth's (or requests') connection errors and timeouts
            self.syncs_failed += 1
            self.last_sync_error = f"{type(err).__name__}: {err}"
            return False
        if answer.status_code != 200:
            self.syncs_failed += 1
            self.last_sync_error = f"{answer.status_code} {answer.text[:200]}"
            return False
        payload = answer.json()
        self.store.apply(
            payload["rows"], sent_at=sent_at, claimed_at_send=claimed, term_s=payload.get("term_s")
        )
        self.syncs_ok += 1
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.sync()
            except Exception:  # keep syncing whatever one round did
                log.exception("quota sync of %s", self.name)
            self._stop.wait(max(0.0, self.rebalance_s - (time.monotonic() - started)))

    def start(self) -> RegionService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(self.rebalance_s + 5)
