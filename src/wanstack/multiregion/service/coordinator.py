"""The quota coordinator at the top site: every project's global limits, the pool of what no region
holds, and the answers to the regions' syncs (`rules.py`). Its API for limits is Kingbird's
(`kingbird/api/controllers/v1/quota_manager.py`, port 8118):

    GET    /v1.0/{project_id}/os-quota-sets/{target}          {"quota_set": {"instances": 10, ...}}
    PUT    /v1.0/{project_id}/os-quota-sets/{target}          {"quota_set": {...}} → {target: {...}}
    DELETE /v1.0/{project_id}/os-quota-sets/{target}          optional {"quota_set": ["cores"]}
    GET    /v1.0/{project_id}/os-quota-sets/{target}/detail   limits and usage summed over regions
    PUT    /v1.0/{project_id}/os-quota-sets/{target}/sync

`{project_id}` is the caller's project; a member reads only `/v1.0/{own}/os-quota-sets/{own}` (403
otherwise: Kingbird's `QuotaManagerController.get` answers 400 to another `{project_id}` and 403 "Admin
required" to another target), an administrator any. Kingbird's `detail` fills an unreachable region's
usage with 0 without a word; this one adds `regions` (each region's usage and how long ago it was heard
from), `unknown_regions` (regions that tried to sync but are not in `--regions`) and `partial`.
Kingbird's resource names: `ram` is MB. Limits are 1 … 2^31 − 1 (`bounds.py`).

A limit may be set below what is in use, as Kingbird does (it checks nothing; its sync gives each region
its usage plus max(0, limit − Σ usage), `kingbird/engine/quota_manager.py` quota_sync_for_project, and
Nova keeps what exists and refuses what is new over a forced limit): no region loses what it uses, each
is lowered to its usage at its next sync, and claims are refused until releases bring usage under it.

Also: `POST /v1/sync` — a region's sync, accepted only from the region's own Keystone service user
(`users`: region → user name, or DOMAIN/name; by default `quota-REGION` in domain Default) — and
`GET /v1/books` (administrators).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from wanstack.multiregion.service import openapi
from wanstack.multiregion.service.bounds import MAX_COUNTER, MAX_LIMIT, MAX_USAGE, name, whole
from wanstack.multiregion.service.http import MAX_SYNC_BODY, App, Caller, HttpError, Request, Response
from wanstack.multiregion.service.rules import Policy
from wanstack.multiregion.service.store import RESOURCES, CoordinatorStore

KINGBIRD_NAMES = {"instances": "instances", "cores": "cores", "ram": "ram_mb"}
OURS = {v: k for k, v in KINGBIRD_NAMES.items()}
# Regions that tried to sync without being known, kept for `detail` (bounded: any caller with a token
# could name regions at will).
MAX_UNKNOWN = 32


def service_user(region: str) -> str:
    """The Keystone user a region's service syncs as, unless told otherwise."""
    return f"quota-{region}"


@dataclass
class Coordinator:
    """The coordinator's service: Kingbird's quota-set API over the books in `store`, the answers to the
    regions' syncs by `policy`'s rules, and, in lease mode, a thread that takes back the shares of regions
    whose lease ran out (`start`, `stop`); `app` is its WSGI application."""

    store: CoordinatorStore
    policy: Policy
    users: dict[str, str] = field(default_factory=dict)  # region -> its service user (DOMAIN/name)
    unknown: dict[str, float] = field(default_factory=dict)  # region -> when it last tried (monotonic)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._reclaim_loop, name="quota-reclaim", daemon=True)

    def app(self, authenticate: Any) -> App:
        app = App(authenticate)
        app.route(
            "GET",
            "/",
            lambda r: Response(
                {"service": "wanstack-quota", "role": "coordinator", "regions": self.store.regions}
            ),
            public=True,
        )
        app.route("GET", "/openapi.json", lambda r: Response(openapi.coordinator()), public=True)
        app.route("POST", "/v1/sync", self._sync, max_body=MAX_SYNC_BODY)
        app.route("GET", "/v1/books", self._books)
        base = "/v1.0/{project_id}/os-quota-sets/{target}"
        app.route("GET", base, self._get)
        app.route("PUT", base, self._put)
        app.route("DELETE", base, self._delete)
        app.route("GET", base + "/detail", self._detail)
        app.route("PUT", base + "/sync", self._trigger)
        return app

    # --- access -----------------------------------------------------------------------------------
    @staticmethod
    def _admin(request: Request) -> None:
        if request.caller is not None and not request.caller.admin:
            raise HttpError(403, "administrators only")

    @staticmethod
    def _reader(request: Request) -> None:
        caller = request.caller
        if caller is not None and not caller.admin and caller.project_id != request.params["project_id"]:
            raise HttpError(403, "a token of another project")
        if caller is not None and not caller.admin and caller.project_id != request.params["target"]:
            raise HttpError(403, "Admin required: a member reads its own project's quotas only")

    # --- the regions ------------------------------------------------------------------------------
    def _is_region(self, caller: Caller | None, region: str) -> bool:
        if caller is None:  # no token check at all (--no-auth: trials)
            return True
        want = self.users.get(region, service_user(region))
        domain, _, user = want.rpartition("/")
        return caller.user_name == user and caller.user_domain == (domain or "Default")

    def _sync(self, request: Request) -> Response:
        body = request.body if isinstance(request.body, dict) else None
        if body is None:
            raise HttpError(400, 'give {"region": NAME, "sync_no": n, "rows": [...]}')
        region = name(body.get("region"), "region")
        sync_no = whole(body.get("sync_no"), "sync_no", 1, MAX_COUNTER)
        rows = _rows(body.get("rows"))
        if region not in self.store.regions:
            if region in self.unknown or len(self.unknown) < MAX_UNKNOWN:
                self.unknown[region] = time.monotonic()
            raise HttpError(403, f"unknown region {region!r} (known: {', '.join(self.store.regions)})")
        if not self._is_region(request.caller, region):
            raise HttpError(403, f"only region {region}'s own service user may sync as {region}")
        answers = self.store.sync(region, sync_no, rows, self.policy)
        return Response(
            {"rows": answers, "term_s": self.policy.term_s, "rebalance_s": self.policy.rebalance_s}
        )

    def _books(self, request: Request) -> Response:
        self._admin(request)
        return Response({"books": self.store.books(self.policy)})

    def _reclaim_loop(self) -> None:
        while not self._stop.wait(1.0):
            self.store.reclaim(self.policy)

    def start(self) -> Coordinator:
        if self.policy.term_s is not None:
            self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(5)

    # --- Kingbird's quota sets --------------------------------------------------------------------
    def _get(self, request: Request) -> Response:
        self._reader(request)
        limits = self.store.limits(request.params["target"])
        return Response({"quota_set": {OURS[r]: v for r, v in limits.items()}})

    def _put(self, request: Request) -> Response:
        self._admin(request)
        body = request.body.get("quota_set") if isinstance(request.body, dict) else None
        if not isinstance(body, dict) or not body:
            raise HttpError(400, 'give {"quota_set": {"instances": n, "cores": n, "ram": n}}')
        unknown = sorted(set(body) - set(KINGBIRD_NAMES))
        if unknown:
            raise HttpError(400, f"unknown quota {', '.join(unknown)} (known: {', '.join(KINGBIRD_NAMES)})")
        # Kingbird (kingbird/common/utils.py validate_quota_limits) takes whole numbers above 0.
        limits = {KINGBIRD_NAMES[k]: whole(v, f"quota_set.{k}", 1, MAX_LIMIT) for k, v in body.items()}
        target = name(request.params["target"], "the target project")
        self.store.set_limits(target, limits)
        return Response({target: body})

    def _delete(self, request: Request) -> Response:
        self._admin(request)
        names = request.body.get("quota_set") if isinstance(request.body, dict) else None
        target = request.params["target"]
        if names is None:
            self.store.delete_limits(target)
            return Response(f"Deleted all quota limits for {target}")
        if not isinstance(names, list) or not all(isinstance(n, str) and n in KINGBIRD_NAMES for n in names):
            raise HttpError(400, f'give {{"quota_set": [names]}} among {", ".join(KINGBIRD_NAMES)}')
        deleted = self.store.delete_limits(target, [KINGBIRD_NAMES[n] for n in names])
        return Response({"Deleted quota limits": [OURS[r] for r in deleted]})

    def _detail(self, request: Request) -> Response:
        self._reader(request)
        target = request.params["target"]
        mine = [b for b in self.store.books(self.policy) if b["project"] == target]
        stale = self.policy.fresh_after()
        regions: dict[str, dict[str, Any]] = {}
        for book in mine:
            for region, seen in book["regions"].items():
                entry = regions.setdefault(region, {"heard_s_ago": seen["heard_s_ago"], "usage": {}})
                entry["usage"][OURS[book["resource"]]] = seen["used"]
        silent = sorted(r for r, e in regions.items() if e["heard_s_ago"] is None or e["heard_s_ago"] > stale)
        now = time.monotonic()
        unknown = {r: round(now - t, 3) for r, t in sorted(self.unknown.items())}
        return Response(
            {
                "quota_set": {
                    "limits": {OURS[b["resource"]]: b["limit"] for b in mine},
                    "usage": {
                        OURS[b["resource"]]: sum(r["used"] for r in b["regions"].values()) for b in mine
                    },
                    "regions": regions,
                    "partial": bool(silent or unknown),
                    "not_heard_from": silent,
                    "unknown_regions": unknown,
                }
            }
        )

    def _trigger(self, request: Request) -> Response:
        self._admin(request)
        # The regions start every sync; they rebalance at their next one (at most rebalance_s away).
        return Response(f"triggered quota sync for {request.params['target']}")


def _rows(value: Any) -> list[dict[str, Any]]:
    """A sync's rows, each field within its bounds (`bounds.py`), else HttpError 400."""
    if not isinstance(value, list):
        raise HttpError(400, "rows: a list is wanted")
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, dict):
            raise HttpError(400, f"rows[{i}]: an object is wanted")
        resource = row.get("resource")
        if resource not in RESOURCES:
            raise HttpError(400, f"rows[{i}].resource: one of {', '.join(RESOURCES)}")
        share = row.get("share")
        rows.append(
            {
                "project": name(row.get("project"), f"rows[{i}].project"),
                "resource": resource,
                "share": None if share is None else whole(share, f"rows[{i}].share", 0, MAX_LIMIT),
                "used": whole(row.get("used"), f"rows[{i}].used", 0, MAX_USAGE),
                "applied_seq": whole(row.get("applied_seq"), f"rows[{i}].applied_seq", 0, MAX_COUNTER),
            }
        )
    return rows
