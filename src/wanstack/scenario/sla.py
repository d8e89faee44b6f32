"""Pass/fail criteria checked after a run, as Rally's `sla:` section does (rally/plugins/common/sla:
`max_seconds_per_iteration`, `max_avg_duration`, `failure_rate: {max: …}`), per operation and with
percentiles, since a WAN study cares about the tail: `sla: {boot: {p95_s: 5, failure_rate_pct: 1}}`."""

from __future__ import annotations

from pydantic import Field

from wanstack.scenario.infrastructure import StrictModel
from wanstack.scenario.units import Percent, Seconds

# Latency bounds of the criteria, in the order they are reported, and the figure each one bounds.
LATENCY_CRITERIA = {"mean_s": "mean", "p50_s": "p50", "p95_s": "p95", "p99_s": "p99", "max_s": "max"}


class Criteria(StrictModel):
    """Upper bounds for one operation (`*`: for each operation the run has). Latencies are of the
    operations that succeeded; the failure rate counts every submitted operation that did not succeed
    by the end of the run (failed, timed out or unfinished), as Rally counts a failed iteration."""

    mean_s: Seconds | None = Field(
        default=None, description="Mean latency at most (Rally's max_avg_duration)."
    )
    p50_s: Seconds | None = Field(default=None, description="Median latency at most.")
    p95_s: Seconds | None = Field(default=None, description="95th percentile latency at most.")
    p99_s: Seconds | None = Field(default=None, description="99th percentile latency at most.")
    max_s: Seconds | None = Field(
        default=None, description="Slowest at most (Rally's max_seconds_per_iteration)."
    )
    failure_rate_pct: Percent | None = Field(
        default=None, description="Share of submitted operations that did not succeed, at most (%)."
    )
