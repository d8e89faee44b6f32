"""A sweep's points: every combination of the values given per field, times the seeds."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wanstack.scenario.load import Source
from wanstack.scenario.overrides import scalar


@dataclass(frozen=True)
class Point:
    """One run of the sweep: the fields it sets, as the user named them, and its seed."""

    values: tuple[tuple[str, Any], ...]
    seed: int

    @property
    def overrides(self) -> dict[str, Any]:
        return {**dict(self.values), "run.seed": self.seed}

    def key(self, source: Source, settings: str = "") -> str:
        """Names this run across restarts (a resumed sweep skips the keys it has); `settings` names the
        simulator's parameters when they are not its defaults (a calibration's), so that a sweep resumed
        with other ones runs again."""
        named = [source.digest, list(self.values), self.seed, *([settings] if settings else [])]
        return json.dumps(named, default=str)


def parse_set(option: str) -> tuple[str, list[Any]]:
    """`links.delay_ms=0,10,25` → ("links.delay_ms", [0, 10, 25]); raises ValueError."""
    field, sep, values = option.partition("=")
    if not sep or not field.strip() or not values.strip():
        raise ValueError(f"--set {option!r}: write FIELD=VALUE[,VALUE...], e.g. links.delay_ms=0,10,25")
    return field.strip(), [scalar(v.strip()) for v in values.split(",")]


def points(grid: Mapping[str, Sequence[Any]], seeds: Sequence[int]) -> list[Point]:
    """Every combination, in the order the fields were given (the last changes fastest), seeds inside."""
    names = list(grid)
    return [
        Point(tuple(zip(names, combo, strict=True)), seed)
        for combo in itertools.product(*(grid[n] for n in names))
        for seed in seeds
    ]
