"""The scenario reference (docs/scenario-reference.md), written from the scenario's JSON Schema (the
pydantic models): every object with each field's type, default, constraints and description, every
choice list with its values. `wanstack schema --markdown` prints it; a test keeps the committed page up
to date."""

from __future__ import annotations

import json
from typing import Any

from wanstack.scenario.schema import Scenario

ROOT = "Scenario"
CONSTRAINTS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("multipleOf", "multiple of {}"),
    ("minLength", "length ≥ {}"),
    ("maxLength", "length ≤ {}"),
    ("pattern", "matches `{}`"),
    ("minItems", "≥ {} items"),
    ("maxItems", "≤ {} items"),
    ("uniqueItems", "unique items"),
)
DEFAULT_WIDTH = 60  # longer defaults are cut (the object's own section holds its fields' defaults)


# pydantic writes a bound it cannot attach to a number (a number-or-string quantity such as `hold_s`)
# as its own `ge`/`gt`/`le`/`lt`; JSON Schema (draft 2020-12, the `$schema` emitted) names them so.
_RANGE_KEYWORDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def standard_ranges(node: object, bounds: dict[str, object] | None = None) -> Any:
    """The schema with pydantic's range keywords turned into JSON Schema's, each moved onto the number
    branches of the alternatives it was written beside (a string such as "5ms" has no minimum)."""
    if isinstance(node, list):
        return [standard_ranges(item, bounds) for item in node]
    if not isinstance(node, dict):
        return node
    own = {_RANGE_KEYWORDS[k]: v for k, v in node.items() if k in _RANGE_KEYWORDS}
    inherited = {**(bounds or {}), **own}
    out = {
        k: standard_ranges(v, inherited if k in ("anyOf", "oneOf") else None)
        for k, v in node.items()
        if k not in _RANGE_KEYWORDS
    }
    if node.get("type") in ("number", "integer"):
        out.update(inherited)
    elif own and not any(k in node for k in ("anyOf", "oneOf")):
        out.update(own)  # a bound on something else: keep it, under the standard name
    return out


def json_schema_document(schema: dict[str, Any], title: str) -> dict[str, Any]:
    """A pydantic model's schema as a JSON Schema document (draft 2020-12, its range keywords)."""
    document: dict[str, Any] = standard_ranges(schema)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = title
    return document


def json_schema() -> dict[str, Any]:
    """The scenario file's JSON Schema, as `wanstack schema` prints it."""
    return json_schema_document(Scenario.model_json_schema(by_alias=True), "wanstack scenario")


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _link(name: str) -> str:
    return f"[{name}](#{name.lower()})"


def _type(schema: dict[str, Any]) -> str:
    """A field's type in words, objects and choice lists linked to their sections."""
    name = _ref(schema)
    if name is not None:
        return _link(name)
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [_type(s) for s in schema[key]]
            return " or ".join(dict.fromkeys(parts))
    kind = schema.get("type")
    if kind == "array":
        if "prefixItems" in schema:
            return "[" + ", ".join(_type(s) for s in schema["prefixItems"]) + "]"
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, dict) and values:
            keys = schema.get("propertyNames")
            return f"map of {_type(keys) if keys else 'string'} to {_type(values)}"
        return "object"
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind) if kind else "any"


def _constraints(schema: dict[str, Any]) -> list[str]:
    """Every bound on a value, those of each alternative and of a list's items included."""
    out = [text.format(schema[key]) for key, text in CONSTRAINTS if key in schema]
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key, []):
            out += _constraints(sub)
    if isinstance(schema.get("items"), dict):
        out += [f"items {c}" for c in _constraints(schema["items"])]
    return list(dict.fromkeys(out))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(field: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if "default" not in field:
        return "optional"  # made by a factory: an empty list or map, or the object's own defaults
    text = json.dumps(field["default"], ensure_ascii=False)
    if len(text) > DEFAULT_WIDTH:
        text = text[: DEFAULT_WIDTH - 1] + "…"
    return f"`{text}`"


def _refs(schema: Any) -> list[str]:
    """The objects `schema` refers to, in the order it names them."""
    if isinstance(schema, dict):
        found = [name] if (name := _ref(schema)) else []
        for value in schema.values():
            found += _refs(value)
        return found
    if isinstance(schema, list):
        return [name for item in schema for name in _refs(item)]
    return []


def _object(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"## {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    if "enum" in schema:
        lines += ["One of:", ""] + [f"- `{json.dumps(v)}`" for v in schema["enum"]] + [""]
        return lines
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return [*lines, f"Type: {_type(schema)}", ""]
    required = set(schema.get("required", []))
    lines += ["| field | type | default | constraints | description |", "|---|---|---|---|---|"]
    for field, spec in properties.items():
        cells = (
            f"`{field}`",
            _type(spec),
            _default(spec, field in required),
            "; ".join(_constraints(spec)),
            spec.get("description", ""),
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if schema.get("additionalProperties") is False:
        lines += ["", "No other field is accepted."]
    return [*lines, ""]


def markdown() -> str:
    """The reference page: the scenario file's top level first, then every object in the order the
    page first names it."""
    document = json_schema()
    defs: dict[str, Any] = document.get("$defs", {})
    order: list[str] = []
    pending = _refs({k: v for k, v in document.items() if k != "$defs"})
    while pending:
        name = pending.pop(0)
        if name not in order and name in defs:
            order.append(name)
            pending += _refs(defs[name])
    order += sorted(set(defs) - set(order))
    lines = [
        "# Scenario file reference",
        "",
        "<!-- Generated from the scenario's pydantic models by `wanstack schema --markdown --out "
        "docs/scenario-reference.md`; do not edit by hand (tests/test_reference.py checks it). -->",
        "",
        "Every field a scenario file (YAML) may hold: its type, default, constraints and meaning. "
        "Durations, rates and sizes accept units where their description says so. "
        "`wanstack schema` prints the same as a JSON Schema (for editor completion); "
        "`wanstack validate FILE` checks a file and reports every problem in one pass, each as "
        "`file:line:col: field: what is wrong (hint: how to fix)`; a check that depends on a wrongly "
        "written value (a link to a site whose tier is wrong) waits until it is fixed. "
        "YAML anchors, aliases and merge keys (`<<: *anchor`, `<<: [*a, *b]`; keys written in the "
        "mapping win, then the first merged one) are read, and a value that came through one is "
        "located where it was written.",
        "",
        "Objects: " + ", ".join(_link(n) for n in [ROOT, *order]),
        "",
    ]
    root = dict(document, description=document.get("description", ""))
    lines += _object(ROOT, root)
    for name in order:
        lines += _object(name, defs[name])
    return "\n".join(lines).rstrip() + "\n"
