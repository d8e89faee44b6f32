"""A calibration file (`wanstack calibrate`) as a typed model, and what the simulator takes from it.

The file keeps what was measured on the bench's machine (`measured`) apart from what was fitted from
it (`fitted`), so that a change of the model needs no new measurement (`wanstack calibrate --refit`).
The fitted part has two halves, used apart:
- `fitted.messaging`: the messaging library's and the broker's costs per message, which any study may
  apply in place of the defaults (`wanstack run --calibration FILE`);
- `fitted.host`: the bench-host plug-in (`sim.host.BenchHost`), which only predictions of the bench
  itself load (`wanstack bench --simulate --calibration FILE`, the workflow replay).

Files are versioned by `schema_version`. Files of the first format (before 2026-12, no version, the
measured figures under flat keys such as `call_200ms_pause_p50_ms`) are read and converted.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wanstack.scenario.schema import StationSize
from wanstack.sim.control_plane import CONTROL_PLANE, ControlPlaneCalibration
from wanstack.sim.host import BenchHost
from wanstack.sim.host.params import HOST_MODEL
from wanstack.sim.params import Params

SCHEMA_VERSION = 2
Kind = Literal["call", "cast", "notify"]
# The broker stations a calibration sizes: the bench's one RabbitMQ carries RPC and notifications.
BROKERS = ("rpc-broker", "notification-broker")


class CalibrationError(ValueError):
    """A file that is not a calibration this version can read; the message says why and what to do."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProcessCpu(_Model):
    """CPU ms per message of each process of a calibration pair, from the kernel's counters."""

    client: float
    server: float
    broker: float
    relay: float  # the relay runs in the controller's process

    @property
    def library(self) -> float:
        """The two library processes', client and server."""
        return self.client + self.server


class PairFigures(_Model):
    """One client behind a 0 ms relay sending to one server next to the broker, `pause_ms` apart:
    latency (calls: the caller's; casts and notifications: receive − send) and CPU per message."""

    kind: Kind
    pause_ms: float
    p50_ms: float
    p95_ms: float
    cpu_ms: ProcessCpu


class CrowdFigures(_Model):
    """`pairs` such pairs calling at once, `pause_ms` apart: their calls' latency."""

    pairs: int
    pause_ms: float
    p50_ms: float
    p95_ms: float | None = None  # not in files of 2026-11-25 before 03:00


class RelayFigures(_Model):
    """The WAN relay's own cost per traversal beyond its configured delay (p50), and its throughput."""

    added_per_traversal_ms: float  # on delayed relays (10 and 25 ms)
    added_per_traversal_ms_at_0ms: float
    messages_per_s: float


class Measured(_Model):
    """What `wanstack calibrate` measured on the bench's machine: each lone pair's figures (`pairs`, by kind
    and pause), the crowd's calls, the relay's own cost, the calls per second of 8 threads calling at once,
    and how steady the machine was while measuring."""

    pairs: list[PairFigures]
    crowd: CrowdFigures | None = None
    relay: RelayFigures
    calls_per_s_8_threads: float
    cast_bytes_on_the_wire: float  # a cast of the calibration's payload, as the relay counted it
    # How steady the machine was: the mean share of its CPU the hypervisor took during each
    # round's least disturbed attempt (the rounds left out below included: it says how disturbed
    # the machine was, not only what went into the figures), and how many attempts were measured
    # again for taking more (`lab.steady`). Files from before these were kept have neither.
    stolen_share: float | None = None
    measured_again: int = 0
    # Rounds left out of their measurement's pool for staying disturbed after every attempt
    # (`lab.steady.within_gate`); files from before 2026-12-03 afternoon have none.
    left_out: int = 0

    def pair(self, kind: Kind, pause_ms: float) -> PairFigures:
        for p in self.pairs:
            if p.kind == kind and p.pause_ms == pause_ms:
                return p
        raise CalibrationError(f"no {kind} measured {pause_ms:g} ms apart")

    def pauses(self, kind: Kind) -> list[float]:
        return sorted(p.pause_ms for p in self.pairs if p.kind == kind)


class MessagingCosts(_Model):
    """The costs any study may take from a calibration: the library's per end on a message's path (a
    call's, a cast's, a notification's), the bytes it wraps around a payload, and the broker's
    service time with one Erlang scheduler per core as workers."""

    rpc_client_ms: float
    cast_client_ms: float
    notify_client_ms: float
    rpc_envelope_bytes: int
    broker_workers: int
    broker_service_ms: float

    def apply(self, params: Params) -> Params:
        """`params` with these costs in place of its own."""
        params = replace(
            params,
            rpc_client_ms=self.rpc_client_ms,
            cast_client_ms=self.cast_client_ms,
            notify_client_ms=self.notify_client_ms,
            rpc_envelope_bytes=self.rpc_envelope_bytes,
        )
        size = StationSize(workers=self.broker_workers, service_ms=self.broker_service_ms)
        return params.with_overrides(dict.fromkeys(BROKERS, size))


Curve = list[tuple[float, float]]


class HostFit(_Model):
    """The bench host's parameters (`sim.host.BenchHost`, where each is explained), fitted for the
    bench-host model `model` (`sim.host.params.HOST_MODEL`; files without it: the first)."""

    model: int = 1
    cores: int
    end_cpu_ms: float
    end_cv: float
    relay_cpu_ms: float
    poll_wake_cpu_ms: float
    relay_late_ms: float
    end_warmth: Curve = Field(default_factory=list)
    end_crowding: Curve = Field(default_factory=list)
    end_crowding_spread: Curve = Field(default_factory=list)

    def bench_host(self, shared_cpu: bool = True) -> BenchHost:
        """The plug-in; without `shared_cpu`, only the relays' late timers (the workflow replay, whose
        roles are threads of one process). `CalibrationError` when fitted for another model."""
        if self.model != HOST_MODEL:
            raise CalibrationError(
                f"its bench-host parameters were fitted for model {self.model}, this wanstack's is "
                f"{HOST_MODEL}: fit them again from its measurements with `wanstack calibrate --refit "
                "--out FILE` (about 20 s, no broker)"
            )
        return BenchHost(
            cores=self.cores if shared_cpu else None,
            end_cpu_ms=self.end_cpu_ms,
            end_cv=self.end_cv,
            relay_cpu_ms=self.relay_cpu_ms,
            poll_wake_cpu_ms=self.poll_wake_cpu_ms,
            relay_late_ms=self.relay_late_ms,
            end_warmth=tuple(self.end_warmth),
            end_crowding=tuple(self.end_crowding),
            end_crowding_spread=tuple(self.end_crowding_spread),
        )


class Fitted(_Model):
    """What was fitted from `Measured`: the messaging costs any study may apply, and the bench-host plug-in's
    parameters."""

    messaging: MessagingCosts
    host: HostFit


class Calibration(_Model):
    """A calibration file."""

    schema_version: Literal[2] = 2
    written_by: str = "wanstack calibrate"
    date: str
    refitted: str | None = None
    host: str  # the machine's name
    cores: int
    measured: Measured
    fitted: Fitted

    def params(self, base: Params | None = None) -> Params:
        """Simulator parameters with the measured messaging costs in place of the defaults."""
        return self.fitted.messaging.apply(base or Params())

    def bench_host(self, shared_cpu: bool = True) -> BenchHost:
        return self.fitted.host.bench_host(shared_cpu)

    def write(self, path: Path) -> None:
        document = self.model_dump(mode="json", exclude_none=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def load_calibration(path: Path) -> Calibration | ControlPlaneCalibration:
    """Read a calibration file: the messaging bench's (`wanstack calibrate`, either format) or a
    control-plane one (`wanstack testbed calibrate`); `CalibrationError` says what is wrong with it."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise CalibrationError(f"{path}: cannot read it ({err})") from None
    if isinstance(document, dict) and document.get("kind") == CONTROL_PLANE:
        try:
            return ControlPlaneCalibration.model_validate(document)
        except ValidationError as err:
            raise CalibrationError(
                f"{path}: not a valid control-plane calibration ({str(err).splitlines()[0]}: "
                f"{str(err).splitlines()[1].strip()}); write it again with `wanstack testbed calibrate`"
            ) from None
    if not isinstance(document, dict) or "measured" not in document:
        raise CalibrationError(
            f"{path}: not a calibration file from `wanstack calibrate` or `wanstack testbed calibrate`"
        )
    version = document.get("schema_version", 1)
    try:
        if version == 1:
            return from_first_format(document)
        if version == SCHEMA_VERSION:
            return Calibration.model_validate(document)
    except (ValidationError, KeyError, TypeError, ValueError) as err:
        raise CalibrationError(
            f"{path}: not a valid calibration file ({str(err).splitlines()[0]}); "
            "measure again with `wanstack calibrate`"
        ) from None
    raise CalibrationError(
        f"{path}: calibration format {version} is newer than this wanstack reads ({SCHEMA_VERSION})"
    )


_PAIR_KEY = re.compile(r"^(call|cast|notify)_(\d+)ms_pause_p50_ms$")
_CROWD_KEY = re.compile(r"^call_(\d+)ms_pause_(\d+)_pairs_p50_ms$")


def from_first_format(document: dict[str, Any]) -> Calibration:
    """A file of the first format (flat keys), converted; its fitted parameters are kept as they are."""
    flat: dict[str, float] = document["measured"]
    pairs = []
    for key in flat:
        match = _PAIR_KEY.match(key)
        if match is None:
            continue
        label = key.removesuffix("_p50_ms")
        pairs.append(
            PairFigures(
                kind=match[1],
                pause_ms=float(match[2]),
                p50_ms=flat[f"{label}_p50_ms"],
                p95_ms=flat[f"{label}_p95_ms"],
                cpu_ms=ProcessCpu(
                    **{w: flat[f"{label}_cpu_ms_{w}"] for w in ("client", "server", "broker", "relay")}
                ),
            )
        )
    crowd = None
    for key, p50 in flat.items():
        match = _CROWD_KEY.match(key)
        if match is not None:
            label = key.removesuffix("_p50_ms")
            crowd = CrowdFigures(
                pairs=int(match[2]),
                pause_ms=float(match[1]),
                p50_ms=p50,
                p95_ms=flat.get(f"{label}_p95_ms"),
            )
    measured = Measured(
        pairs=pairs,
        crowd=crowd,
        relay=RelayFigures(
            added_per_traversal_ms=flat["relay_added_per_traversal_ms"],
            added_per_traversal_ms_at_0ms=flat["relay_added_per_traversal_ms_at_0ms"],
            messages_per_s=flat["relay_messages_per_s"],
        ),
        calls_per_s_8_threads=flat["calls_per_s_8_threads"],
        cast_bytes_on_the_wire=flat["cast_bytes_on_the_wire"],
    )
    old = document["params"]
    cores = int(document.get("cores") or 1)
    broker = old.get("stations", {}).get("rpc-broker", {})
    client_ms = float(old["rpc_client_ms"])
    fitted = Fitted(
        messaging=MessagingCosts(
            rpc_client_ms=client_ms,
            cast_client_ms=float(old.get("cast_client_ms", client_ms)),
            notify_client_ms=float(old.get("notify_client_ms", client_ms)),
            rpc_envelope_bytes=int(old.get("rpc_envelope_bytes", Params().rpc_envelope_bytes)),
            broker_workers=int(broker.get("workers", cores)),
            broker_service_ms=float(broker.get("service_ms", Params().station("rpc-broker").service_ms)),
        ),
        host=HostFit(
            cores=cores,
            end_cpu_ms=float(old.get("rpc_client_cpu_ms", client_ms)),
            end_cv=float(old.get("rpc_client_cv", 0.0)),
            relay_cpu_ms=float(old.get("relay_cpu_ms", 0.0)),
            poll_wake_cpu_ms=float(old.get("poll_wake_cpu_ms", 0.0)),
            relay_late_ms=float(old.get("wan_overhead_ms", 0.0)),
            end_warmth=[(float(x), float(f)) for x, f in old.get("end_warmth", ())],
            end_crowding=[(float(x), float(f)) for x, f in old.get("end_crowding", ())],
            end_crowding_spread=[(float(x), float(f)) for x, f in old.get("end_crowding_spread", ())],
        ),
    )
    return Calibration(
        date=str(document.get("date", "")),
        refitted=document.get("refitted"),
        host=str(document.get("host", "")),
        cores=cores,
        measured=measured,
        fitted=fitted,
    )
