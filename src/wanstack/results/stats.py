"""Latency statistics with numpy (vectorised, exact percentiles)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from wanstack.results.schema import LatencyStats


def latency_stats(samples: Sequence[float]) -> LatencyStats:
    if not samples:
        return LatencyStats(count=0)
    values = np.asarray(samples, dtype=float)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return LatencyStats(
        count=len(values),
        mean=float(values.mean()),
        p50=float(p50),
        p95=float(p95),
        p99=float(p99),
        max=float(values.max()),
    )
