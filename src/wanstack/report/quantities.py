"""How a latency or a byte count reads in a table, terminal or HTML: one rule for every view."""

from __future__ import annotations


def ms(value: float | None, thousands: bool = False) -> str:
    """A latency in ms; in seconds from 10 s on; `thousands`: with separators (HTML tables)."""
    if value is None:
        return "–"
    sep = "," if thousands else ""
    return f"{value / 1000:{sep}.2f} s" if value >= 10_000 else f"{value:{sep}.1f} ms"


def nbytes(value: float | None) -> str:
    """Bytes in the largest unit that keeps the number at or above 1 (10³ steps, as links count)."""
    if value is None:
        return "–"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(value) >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} B"
