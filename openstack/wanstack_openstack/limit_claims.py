"""The baseline of the quota bench: claims checked by oslo.limit as nova-api and the conductor check
them with unified limits (nova/limit/placement.py `enforce_num_instances_and_resources`):

- nova-api builds a new `oslo_limit.limit.Enforcer` for the request and enforces the server's deltas
  (`servers`, `class:VCPU`, `class:MEMORY_MB`) against the usage it counts locally;
- the server is created (here: the region's usage counter goes up);
- the conductor's recheck (`[quota] recheck_quota`, default True) builds another Enforcer and
  enforces zero deltas; over the limit, the server is undone (nova: ERROR, artifacts cleaned up).

Each Enforcer asks Keystone for the limits model, its endpoint and the project's limits (round
trips to Keystone, sequential, no cache across requests). Served by `wanstack_openstack.serve`
(WANSTACK_WSGI_APP=wanstack_openstack.limit_claims:application) with WANSTACK_LIMIT_CONFIG naming a
file with its `[oslo_limit]` section. The caller's token is not checked here (keystonemiddleware
would, from its cache).

    POST /v1/claims {"project": P, "resources": {"instances": 1, "cores": 2, "ram_mb": 512}}
    DELETE /v1/claims/{id}
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from typing import Any

from oslo_config import cfg
from oslo_limit import exception, limit, opts

# wanstack's names → nova's unified-limits resource names (nova/limit/placement.py).
NOVA_NAMES = {"instances": "servers", "cores": "class:VCPU", "ram_mb": "class:MEMORY_MB"}

_usage: dict[str, Counter[str]] = {}
_claims: dict[str, tuple[str, dict[str, int]]] = {}
_lock = threading.Lock()


def _configure() -> None:
    cfg.CONF(args=[], project="wanstack-limit", default_config_files=[os.environ["WANSTACK_LIMIT_CONFIG"]])
    opts.register_opts(cfg.CONF)  # again, now that auth_type is known: the password plugin's options


def _usage_of(project_id: str, resource_names: list[str]) -> dict[str, int]:
    with _lock:
        counted = _usage.get(project_id, Counter())
        return {name: counted[name] for name in resource_names}


def _enforce(project: str, deltas: dict[str, int]) -> None:
    limit.Enforcer(_usage_of).enforce(project, deltas)


def _answer(start_response: Any, status: str, body: Any) -> list[bytes]:
    payload = json.dumps(body).encode() if body is not None else b""
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _claim(body: dict[str, Any], start_response: Any) -> list[bytes]:
    project = body["project"]
    deltas = {NOVA_NAMES[k]: int(v) for k, v in body["resources"].items() if v}
    t0 = time.perf_counter()
    try:
        _enforce(project, deltas)
        checked = time.perf_counter()
        with _lock:
            _usage.setdefault(project, Counter()).update(deltas)
        try:
            _enforce(project, dict.fromkeys(deltas, 0))
        except exception.ProjectOverLimit:
            with _lock:
                _usage[project].subtract(deltas)
            raise
    except exception.ProjectOverLimit as err:
        return _answer(start_response, "403 Forbidden", {"error": {"code": 403, "message": str(err)}})
    except Exception as err:  # Keystone out of reach: keystoneauth's errors propagate (fail closed)
        message = f"{type(err).__name__}: {err}"
        return _answer(
            start_response, "503 Service Unavailable", {"error": {"code": 503, "message": message}}
        )
    claim_id = str(uuid.uuid4())
    with _lock:
        _claims[claim_id] = (project, deltas)
    timing = {"check_ms": (checked - t0) * 1000, "recheck_ms": (time.perf_counter() - checked) * 1000}
    return _answer(start_response, "201 Created", {"claim": {"id": claim_id, **timing}})


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
    if method == "GET" and path == "/":
        return _answer(start_response, "200 OK", {"service": "oslo.limit claims"})
    if method == "POST" and path == "/v1/claims":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return _claim(json.loads(environ["wsgi.input"].read(length)), start_response)
    if method == "DELETE" and path.startswith("/v1/claims/"):
        with _lock:
            found = _claims.pop(path.rsplit("/", 1)[1], None)
            if found is not None:
                _usage[found[0]].subtract(found[1])
        return _answer(start_response, "204 No Content" if found else "404 Not Found", None)
    return _answer(start_response, "404 Not Found", {"error": {"code": 404, "message": path}})


_configure()
