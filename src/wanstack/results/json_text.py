"""JSON as every parser reads it: Python's `json` writes NaN and infinities bare (`NaN`, `Infinity`),
which JSON does not have (RFC 8259 §6) and JavaScript's `JSON.parse` rejects; here they become null,
as pydantic's `model_dump_json` writes them (`ser_json_inf_nan="null"`)."""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every non-finite float, however deep in dicts, lists and tuples, as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def json_text(value: Any, **options: Any) -> str:
    """`json.dumps(value, **options)` with non-finite numbers as null (and refused if any were left)."""
    return json.dumps(finite(value), allow_nan=False, **options)
