"""An operation's workflow read step by step at a site: the sites each step runs between and the
one-way WAN crossings it costs (`wanstack explain`, `wanstack.api.explain`). Nothing is run to get it:
it is counted from the deployment model's placement of every role."""

from __future__ import annotations

from pydantic import Field

from wanstack.results.schema import Record


class StepCrossings(Record):
    step: str  # the step's description, nested steps indented
    sites: str  # "from → to", or empty when the step crosses no link
    crossings: int  # one-way WAN crossings of the step itself


class StationTime(Record):
    kind: str  # the station kind (a service at a site)
    service_ms: float  # per request or message
    workers: int
    source: str  # where the figure comes from: measured (where, when), the scenario's, or assumed


class WorkflowCrossings(Record):
    operation: str
    site: str
    model: str
    rpc: str  # the RPC backend of the site's region
    servers_on_host: int  # the operation's own included
    critical_crossings: int  # on the critical path, until the client sees the operation done
    steps: list[StepCrossings]
    # The service times of the stations the workflow visits, and where each comes from.
    stations: list[StationTime] = Field(default_factory=list)
