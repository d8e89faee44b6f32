"""What a simulated run will cost before it runs: its events, estimated from the scenario, so that a
run nobody would wait for (a duration of 10^15 s, a million hosts simulated one by one for a day) is
refused with the estimate instead of running silently, its memory growing.

The estimate counts the two sources of events: the background's periodic senders (every host, or with
the fluid background every site with hosts) over the run, and the workload's operations. Its rates
were measured here on the default scenario (2026-12-07: 274,542 events for 104 hosts over 1,800 s
without a workload, 1.47 events per sender-second; 33,450 more for its 210 operations, 160 each) and
agree within a factor of two with `benchmarks/scale.py` (1,000 sites in fluid mode, 3,600 s, 1,000
boots: 3.29 M events, estimated 5.6 M). It is an order of magnitude, said as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from wanstack.scenario.build import Infrastructure
from wanstack.sim.engine import FLUID_ABOVE_HOSTS

EVENTS_PER_SENDER_S = 1.5
EVENTS_PER_OPERATION = 160.0
# What this machine's simulator gets through (benchmarks/scale.py: 3.29 M events in 13.4 s).
EVENTS_PER_S = 250_000.0
# Above this a run takes over half an hour here: refused unless forced.
MOST_EVENTS = 5e8


@dataclass(frozen=True)
class RunCost:
    """A run's estimated events and how long this machine would take to simulate them."""

    events: float

    @property
    def seconds(self) -> float:
        return self.events / EVENTS_PER_S

    @property
    def absurd(self) -> bool:
        return self.events > MOST_EVENTS

    def said(self) -> str:
        """The estimate for a person: events and computing time, rounded as the estimate deserves."""
        s = self.seconds
        took = (
            f"{s / 3.15e7:,.0f} years"
            if s > 3.15e7
            else f"{s / 86_400:,.0f} days"
            if s > 86_400
            else f"{s / 3600:,.1f} hours"
        )
        return f"about {self.events:.1e} events, {took} of computing at {EVENTS_PER_S:,.0f} events/s"


def run_cost(infra: Infrastructure, fluid: bool | None = None) -> RunCost:
    """The estimated cost of simulating `infra` (`fluid` as `SimOptions.fluid_background`)."""
    scenario = infra.scenario
    hosts = sum(site.host_count for site in infra.sites.values())
    senders = 0.0
    if scenario.background.enabled:
        grouped = hosts > FLUID_ABOVE_HOSTS if fluid is None else fluid
        senders = sum(1 for s in infra.sites.values() if s.host_count) if grouped else hosts
    duration = scenario.run.duration_s
    # An operation given as a Poisson rate runs from its start to the end of the run.
    operations = sum(
        o.times if o.times is not None else (o.rate_per_s or 0.0) * duration
        for o in scenario.workload.operations
    )
    return RunCost(senders * duration * EVENTS_PER_SENDER_S + operations * EVENTS_PER_OPERATION)
