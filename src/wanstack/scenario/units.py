"""Quantities with units, as users write them in scenario files.

Every number in a scenario has one canonical unit (milliseconds, Mbit/s, MB, seconds, percent).
Users may also write the unit, EnOS-style ("25ms", "1gbit", "0.1%"), which these parsers
turn into the canonical number. Parsers raise ``ValueError`` with a message that names the
accepted units: pydantic turns it into a located error.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z%/]*)\s*$")

# Factors to the canonical unit of each kind of quantity.
_TIME_TO_MS = {"": 1.0, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "min": 60_000.0}
_TIME_TO_S = {k: v / 1000.0 for k, v in _TIME_TO_MS.items()} | {"": 1.0, "h": 3600.0}
# tc(8) rate units: bit, kbit, mbit, gbit, tbit are bits per second (also written kbit/s ...).
# tc's bps, kbps, mbps, gbps are *bytes* per second, which most people read as bits: "100Mbps" would
# silently mean 800 Mbit/s, so those (and byte sizes such as "100MB") are refused as ambiguous.
_RATE_TO_MBPS = {
    "": 1.0,
    "bit": 1e-6,
    "kbit": 1e-3,
    "mbit": 1.0,
    "gbit": 1e3,
    "tbit": 1e6,
    "bit/s": 1e-6,
    "kbit/s": 1e-3,
    "mbit/s": 1.0,
    "gbit/s": 1e3,
    "tbit/s": 1e6,
}
# Units where bits and bytes cannot be told apart (tc's byte rates, sizes, "Mb", "MB/s").
_AMBIGUOUS_RATE = re.compile(r"^([kmgt]?)(?:bps|b|b/s|bytes?|bytes?/s)$", re.IGNORECASE)
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


class UnitError(ValueError):
    """A quantity that cannot be read, with how to write it (the located problem's hint)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _parse(value: object, table: dict[str, float], what: str) -> object:
    if isinstance(value, bool) or not isinstance(value, str):
        return value  # numbers (and wrong types) go on to pydantic's own checks
    match = _NUMBER_WITH_UNIT.match(value)
    unit = match.group(2) if match else None
    if match is None or unit is None or unit.lower() not in {k.lower() for k in table}:
        units = ", ".join(sorted(k for k in table if k))
        raise UnitError(
            f"cannot read {value!r} as a {what}", f"write a number or a number with one of: {units}"
        )
    factor = next(v for k, v in table.items() if k.lower() == unit.lower())
    return float(match.group(1)) * factor


def _check_rate_unit(value: object) -> None:
    """Refuse a rate whose unit could be bits or bytes, naming both bit-explicit spellings."""
    if not isinstance(value, str) or (match := _NUMBER_WITH_UNIT.match(value)) is None:
        return
    number, unit = match.groups()
    ambiguous = _AMBIGUOUS_RATE.match(unit)
    if ambiguous is None:
        return
    prefix = ambiguous.group(1).lower()
    as_bytes = f"{float(number) * 8:g}"
    raise UnitError(
        f"cannot read {value!r} as a rate: {unit!r} is ambiguous (bits or bytes per second? "
        f"tc reads 'mbps' as megabytes)",
        f"write {number}{prefix}bit for {number} {prefix.upper()}bit/s, "
        f"or {as_bytes}{prefix}bit if you meant bytes",
    )


def parse_ms(value: object) -> object:
    return _parse(value, _TIME_TO_MS, "duration in ms")


def parse_seconds(value: object) -> object:
    return _parse(value, _TIME_TO_S, "duration in s")


def parse_mbps(value: object) -> object:
    _check_rate_unit(value)
    return _parse(value, _RATE_TO_MBPS, "rate in Mbit/s")


def parse_mb(value: object) -> object:
    return _parse(value, _SIZE_TO_MB, "size in MB")


def parse_percent(value: object) -> object:
    return _parse(value, {"": 1.0, "%": 1.0}, "percentage")


def _schema(units: dict[str, float], **bounds: float) -> WithJsonSchema:
    """What editors see: a number with standard JSON Schema bounds (`minimum`, `exclusiveMinimum`,
    `maximum`), or a number with a unit. pydantic writes its own `ge`/`gt` keywords when a bound
    meets a before-validated (number or string) input, and editors ignore those."""
    spelled = ", ".join(sorted(k for k in units if k))
    number: dict[str, object] = {"type": "number", **bounds}
    text = {"type": "string", "description": f"a number with a unit: {spelled}"}
    return WithJsonSchema({"anyOf": [number, text]})


Milliseconds = Annotated[float, BeforeValidator(parse_ms), Field(ge=0), _schema(_TIME_TO_MS, minimum=0)]
Seconds = Annotated[float, BeforeValidator(parse_seconds), Field(ge=0), _schema(_TIME_TO_S, minimum=0)]
MegabitsPerSecond = Annotated[
    float, BeforeValidator(parse_mbps), Field(gt=0), _schema(_RATE_TO_MBPS, exclusiveMinimum=0)
]
Megabytes = Annotated[float, BeforeValidator(parse_mb), Field(gt=0), _schema(_SIZE_TO_MB, exclusiveMinimum=0)]
Percent = Annotated[
    float,
    BeforeValidator(parse_percent),
    Field(ge=0, le=100),
    _schema({"": 1.0, "%": 1.0}, minimum=0, maximum=100),
]
