"""The quota coordinator at the top site: every project's global limits, the pool of what no region
holds, and the answers to the regions' syncs (`rules.py`). Its API for limits is Kingbird's
(`kingbird/api/controllers/v1/quota_manager.py`, port 8118):

    GET    /v1.0/{project_id}/os-quota-sets/{target}          {"quota_set": {"instances": 10, ...}}
    PUT    /v1.0/{project_id}/os-quota-sets/{target}          {"quota_set": {...}} → {target: {...}}
    DELETE /v1.0/{project_id}/os-quota-sets/{target}          optional {"quota_set": ["cores"]}
    GET    /v1.0/{project_id}/os-quota-sets/{target}/detail   limits and usage summed over regions
    PUT    /v1.0/{project_id}/os-quota-sets/{target}/sync

`{project_id}` is the caller's project (an administrator may name any target). Kingbird's `detail`
fills an unreachable region's usage with 0 without a word; this one adds `regions` (each region's
usage and how long ago it was heard from) and `partial`. Kingbird's resource names: `ram` is MB.
Also: `POST /v1/sync` (the regions' syncs, administrators) and `GET /v1/books`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from wanstack.multiregion.service.http import App, HttpError, Request, Response
from wanstack.multiregion.service.rules import Policy
from wanstack.multiregion.service.store import CoordinatorStore

KINGBIRD_NAMES = {"instances": "instances", "cores": "cores", "ram": "ram_mb"}
OURS = {v: k for k, v in KINGBIRD_NAMES.items()}


@dataclass
class Coordinator:
    """The coordinator's service: Kingbird's quota-set API over the books in `store`, the answers to the
    regions' syncs by `policy`'s rules, and, in lease mode, a thread that takes back the shares of regions
    whose lease ran out (`start`, `stop`); `app` is its WSGI application."""

    store: CoordinatorStore
    policy: Policy
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
        app.route("POST", "/v1/sync", self._sync)
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
        if (
            caller is not None
            and not caller.admin
            and caller.project_id not in (request.params["project_id"], request.params["target"])
        ):
            raise HttpError(403, "a token of another project")

    # --- the regions ------------------------------------------------------------------------------
    def _sync(self, request: Request) -> Response:
        self._admin(request)
        body = request.body if isinstance(request.body, dict) else {}
        region = body.get("region")
        if region not in self.store.regions:
            raise HttpError(403, f"unknown region {region!r} (known: {', '.join(self.store.regions)})")
        rows = self.store.sync(region, int(body.get("sync_no", 0)), list(body.get("rows", [])), self.policy)
        return Response({"rows": rows, "term_s": self.policy.term_s})

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
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in body.values()):
            raise HttpError(400, f"quota limits are whole numbers above 0 (got {body})")
        target = request.params["target"]
        self.store.set_limits(target, {KINGBIRD_NAMES[k]: v for k, v in body.items()})
        return Response({target: body})

    def _delete(self, request: Request) -> Response:
        self._admin(request)
        names = request.body.get("quota_set") if isinstance(request.body, dict) else None
        target = request.params["target"]
        if names is None:
            self.store.delete_limits(target)
            return Response(f"Deleted all quota limits for {target}")
        if not isinstance(names, list) or set(names) - set(KINGBIRD_NAMES):
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
        return Response(
            {
                "quota_set": {
                    "limits": {OURS[b["resource"]]: b["limit"] for b in mine},
                    "usage": {
                        OURS[b["resource"]]: sum(r["used"] for r in b["regions"].values()) for b in mine
                    },
                    "regions": regions,
                    "partial": bool(silent),
                    "not_heard_from": silent,
                }
            }
        )

    def _trigger(self, request: Request) -> Response:
        self._admin(request)
        # The regions start every sync; they rebalance at their next one (at most rebalance_s away).
        return Response(f"triggered quota sync for {request.params['target']}")
