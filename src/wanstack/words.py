"""Counts as people write them: "1 region", "2 regions", "1,000 sites"."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun, singular for exactly one (`plural` when adding an s is wrong)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
