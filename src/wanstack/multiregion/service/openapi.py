"""OpenAPI 3.0 descriptions of the quota service's two APIs, served at `GET /openapi.json` (no token) by the
coordinator and by each region, and fuzzed in the suite (`tests/test_quota_openapi.py`, schemathesis).
The bounds are `bounds.py`'s; the body caps are `http.py`'s."""

from __future__ import annotations

from typing import Any

from wanstack.multiregion.service.bounds import MAX_AMOUNT, MAX_COUNTER, MAX_LIMIT, MAX_NAME, MAX_USAGE

JSON = "application/json"
ERROR = {
    "description": "refused: `error.message` says why",
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
                        "required": ["code", "message"],
                    }
                },
                "required": ["error"],
            }
        }
    },
}
NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "^[^/?#]+$"}
TOKEN: list[dict[str, list[str]]] = [{"keystone": []}]


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): ERROR for code in codes}


def _ok(description: str, schema: dict[str, Any] | None = None, status: str = "200") -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {JSON: {"schema": schema}}
    return {status: answer}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": NAME}


def _document(title: str, paths: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0"},
        "components": {
            "securitySchemes": {
                "keystone": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
            }
        },
        "security": TOKEN,
        "paths": {
            "/": {"get": {"security": [], "responses": _ok("the service's name")}},
            "/openapi.json": {"get": {"security": [], "responses": _ok("this document")}},
            **paths,
        },
    }


AMOUNT = {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT}
CLAIM = {
    "type": "object",
    "properties": {
        "project": NAME,
        "resources": {
            "type": "object",
            "properties": {"instances": AMOUNT, "cores": AMOUNT, "ram_mb": AMOUNT},
            "additionalProperties": False,
            "minProperties": 1,
        },
    },
    "required": ["project", "resources"],
}
CLAIM_ID = {"name": "claim_id", "in": "path", "required": True, "schema": NAME}


def region() -> dict[str, Any]:
    """The region's API (`region.py`)."""
    return _document(
        "wanstack quota service: a region",
        {
            "/v1/claims": {
                "post": {
                    "summary": "claim resources for a project against the region's shares",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        }
                    ],
                    "requestBody": _body(CLAIM),
                    "responses": {
                        **_ok("the claim (again, for a key used before)", {"type": "object"}, "201"),
                        **_errors(400, 401, 403, 409, 413, 422),
                    },
                },
                "get": {
                    "summary": "a project's live claims",
                    "parameters": [{"name": "project", "in": "query", "required": False, "schema": NAME}],
                    "responses": {**_ok("the claims", {"type": "object"}), **_errors(400, 401, 403)},
                },
            },
            "/v1/claims/{claim_id}": {
                "delete": {
                    "summary": "release a claim",
                    "parameters": [CLAIM_ID],
                    "responses": {**_ok("released", None, "204"), **_errors(401, 403, 404)},
                }
            },
            "/v1/claims/{claim_id}/confirm": {
                "post": {
                    "summary": "the claim's server exists: never released by expiry",
                    "parameters": [CLAIM_ID],
                    "responses": {**_ok("the claim", {"type": "object"}), **_errors(401, 403, 404)},
                }
            },
            "/v1/shares": {
                "get": {
                    "summary": "what the region holds and uses (administrators)",
                    "responses": {**_ok("the shares", {"type": "object"}), **_errors(401, 403)},
                }
            },
        },
    )


LIMIT = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
QUOTA_SET = {
    "type": "object",
    "properties": {
        "quota_set": {
            "type": "object",
            "properties": {"instances": LIMIT, "cores": LIMIT, "ram": LIMIT},
            "additionalProperties": False,
            "minProperties": 1,
        }
    },
    "required": ["quota_set"],
}
ROW = {
    "type": "object",
    "properties": {
        "project": NAME,
        "resource": {"type": "string", "enum": ["instances", "cores", "ram_mb"]},
        "share": {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT, "nullable": True},
        "used": {"type": "integer", "minimum": 0, "maximum": MAX_USAGE},
        "applied_seq": {"type": "integer", "minimum": 0, "maximum": MAX_COUNTER},
    },
    "required": ["project", "resource", "share", "used", "applied_seq"],
}
SYNC = {
    "type": "object",
    "properties": {
        "region": NAME,
        "sync_no": {"type": "integer", "minimum": 1, "maximum": MAX_COUNTER},
        "rows": {"type": "array", "items": ROW},
    },
    "required": ["region", "sync_no", "rows"],
}


def coordinator() -> dict[str, Any]:
    """The coordinator's API (`coordinator.py`): Kingbird's quota sets, the regions' syncs, the books."""
    params = [_path("project_id"), _path("target")]
    base = "/v1.0/{project_id}/os-quota-sets/{target}"
    quota = {"type": "object"}
    return _document(
        "wanstack quota service: the coordinator (Kingbird's quota-set API)",
        {
            base: {
                "parameters": params,
                "get": {"responses": {**_ok("the limits", quota), **_errors(401, 403)}},
                "put": {
                    "requestBody": _body(QUOTA_SET),
                    "responses": {**_ok("the limits set", quota), **_errors(400, 401, 403, 413)},
                },
                "delete": {
                    "requestBody": _body(
                        {
                            "type": "object",
                            "properties": {
                                "quota_set": {
                                    "type": "array",
                                    "items": {"type": "string", "enum": ["instances", "cores", "ram"]},
                                }
                            },
                        },
                        required=False,
                    ),
                    "responses": {**_ok("deleted", {}), **_errors(400, 401, 403)},
                },
            },
            base + "/detail": {
                "parameters": params,
                "get": {"responses": {**_ok("limits and usage per region", quota), **_errors(401, 403)}},
            },
            base + "/sync": {
                "parameters": params,
                "put": {"responses": {**_ok("a sync triggered", {}), **_errors(401, 403)}},
            },
            "/v1/sync": {
                "post": {
                    "summary": "a region's sync, from the region's own service user",
                    "requestBody": _body(SYNC),
                    "responses": {
                        **_ok("the instructions", {"type": "object"}),
                        **_errors(400, 401, 403, 413),
                    },
                }
            },
            "/v1/books": {
                "get": {"responses": {**_ok("every book", {"type": "object"}), **_errors(401, 403)}},
            },
        },
    )
