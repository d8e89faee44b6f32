"""A region's quota service: claims and releases decided at the region against its shares (no WAN
crossing on the claim's path), and a sync with the coordinator every `rebalance_s` that moves shares
and renews leases (`rules.py`). Served next to the region's nova-api.

    POST   /v1/claims        {"project": P, "resources": {"instances": 1, "cores": 2, "ram_mb": 512}}
                             with an optional `Idempotency-Key` header → 201 {"claim": {...}} (the same
                             claim again for a key used before: `Idempotent-Replayed: true`) | 403
                             (over the region's share: nova's answer to a quota exceeded; or a region
                             the coordinator has not accepted) | 409 (the key's claim was released) |
                             422 (the key was used for other amounts)
    GET    /v1/claims?project=P   the project's live claims
    POST   /v1/claims/{id}/confirm   the claim's server exists: never released by expiry
    DELETE /v1/claims/{id}   → 204 | 404
    GET    /v1/shares        what the region holds and uses (administrators)
    GET    /                 the service's name (no token; a liveness probe)

A claim not confirmed within `grace_s` of being made is released (its answer was lost, or its server
never came to be): Nova's reservations expired the same way (`[quota] reservation_expire`, 86,400 s by
default, nova/conf/quota.py until Nova counted usage instead, 2019).

Fail closed: a region grants nothing until the coordinator has accepted one of its syncs, and nothing
again from the moment the coordinator refuses it (401/403: a region it does not know, or a token not of
the region's own service user), until it accepts it again. Across a cut (no answer at all), a region
keeps serving its shares: that is what escrow is for.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from keystoneauth1.session import Session

from wanstack.multiregion.service import openapi
from wanstack.multiregion.service.bounds import MAX_AMOUNT, name, whole
from wanstack.multiregion.service.http import App, HttpError, Request, Response
from wanstack.multiregion.service.store import RESOURCES, RegionStore
from wanstack.multiregion.service.tokens import ServiceCredentials

log = logging.getLogger(__name__)

# How long a region waits for Keystone to give it a token (its syncs wait one period).
LOGIN_TIMEOUT_S = 60.0
# Nova's reservations expired after a day (nova/conf/quota.py `reservation_expire`, until 2019).
CLAIM_GRACE_S = 86400.0
# An Idempotency-Key is an opaque string (draft-ietf-httpapi-idempotency-key-header); the column holds 255.
MAX_KEY = 255
# The sync period a coordinator may set (its answer's `rebalance_s`): from a tenth of a second (the
# tests' periods) to an hour.
REBALANCE_BOUNDS = (0.1, 3600.0)


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
    grace_s: float = CLAIM_GRACE_S
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
        app.route("GET", "/openapi.json", lambda r: Response(openapi.region()), public=True)
        app.route("POST", "/v1/claims", self._claim)
        app.route("GET", "/v1/claims", self._claims)
        app.route("POST", "/v1/claims/{claim_id}/confirm", self._confirm)
        app.route("DELETE", "/v1/claims/{claim_id}", self._release)
        app.route("GET", "/v1/shares", self._shares)
        return app

    @staticmethod
    def _own(request: Request, project: str) -> None:
        caller = request.caller
        if caller is not None and not caller.admin and caller.project_id != project:
            raise HttpError(403, "a token of another project")

    def _claim(self, request: Request) -> Response:
        body = request.body if isinstance(request.body, dict) else {}
        project, resources = body.get("project"), body.get("resources")
        if not isinstance(project, str) or not isinstance(resources, dict):
            raise HttpError(
                400, 'give {"project": ID, "resources": {"instances": n, "cores": n, "ram_mb": n}}'
            )
        name(project, "project")
        unknown = sorted(set(resources) - set(RESOURCES))
        if unknown:
            raise HttpError(400, f"unknown resources {', '.join(unknown)} (known: {', '.join(RESOURCES)})")
        amounts = {r: whole(v, f"resources.{r}", 0, MAX_AMOUNT) for r, v in resources.items()}
        if not any(amounts.values()):
            raise HttpError(400, f"a claim takes at least one of {', '.join(RESOURCES)} above 0")
        key = request.headers.get("idempotency-key")
        if key is not None and not 0 < len(key) <= MAX_KEY:
            raise HttpError(400, f"Idempotency-Key: 1 to {MAX_KEY} characters")
        self._own(request, project)
        outcome = self.store.claim(project, {k: v for k, v in amounts.items() if v}, time.monotonic(), key)
        if outcome.replayed and outcome.claim is None:
            raise HttpError(422, outcome.why)
        if outcome.replayed and outcome.why:
            raise HttpError(409, f"the claim made under Idempotency-Key {key!r} was released")
        if outcome.claim is None:
            raise HttpError(403, f"Quota exceeded in region {self.name}: {outcome.why}", region=self.name)
        headers = [("Idempotent-Replayed", "true")] if outcome.replayed else []
        return Response({"claim": outcome.claim.public()}, 201, headers)

    def _claims(self, request: Request) -> Response:
        project = request.query.get("project")
        caller = request.caller
        if project is None and caller is not None and not caller.admin:
            raise HttpError(400, "give ?project=ID (your token's project)")
        if project is not None:
            self._own(request, name(project, "project"))
        return Response({"claims": [c.public() for c in self.store.claims(project)]})

    def _confirm(self, request: Request) -> Response:
        claim_id = request.params["claim_id"]
        live = self.store.live.get(claim_id)
        if live is not None:
            self._own(request, live.project)
        confirmed = self.store.confirm(claim_id)
        if confirmed is None:
            raise HttpError(404, "no such claim (or released already)")
        return Response({"claim": confirmed.public()})

    def _release(self, request: Request) -> Response:
        claim_id = request.params["claim_id"]
        live = self.store.live.get(claim_id)
        if live is not None:
            self._own(request, live.project)
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
            if answer.status_code in (401, 403) and self.store.accepted:
                log.error("the coordinator refuses region %s: %s", self.name, self.last_sync_error)
                self.store.set_accepted(False)  # fail closed: grant nothing until it accepts us again
            return False
        payload = answer.json()
        self.store.apply(payload["rows"], sent_at=sent_at, used_at_send=claimed, term_s=payload.get("term_s"))
        if not self.store.accepted:
            self.store.set_accepted(True)
        period = payload.get("rebalance_s")
        if isinstance(period, int | float) and REBALANCE_BOUNDS[0] <= period <= REBALANCE_BOUNDS[1]:
            self.rebalance_s = float(period)  # the coordinator's period (`--rebalance-s`)
        self.syncs_ok += 1
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.sync()
                self.store.expire(self.grace_s)
            except Exception:  # keep syncing whatever one round did
                log.exception("quota sync of %s", self.name)
            self._stop.wait(max(0.0, self.rebalance_s - (time.monotonic() - started)))

    def start(self) -> RegionService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(self.rebalance_s + 5)
