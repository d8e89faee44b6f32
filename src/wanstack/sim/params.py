"""Service times, worker counts and message sizes of the simulated control plane.

These are *parameters*: measured where a measurement exists, else guesses of the right order of
magnitude (docs/calibration.md lists which). The control plane's service times per request are
measured on the testbed: the shipped control-plane calibration (`calibrations/control-plane.yaml`,
made by `wanstack testbed calibrate`) says on which machine and when, from which traces and run, and
what is assumed of a production server. `wanstack calibrate` against the real bench writes a
calibration file whose messaging costs `--calibration FILE` applies (`sim.calibration`), `wanstack
testbed calibrate` one of station times, and a scenario's `stations:` section sizes any station.
Where a figure comes from a source, the comment names it. What only describes the bench's own
machine is not here but in the bench-host plug-in (`sim.host.BenchHost`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from wanstack.scenario.schema import StationSize

# The shipped control-plane calibration. Read here as plain YAML (`sim.control_plane` validates the
# same file, and its tests hold it to its sources) so that every `Params()` has its times.
CONTROL_PLANE_FILE = Path(__file__).parent / "calibrations" / "control-plane.yaml"


def _control_plane(path: Path) -> tuple[dict[str, float], str]:
    """Each station kind's service time (ms) in a control-plane calibration file, and where and when
    they were measured."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML was built with it
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    times = {kind: float(t["service_ms"]) for kind, t in document["stations"].items()}
    return times, f"measured on {document['host']} ({document['cores']} cores), {document['date']}"


MEASURED_MS, MEASURED_ON = _control_plane(CONTROL_PLANE_FILE)


def station_source(kind: str) -> str:
    """Where the default service time of a station kind comes from."""
    if kind in MEASURED_MS:
        return f"{MEASURED_ON}: {CONTROL_PLANE_FILE.parent.name}/{CONTROL_PLANE_FILE.name}"
    return "assumed (docs/calibration.md)"


@dataclass(frozen=True)
class StationParams:
    """A station's size: its workers (jobs served at once) and the service time of one job (ms)."""

    workers: int
    service_ms: float
    # A periodic report's time on one worker where it differs from a request's (`REPORT_MS`); None:
    # as a request.
    report_ms: float | None = None


# A periodic report's handler: nova-compute's service.save() and the resource tracker's object calls
# at the conductor, the L2 agent's report_state at neutron-server. Each is one or two SQL statements
# (nova/db/main/api.py service_update: a SELECT and an UPDATE; neutron/db/agents_db.py
# create_or_update_agent: the same on the agents table), far from a boot's request, which the station's
# measured `service_ms` stands for (a conductor's boot request issues up to 17). Measured: the
# conductor's handlers of one or two statements in the shipped traces (tests/fixtures/trace-{boot,
# delete,pause,unpause}-edge.json, 15 of them) take 7.9 ms traced at the median, × the calibration's
# level factor 0.647 = 5.1 ms. neutron-server's are not traced (osprofiler's SQL spans are off there):
# assumed the same.
REPORT_MS = 5.1

# Shared messaging figures measured on this kind of machine (shared domain notes §9): a sequential
# oslo.messaging `call` through one local RabbitMQ takes ≈ 1.5 ms median; it passes the broker twice
# and crosses four client/broker legs, so ≈ 0.35 ms per broker pass plus library overhead per leg.
DEFAULT_STATIONS: dict[str, StationParams] = {
    "rpc-broker": StationParams(workers=2, service_ms=0.35),
    "notification-broker": StationParams(workers=2, service_ms=0.35),
    "log-leader": StationParams(workers=2, service_ms=0.1),  # assumed: appends to a partition log
    "router": StationParams(workers=2, service_ms=0.1),  # assumed: routing without queueing to disk
    # The bench's echo server: oslo.messaging's threading executor has executor_thread_pool_size = 64
    # (oslo_messaging/_drivers/impl_rabbit.py); the work itself is negligible.
    "rpc-server": StationParams(workers=64, service_ms=0.05),
    # Control-plane services: per request, the handler's time on one worker, measured on the testbed
    # (MEASURED_MS); the worker counts are assumed (a production server's).
    "keystone": StationParams(workers=8, service_ms=MEASURED_MS["keystone"]),
    "nova-api": StationParams(workers=8, service_ms=MEASURED_MS["nova-api"]),
    "nova-scheduler": StationParams(workers=2, service_ms=MEASURED_MS["nova-scheduler"]),
    "nova-superconductor": StationParams(workers=8, service_ms=MEASURED_MS["nova-superconductor"]),
    "nova-conductor": StationParams(workers=8, service_ms=MEASURED_MS["nova-conductor"], report_ms=REPORT_MS),
    "placement": StationParams(workers=8, service_ms=MEASURED_MS["placement"]),
    "glance-api": StationParams(workers=8, service_ms=MEASURED_MS["glance-api"]),
    "neutron-server": StationParams(workers=8, service_ms=MEASURED_MS["neutron-server"], report_ms=REPORT_MS),
    # Assumed: a database round trip's server time (the traced services' own times include their
    # SQL, which the level factor of the calibration accounts for), an image store's and cache's.
    "api-database": StationParams(workers=16, service_ms=0.5),
    "cell-database": StationParams(workers=16, service_ms=0.5),
    "image-store": StationParams(workers=8, service_ms=1.0),
    "image-cache": StationParams(workers=8, service_ms=1.0),
}


@dataclass(frozen=True)
class Params:
    """Every parameter of the simulated control plane: the stations' sizes by kind, the messaging library's
    cost per message end (ms), message sizes (bytes), the compute host's own work, OpenStack's timers and
    limits, and a quota claim's cost; each field's comment gives its source or says it is assumed."""

    stations: dict[str, StationParams] = field(default_factory=lambda: dict(DEFAULT_STATIONS))
    # oslo.messaging client-side cost per message (serialise, publish/consume), assumed.
    rpc_client_ms: float = 0.2
    # The same for a cast (and each copy of a fanout) and for a notification, where they differ from a
    # call's (a notification skips the RPC dispatcher; `wanstack calibrate` measures both). None: as
    # `rpc_client_ms`.
    cast_client_ms: float | None = None
    notify_client_ms: float | None = None
    # Assumed one-way latency between two machines of one site (one switch hop).
    lan_delay_ms: float = 0.05
    # Extra one-way delay of a message over each link direction that bulk flows (images, migrations)
    # fill: their standing queue. fq_codel is Linux's default queueing discipline (systemd sets
    # net.core.default_qdisc = fq_codel) and CoDel keeps the standing queue near its target, 5 ms
    # (RFC 8289, §4.4). 0: messages never wait behind bulk traffic.
    bulk_queue_ms: float = 5.0
    # Message sizes in bytes (assumed): oslo.messaging wraps objects in a JSON envelope; an Instance
    # object with its flavor and info caches is several kB.
    # Bytes oslo.messaging and AMQP wrap around a message's payload: method, header and body frames,
    # the JSON envelope (oslo.version, oslo.message with method, args, context, _unique_id). Measured
    # here by the relay (`wanstack calibrate`): a cast of 100 bytes puts ≈ 400 bytes on the wire.
    rpc_envelope_bytes: int = 300
    rpc_small_bytes: int = 1_000
    rpc_object_bytes: int = 6_000
    http_request_bytes: int = 1_500
    http_response_bytes: int = 3_000
    notification_bytes: int = 3_000
    # Work done on the compute host itself (assumed): libvirt define + start of a small guest,
    # pausing/unpausing, shutting down.
    spawn_ms: float = 2_000.0
    pause_ms: float = 100.0
    shutdown_ms: float = 1_000.0
    # The Open vSwitch agent handles a new tap on its loop's next pass: the loop runs every
    # polling_interval = 2 s (neutron/conf/plugins/ml2/drivers/ovs_conf.py), so on average 1 s later.
    ovs_agent_notice_ms: float = 1_000.0
    # Builds one nova-compute runs at once, the others waiting for a slot: max_concurrent_builds = 10
    # (nova/conf/compute.py; nova/compute/manager.py `_build_semaphore`).
    max_concurrent_builds: int = 10
    # Rally waits this long for a server to become ACTIVE before it reports a failure
    # (rally-openstack: nova_server_boot_timeout = 300 s).
    operation_timeout_ms: float = 300_000.0
    # keystonemiddleware caches validated tokens for token_cache_time = 300 s; keystone tokens live
    # [token] expiration = 3600 s (keystonemiddleware/auth_token/_opts.py, keystone/conf/token.py).
    token_cache_ms: float = 300_000.0
    token_lifetime_ms: float = 3_600_000.0
    # A quota claim's time where it is decided, as its caller sees it: the region's quota service
    # (escrow, lease, escrow-epsilon, kingbird) or the central ledger at the top site (central);
    # unified-limits pays Keystone's station instead. Measured with `wanstack quota serve` on this
    # project's 2-core machine (`benchmarks/quota_bench.py`, run b of 2026-12-02, claims 0.1 s apart
    # at 0 ms: 2.26 ms for a grant, which writes the claim; 1.75 ms for a refusal, which writes
    # nothing); the local call alone took 1.72 ms there.
    quota_claim_ms: float = 2.26
    quota_refusal_ms: float | None = 1.75  # None: as a grant

    @property
    def cast_end_ms(self) -> float:
        return self.rpc_client_ms if self.cast_client_ms is None else self.cast_client_ms

    @property
    def notify_end_ms(self) -> float:
        return self.rpc_client_ms if self.notify_client_ms is None else self.notify_client_ms

    def station(self, kind: str) -> StationParams:
        return self.stations[kind]

    def with_overrides(self, overrides: Mapping[str, StationSize]) -> Params:
        """These parameters with a scenario's `stations:` sizes applied."""
        stations = dict(self.stations)
        for kind, size in overrides.items():
            base = stations[kind]
            stations[kind] = StationParams(
                size.workers or base.workers, size.service_ms or base.service_ms, base.report_ms
            )
        return replace(self, stations=stations)
