"""Keystone tokens for the quota service: a caller's token checked at Keystone (`GET /v3/auth/tokens`
with it as `X-Subject-Token`, as keystonemiddleware does) and kept, so that a warm claim never leaves
its site:

- for `cache_s` — keystonemiddleware's `token_cache_time` default of 300 s (keystonemiddleware/
  auth_token/_opts.py) — a token seen before is taken as is;
- after that, until the token's own `expires_at` (Keystone's `[token] expiration`, 1 h by default),
  it is still taken at once while it is checked again in the background: a refusal drops it (a
  revoked token stops working at the next check that reaches Keystone), an unreachable Keystone
  keeps it. So a site cut off from Keystone keeps serving the tokens it has seen until they expire,
  instead of hanging every claim once the cache time is over (keystonemiddleware checks again in
  line: across a cut, every request then waits for its timeout). What a cut hides: revocations.
- a token never seen is checked in line; Keystone out of reach: refused with 503 after `timeout_s`
  (fail closed).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
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

    def auth(self) -> v3.Password:
        """The password plug-in: it keeps the token it gets until near its expiry."""
        return v3.Password(
            auth_url=self.auth_url,
            username=self.username,
            password=self.password,
            project_name=self.project_name,
            user_domain_name=self.user_domain_name,
            project_domain_name=self.project_domain_name,
        )

    def session(self, timeout_s: float | None, auth: v3.Password | None = None) -> ks_session.Session:
        return ks_session.Session(auth=auth or self.auth(), timeout=timeout_s)


@dataclass
class _Seen:
    caller: Caller
    fresh_until: float  # monotonic: taken as is until then
    expires: float  # monotonic: the token's own expiry
    checking: bool = False


@dataclass
class TokenCheck:
    """The service's token check (an `App`'s `authenticate`): a request's `X-Auth-Token` checked at Keystone
    and kept, taken as is for `cache_s`, then until it expires while it is checked again in the background;
    401 for no token or one Keystone refuses, 503 when a token never seen cannot be checked within
    `timeout_s`."""

    credentials: ServiceCredentials
    timeout_s: float = 10.0
    cache_s: float = TOKEN_CACHE_S
    _seen: dict[str, _Seen] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.session = self.credentials.session(self.timeout_s)

    def __call__(self, headers: dict[str, str]) -> Caller:
        token = headers.get("x-auth-token")
        if not token:
            raise HttpError(401, "no X-Auth-Token")
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(token)
            if seen is not None and now < seen.expires:
                if now >= seen.fresh_until and not seen.checking:
                    seen.checking = True
                    threading.Thread(target=self._recheck, args=(token,), daemon=True).start()
                return seen.caller
        try:
            found = self._check(token)
        except ks_exceptions.ClientException as err:
            raise HttpError(503, f"Keystone cannot be reached to check the token: {err}") from None
        if found is None:
            raise HttpError(401, "the token is not valid")
        return found.caller

    def _check(self, token: str) -> _Seen | None:
        """Keystone's answer on `token` (kept), None when it refuses it (forgotten)."""
        response = self.session.get(
            f"{self.credentials.auth_url}/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False
        )
        if response.status_code != 200:
            with self._lock:
                self._seen.pop(token, None)
            return None
        body: Any = response.json()["token"]
        now = time.monotonic()
        left = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).timestamp() - time.time()
        seen = _Seen(
            Caller(
                project_id=body.get("project", {}).get("id", ""),
                roles=frozenset(r["name"] for r in body.get("roles", [])),
                user_name=body.get("user", {}).get("name", ""),
                user_id=body.get("user", {}).get("id", ""),
                user_domain=body.get("user", {}).get("domain", {}).get("name", ""),
            ),
            fresh_until=now + min(self.cache_s, left),
            expires=now + left,
        )
        with self._lock:
            self._seen[token] = seen
        return seen

    def _recheck(self, token: str) -> None:
        try:
            self._check(token)
        except Exception:  # Keystone out of reach: keep the token, try again at its next use
            with self._lock:
                seen = self._seen.get(token)
                if seen is not None:
                    seen.checking = False
