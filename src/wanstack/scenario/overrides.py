"""Change a scenario's fields from outside its file: `{"links.delay_ms": 10}` in the Python API,
`--set links.delay_ms=0,10,25` in `wanstack sweep`. A key is a dotted path through the scenario's
mappings; where it meets a list it applies to every item (`quotas.projects.mode` sets every project's
mode), or to one when the part is its index (`links.0.delay_ms`).

`links.<field>` means every backbone link, written or generated: on a generated scenario it also sets the
generator's own field where it has one (a star's `delay_ms`) and `link_defaults.<field>`, which generated
links carry (bandwidth, jitter, loss)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from wanstack.scenario.errors import Problem, ScenarioError

# Short names for what studies sweep most, next to the fields themselves.
ALIASES = {"backend": "messaging.rpc", "rpc_backend": "messaging.rpc", "quota_mode": "quotas.projects.mode"}
# What generated links carry, set through `link_defaults` (scenario.infrastructure.LinkDefaults).
_LINK_DEFAULT_FIELDS = {"bandwidth_mbps", "jitter_ms", "loss_pct"}


def scalar(text: str) -> Any:
    """A value written on a command line, read as YAML reads it (`10` a number, `true` a flag)."""
    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text


class _OverrideError(Exception):
    def __init__(self, key: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.problem = Problem((), f"override {key}: {message}", hint)


def _set(node: Any, parts: list[str], value: Any, key: str) -> int:
    """Set the value at `parts` under `node`; how many places were set."""
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        if head.isdigit():
            if int(head) >= len(node):
                raise _OverrideError(key, f"no item {head}", f"the list has {len(node)}")
            return _set_item(node, int(head), rest, value, key)
        return sum(_set(item, parts, value, key) for item in node)
    if not isinstance(node, dict):
        raise _OverrideError(key, f"`{head}` is inside a value, not a mapping", "")
    if not rest:
        node[head] = value
        return 1
    if head not in node or node[head] is None:
        node[head] = {}
    return _set(node[head], rest, value, key)


def _set_item(node: list[Any], index: int, rest: list[str], value: Any, key: str) -> int:
    if not rest:
        node[index] = value
        return 1
    return _set(node[index], rest, value, key)


def _links(data: dict[str, Any], field: str, value: Any, key: str) -> int:
    count = _set(data["links"], [field], value, key) if data.get("links") else 0
    generator = data.get("generate")
    if isinstance(generator, dict):
        if field in generator or (field == "delay_ms" and generator.get("kind") == "star"):
            generator[field] = value
            count += 1
        if field in _LINK_DEFAULT_FIELDS:
            data.setdefault("link_defaults", {})[field] = value
            count += 1
    if not count:
        hint = "links carry delay_ms, reverse_delay_ms, jitter_ms, bandwidth_mbps and loss_pct"
        if isinstance(generator, dict) and field == "delay_ms":
            hint = "this generator sets delays its own way: see `generate:` in docs/scenario-reference.md"
        raise _OverrideError(key, f"no link carries `{field}` here", hint)
    return count


def apply(data: dict[str, Any], overrides: Mapping[str, Any], filename: str) -> dict[str, Any]:
    """`data` (a scenario mapping, changed in place) with every override set; raises ScenarioError."""
    try:
        for raw_key, value in overrides.items():
            _apply_one(data, raw_key, value)
    except _OverrideError as bad:
        raise ScenarioError(filename, [bad.problem]) from None
    return data


def _apply_one(data: dict[str, Any], raw_key: str, value: Any) -> None:
    key = ALIASES.get(raw_key, raw_key)
    parts = key.split(".")
    if not all(parts):
        raise _OverrideError(raw_key, "empty part in the key", "write a.b.c")
    if parts[0] == "links" and len(parts) == 2:  # links.<field>
        _links(data, parts[1], value, raw_key)
    else:
        _set(data, parts, value, raw_key)
