"""Keystone tokens for the quota service: a caller's token checked at Keystone (`GET /v3/auth/tokens`
with it as `X-Subject-Token`, as keystonemiddleware does) and kept for `cache_s` — keystonemiddleware's
`token_cache_time` default of 300 s (keystonemiddleware/auth_token/_opts.py) — so that a warm claim
never leaves its site. Keystone out of reach: a token seen before still works until its cache time is
over; a new one is refused with 503 (fail closed, as keystonemiddleware does)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from wanstack.multiregion.service.http import Caller, HttpError

TOKEN_CACHE_S = 300.0


@dataclass(frozen=True)
class ServiceCredentials:
    """The service's own Keystone user (it checks tokens with it, and a region syncs with it)."""

    auth_url: str  # …/v3
    username: str
    password: str
    project_name: str = "admin"
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"

    def session(self, timeout_s: float | None) -> ks_session.Session:
        auth = v3.Password(
            auth_url=self.auth_url,
            username=self.username,
            password=self.password,
            project_name=self.project_name,
            user_domain_name=self.user_domain_name,
            project_domain_name=self.project_domain_name,
        )
        return ks_session.Session(auth=auth, timeout=timeout_s)


@dataclass
class TokenCheck:
    credentials: ServiceCredentials
    timeout_s: float = 10.0
    cache_s: float = TOKEN_CACHE_S
    _cache: dict[str, tuple[Caller, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.session = self.credentials.session(self.timeout_s)

    def __call__(self, headers: dict[str, str]) -> Caller:
        token = headers.get("x-auth-token")
        if not token:
            raise HttpError(401, "no X-Auth-Token")
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(token)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            response = self.session.get(
                f"{self.credentials.auth_url}/auth/tokens",
                headers={"X-Subject-Token": token},
                raise_exc=False,
            )
        except ks_exceptions.ClientException as err:
            raise HttpError(503, f"Keystone cannot be reached to check the token: {err}") from None
        if response.status_code != 200:
            raise HttpError(401, "the token is not valid")
        body: Any = response.json()["token"]
        caller = Caller(
            project_id=body.get("project", {}).get("id", ""),
            roles=frozenset(r["name"] for r in body.get("roles", [])),
        )
        with self._lock:
            self._cache[token] = (caller, now + self.cache_s)
        return caller
