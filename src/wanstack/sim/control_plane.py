"""A control-plane calibration (`wanstack testbed calibrate`): the OpenStack services' processing time
per request, as the testbed's real services took it, for the simulator's stations.

Where the numbers come from, kept in the file beside them:
- `traced_ms`: each station kind's mean own time per request on the critical paths of traced
  operations (`testbed.processing`: a server span less the exchanges it waited on; its SQL on its
  site's database is in it);
- `level_factor`: traced runs are slower than untraced ones (osprofiler writes every span and SQL
  statement to Redis), and the simulator counts the database round trips apart (`Db` steps), so the
  traced split is scaled by one factor, fitted so that the simulator running the calibration run's
  scenario gives the testbed's p50 of each operation of that run (`level`) as closely as one factor can;
- `service_ms` = `traced_ms` × `level_factor`: what the simulator's station of that kind takes.

Only the service times are taken. The stations' worker counts stay the simulator's (a production
server's, `sim.params.DEFAULT_STATIONS`); the file's `production` says what is assumed of a production
server's processing against the machine measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from wanstack.scenario.schema import StationSize
from wanstack.sim.params import Params

CONTROL_PLANE: Literal["control-plane"] = "control-plane"
# Said in every file unless the fit is given another statement.
PRODUCTION = (
    "A production server is assumed to process one request in the time measured here: the same Python "
    "code on one core (the testbed's machine, a 2-core VM, runs each service with one worker; the "
    "simulator's worker counts are a production server's). Faster cores would scale every service_ms "
    "down alike."
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StationTime(_Model):
    """One station kind's processing per request: what the simulator takes, and where it comes from."""

    service_ms: float = Field(gt=0)
    traced_ms: float = Field(gt=0)  # mean own time per request on the traced critical paths
    requests: int = Field(ge=1)  # how many requests that mean is over
    operations: list[str]  # the traced operations they were in


class TraceSource(_Model):
    """One traced operation the split was taken from."""

    operation: str
    site: str
    source: str  # the file (or "testbed <folder>" for a fresh trace)


class LevelPoint(_Model):
    """One operation of the calibration run: the testbed's p50 and, after the fit, the simulator's."""

    operation: str
    delay_ms: float  # the one-way delay of the run's WAN links
    testbed_p50_ms: float
    simulated_p50_ms: float

    @property
    def error(self) -> float:
        """The simulator's p50 against the testbed's, as a fraction (+0.05: 5 % slower)."""
        return self.simulated_p50_ms / self.testbed_p50_ms - 1.0


class ControlPlaneCalibration(_Model):
    """A control-plane calibration file: station service times measured on a testbed."""

    schema_version: Literal[3] = 3
    kind: Literal["control-plane"] = "control-plane"
    written_by: str = "wanstack testbed calibrate"
    date: str  # when the level run was measured (ISO 8601)
    host: str  # the machine's name
    cores: int
    settings: dict[str, str]  # the testbed's `openstack:` settings the traces ran with (virt, neutron)
    traces: list[TraceSource]
    level: list[LevelPoint]
    level_source: str  # the calibration run's file
    level_factor: float = Field(gt=0)
    stations: dict[str, StationTime]
    production: str = PRODUCTION

    def params(self, base: Params | None = None) -> Params:
        """Simulator parameters with these stations' service times in place of the defaults."""
        sizes = {kind: StationSize(service_ms=t.service_ms) for kind, t in self.stations.items()}
        return (base or Params()).with_overrides(sizes)

    def provenance(self) -> str:
        """One line: what was measured, where and when."""
        running = ", ".join(f"{k}: {v}" for k, v in self.settings.items())
        return (
            f"station times measured on {self.host} ({self.cores} cores) on {self.date} by "
            f"{self.written_by}, the testbed running {running}"
        )

    def write(self, path: Path) -> None:
        path.write_text(yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
