"""What a run reports. The simulator and the real bench both write this schema, so their files can be
compared field by field (`wanstack compare-results`). Times are in milliseconds unless named `_s`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LatencyStats(Record):
    count: int
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None


class OperationResult(Record):
    op: str
    submitted: int
    succeeded: int
    failed: int
    timed_out: int
    latency_ms: LatencyStats = Field(description="Of succeeded operations.")
    wan_bytes_per_op: float | None = Field(default=None, description="WAN bytes while it ran, per success.")
    rate_per_s: float | None = Field(
        default=None, description="Successes per second while it ran (messaging test cases: msgs/s)."
    )
    failure_reasons: dict[str, int] = Field(default_factory=dict)


class LinkTraffic(Record):
    a: str
    b: str
    messages_ab: float
    messages_ba: float
    bytes_ab: float
    bytes_ba: float
    bulk_bytes_ab: float
    bulk_bytes_ba: float
    bandwidth_mbps: float
    mean_utilisation: float = Field(description="Busiest direction's bytes over capacity × run time.")


class SiteTraffic(Record):
    site: str
    wan_bytes_out: float
    wan_bytes_in: float
    local_bytes: float


class StationStats(Record):
    kind: str
    site: str
    workers: int
    service_ms: float
    jobs: int
    utilisation: float
    mean_queue: float | None = Field(description="None where the engine cannot see the queue (bench).")
    max_queue: int | None
    connections: int | None = None
    memory_mb: float | None = Field(default=None, description="Resident memory at the end (bench).")


class Outage(Record):
    site: str
    service: str
    hosts: int
    down_at_s: float = Field(description="When the servicegroup starts seeing it down.")
    up_at_s: float | None = Field(default=None, description="When it reported again (None: still down).")


class FaultImpact(Record):
    fault: str
    start_s: float
    end_s: float | None
    isolated_sites: list[str] = Field(description="Sites partitioned from the top site during the fault.")
    boots_ok: dict[str, int] = Field(default_factory=dict, description="Successful boots per site during it.")
    boots_failed: dict[str, int] = Field(default_factory=dict)
    sites_still_booting: list[str] = Field(
        default_factory=list, description="Isolated sites where boots still succeeded during the fault."
    )


class QuotaStats(Record):
    """One project's limit on one resource across every region, as its mode held it in the run. Every
    figure is taken at each claim, release and refusal, the same way for every mode
    (`wanstack.sim.quota_tally` defines them)."""

    project: str
    resource: str
    mode: str
    limit: int
    claims: int = Field(default=0, description="Claims decided by this resource's ledger.")
    refused: int = Field(
        default=0,
        description="Claims this ledger refused, and grants given back and refused after all "
        "(unified-limits' recheck with Keystone out of reach).",
    )
    refused_with_headroom: int = Field(
        default=0, description="Refused claims the global limit had room for (usage + the claim ≤ the limit)."
    )
    peak_usage: int = 0
    over_commit_peak: int = Field(
        default=0, description="The most the total usage went over the limit, taken at every change of usage."
    )
    over_limit_unit_s: float = Field(default=0.0, description="Usage above the limit, integrated over time.")
    stranded_peak: int = Field(
        default=0,
        description="Most global headroom (limit − usage) left while a holder's latest claim had been "
        "refused with room: headroom out of reach of a holder that asked for it, wherever it was held.",
    )
    stranded_unit_s: float = Field(default=0.0, description="Stranded headroom, integrated over time.")
    claim_round_trips: int = Field(default=0, description="Round trips to the top site per claim.")
    # One claim covers every resource of its project: each of the project's rows shows the same.
    claim_ms_count: int = Field(default=0, description="Claims decided (granted or refused), timed below.")
    claim_ms_p50: float | None = Field(
        default=None, description="From the boot's quota step to the claim's decision, median."
    )
    claim_ms_p95: float | None = Field(default=None, description="The same, 95th percentile.")
    granted_claim_ms_p50: float | None = Field(
        default=None, description="Granted claims only: what a claim adds to a boot that goes ahead, median."
    )
    refused_claim_ms_p50: float | None = Field(default=None, description="Refused claims only, median.")


class InventoryRow(Record):
    """A site's servers as the global view saw them at the end of the run (`multiregion.inventory`)."""

    region: str
    site: str
    source: str = Field(description="live, last known (as of `as_of_s`), or unreachable (never answered).")
    as_of_s: float | None = None
    instances: int | None = None
    vcpus: int | None = None
    instances_low: int = 0
    instances_high: int = 0
    vcpus_low: int = 0
    vcpus_high: int = 0
    ram_mb: int | None = Field(default=None, description="RAM of its servers, MB (None: never answered).")
    ram_mb_low: int = 0
    ram_mb_high: int = Field(default=0, description="At most: all its hosts' RAM, where it does not answer.")


class Samples(Record):
    """Every finished operation of the run, one list per column: a table kept in columns, so 100,000
    operations stay cheap. Written to samples.csv (samples.parquet for large runs), not result.json."""

    op: list[str] = Field(default_factory=list)
    site: list[str] = Field(default_factory=list, description="Where the user asked.")
    start_s: list[float] = Field(default_factory=list, description="When it was asked, s from the start.")
    latency_ms: list[float] = Field(
        default_factory=list, description="Until it succeeded, failed or timed out, ms."
    )
    outcome: list[str] = Field(default_factory=list, description="ok, failed or timeout.")

    def __len__(self) -> int:
        return len(self.op)


class SlaCheck(Record):
    """One criterion of the scenario's `sla:` block, after the run."""

    op: str
    criterion: str = Field(description="p95_s, failure_rate_pct, … (`submitted`: the run had none).")
    limit: float | None
    value: float | None = Field(description="What the run measured (None: nothing succeeded to time).")
    passed: bool


class TimeSeries(Record):
    resolution_s: float
    t_s: list[float] = Field(default_factory=list)
    series: dict[str, list[float]] = Field(default_factory=dict)


class RunResult(Record):
    engine: str = Field(description="'sim' or 'bench'.")
    scenario: str
    model: str
    rpc_backend: str
    notification_backend: str
    seed: int
    duration_s: float
    wall_time_s: float | None = Field(
        default=None, description="Computer time of the run; kept out of result.json (it goes to run.json)."
    )
    events: int | None = None
    operations: list[OperationResult] = Field(default_factory=list)
    links: list[LinkTraffic] = Field(default_factory=list)
    sites: list[SiteTraffic] = Field(default_factory=list)
    stations: list[StationStats] = Field(default_factory=list)
    outages: list[Outage] = Field(default_factory=list)
    faults: list[FaultImpact] = Field(default_factory=list)
    quotas: list[QuotaStats] = Field(default_factory=list)
    inventory: list[InventoryRow] = Field(default_factory=list)
    timeseries: TimeSeries | None = None
    totals: dict[str, float] = Field(default_factory=dict)
    sla: list[SlaCheck] = Field(default_factory=list, description="The scenario's `sla:` criteria, checked.")
    samples: Samples | None = Field(
        default=None, description="Every operation's latency; kept out of result.json (samples.csv/.parquet)."
    )

    def variant(self) -> list[str]:
        """Which of `compare`'s runs this is: model, RPC backend and (with quotas) the first project's
        mode; joined, it names the run's result folder and its label in tables and reports."""
        return [self.model, self.rpc_backend, *([self.quotas[0].mode] if self.quotas else [])]

    @property
    def sla_passed(self) -> bool:
        return all(c.passed for c in self.sla)

    def operation(self, op: str) -> OperationResult | None:
        return next((o for o in self.operations if o.op == op), None)
