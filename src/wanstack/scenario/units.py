"""Quantities with units, as users write them in scenario files.

Every number in a scenario has one canonical unit (milliseconds, Mbit/s, MB, seconds, percent).
Users may also write the unit, EnOS-style ("25ms", "1gbit", "0.1%"), which these parsers
turn into the canonical number. Parsers raise ``ValueError`` with a message that names the
accepted units: pydantic turns it into a located error.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z%/]*)\s*$")

# Factors to the canonical unit of each kind of quantity.
_TIME_TO_MS = {"": 1.0, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "min": 60_000.0}
_TIME_TO_S = {k: v / 1000.0 for k, v in _TIME_TO_MS.items()} | {"": 1.0, "h": 3600.0}
# tc(8) rate units: bit, kbit, mbit, gbit are bits per second; bps, kbps, mbps, gbps are *bytes* per
# second in tc's own convention — we follow tc because EnOS hands these strings to tc.
_RATE_TO_MBPS = {
    "": 1.0,
    "bit": 1e-6,
    "kbit": 1e-3,
    "mbit": 1.0,
    "gbit": 1e3,
    "tbit": 1e6,
    "bps": 8e-6,
    "kbps": 8e-3,
    "mbps": 8.0,
    "gbps": 8e3,
}
_SIZE_TO_MB = {
    "": 1.0,
    "b": 1e-6,
    "kb": 1e-3,
    "mb": 1.0,
    "gb": 1e3,
    "kib": 1024 / 1e6,
    "mib": 1.048576,
    "gib": 1073.741824,
}


def _parse(value: object, table: dict[str, float], what: str) -> object:
    if isinstance(value, bool) or not isinstance(value, str):
        return value  # numbers (and wrong types) go on to pydantic's own checks
    match = _NUMBER_WITH_UNIT.match(value)
    unit = match.group(2) if match else None
    if match is None or unit is None or unit.lower() not in {k.lower() for k in table}:
        units = ", ".join(sorted(k for k in table if k))
        raise ValueError(
            f"cannot read {value!r} as a {what}; write a number or a number with one of: {units}"
        )
    factor = next(v for k, v in table.items() if k.lower() == unit.lower())
    return float(match.group(1)) * factor


def parse_ms(value: object) -> object:
    return _parse(value, _TIME_TO_MS, "duration in ms")


def parse_seconds(value: object) -> object:
    return _parse(value, _TIME_TO_S, "duration in s")


def parse_mbps(value: object) -> object:
    return _parse(value, _RATE_TO_MBPS, "rate in Mbit/s")


def parse_mb(value: object) -> object:
    return _parse(value, _SIZE_TO_MB, "size in MB")


def parse_percent(value: object) -> object:
    return _parse(value, {"": 1.0, "%": 1.0}, "percentage")


Milliseconds = Annotated[float, BeforeValidator(parse_ms, json_schema_input_type=float | str), Field(ge=0)]
Seconds = Annotated[float, BeforeValidator(parse_seconds, json_schema_input_type=float | str), Field(ge=0)]
MegabitsPerSecond = Annotated[
    float, BeforeValidator(parse_mbps, json_schema_input_type=float | str), Field(gt=0)
]
Megabytes = Annotated[float, BeforeValidator(parse_mb, json_schema_input_type=float | str), Field(gt=0)]
Percent = Annotated[
    float, BeforeValidator(parse_percent, json_schema_input_type=float | str), Field(ge=0, le=100)
]
