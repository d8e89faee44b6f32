"""What a migration over a WAN link costs: total time, downtime, bytes over the WAN, convergence.

Pre-copy (Clark et al., NSDI 2005; the analytic form of Akoush et al., MASCOTS 2010): round 0 sends the
whole memory M at the usable bandwidth B; each later round sends what the guest dirtied during the
previous one, at most its writable working set W (Hirofuchi et al., IEEE TCC 2015, bound the dirty set
by the working set). QEMU switches over — pauses the guest and sends the rest — once the rest fits in
the allowed downtime (rest ≤ B × allowed downtime), the allowance growing on Nova's schedule. With a
constant dirty rate D < B and no working-set bound, round i sends M·λ^i, λ = D/B (a geometric series;
`precopy_closed_form`). Nova aborts at its completion timeout unless told to force completion, which
pauses the guest (or switches to post-copy when permitted). Auto-converge, when permitted, throttles
the guest's CPUs, and so its dirty rate, when a round dirties more than half of what it sent.

Block migration (local disks, not shared between sites) first mirrors the disk (the guest's writes
meanwhile are mirrored too), then migrates memory. Post-copy pauses only to move the CPU and device
state, then the guest runs at the destination while the source pushes the rest (it faults on pages
not yet there). Cold migration stops the guest, copies its disk if not shared, and boots it again.

The usable bandwidth is the link's spare bandwidth, capped by Nova's live_migration_bandwidth and by
one TCP connection's window over the RTT (QEMU migrates over one connection).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from wanstack.migration.settings import MigrationSettings
from wanstack.topology.tcp import TCP_WINDOW_BYTES

MB = 1e6
# Assumed: a guest's CPU and device state (registers, virtio queues, a few MB of device RAM).
DEVICE_STATE_BYTES = 4 * MB
# Assumed: a guest OS boots in about 20 s after a cold migration (a small Linux cloud image).
COLD_BOOT_S = 20.0


class Strategy(StrEnum):
    """How a VM moves: `pre-copy` (memory copied in rounds while it runs), `post-copy` (it runs at the
    destination while its memory follows), `cold` (stopped, its disk copied unless shared, booted again)."""

    PRE_COPY = "pre-copy"
    POST_COPY = "post-copy"
    COLD = "cold"


@dataclass(frozen=True)
class Guest:
    """What matters of a VM for moving it."""

    memory_mb: float
    dirty_rate_mbps: float = 0.0  # MB/s of memory the guest writes
    working_set_mb: float | None = None  # bound on the dirty set (None: the whole memory)
    disk_gb: float = 0.0
    shared_storage: bool = True  # False: the disk moves too (block migration)
    disk_write_mbps: float = 0.0  # MB/s written to the disk while it is mirrored

    @property
    def disk_to_copy(self) -> float:
        """Bytes of disk that cross the WAN: none when the storage is shared between the sites."""
        return 0.0 if self.shared_storage else self.disk_gb * 1e9

    @property
    def dirty_cap(self) -> float:
        """The most memory (bytes) dirty at once: the working set, or the whole memory."""
        return (self.working_set_mb if self.working_set_mb is not None else self.memory_mb) * MB


@dataclass(frozen=True)
class Path:
    """The WAN path between the two hosts, as the migration sees it."""

    bandwidth_mbps: float  # spare bandwidth, Mbit/s
    rtt_ms: float = 0.0

    def usable_bytes_per_s(self, settings: MigrationSettings) -> float:
        rate = self.bandwidth_mbps * 1e6 / 8
        if settings.bandwidth_mbps:
            rate = min(rate, settings.bandwidth_mbps * 1024 * 1024)
        if self.rtt_ms > 0:
            rate = min(rate, TCP_WINDOW_BYTES / (self.rtt_ms / 1000.0))
        return rate


@dataclass(frozen=True)
class MigrationCost:
    """What one migration costs: its strategy, whether it completes (False: Nova aborts it and the guest
    stays), its total time (s), the guest's downtime (ms), the bytes it sends over the WAN, its pre-copy
    rounds, auto-converge's final CPU throttle (0..1), post-copy's time running on remote pages (s), and what
    decided how it ended (`reason`)."""

    strategy: Strategy
    converged: bool  # False: Nova aborts it (the guest stays where it was)
    total_s: float
    downtime_ms: float
    wan_bytes: float
    rounds: int = 0
    throttle: float = 0.0  # auto-converge's final CPU throttle
    degraded_s: float = 0.0  # post-copy: time the guest runs with remote page faults
    reason: str = ""


def precopy_closed_form(memory_bytes: float, dirty_rate: float, bandwidth: float, rounds: int) -> float:
    """Time (s) of `rounds` pre-copy rounds with constant dirty rate and bandwidth (bytes/s):
    Σ_{i<n} M·λ^i / B = (M/B)(1 − λ^n)/(1 − λ), λ = D/B."""
    lam = dirty_rate / bandwidth
    if lam == 1.0:
        return memory_bytes / bandwidth * rounds
    return memory_bytes / bandwidth * (1 - lam**rounds) / (1 - lam)


def live_migration(guest: Guest, path: Path, settings: MigrationSettings | None = None) -> MigrationCost:
    """Pre-copy as Nova drives it; post-copy or a pause when it times out and force completion is set."""
    s = settings or MigrationSettings()
    rate = path.usable_bytes_per_s(s)
    rtt = path.rtt_ms / 1000.0
    memory = guest.memory_mb * MB
    disk = guest.disk_to_copy
    data = s.data_bytes(memory, disk)
    timeout = s.completion_timeout_s(data)
    elapsed = 2 * rtt  # connection and migration handshake
    sent = 0.0
    if disk:
        # Mirror the disk; writes during the copy are sent too.
        disk_rate = guest.disk_write_mbps * MB
        if disk_rate >= rate:
            return MigrationCost(
                Strategy.PRE_COPY,
                False,
                timeout,
                0.0,
                rate * timeout,
                0,
                0.0,
                0.0,
                "disk writes outpace the link: the mirror never catches up",
            )
        copy = disk / (rate - disk_rate)
        elapsed += copy
        sent += copy * rate
    dirty_cap = guest.dirty_cap
    dirty_rate = guest.dirty_rate_mbps * MB
    throttle = 0.0
    pending = memory
    rounds = 0
    while rounds < s.max_rounds:
        allowed = s.allowed_downtime_ms(elapsed, data) / 1000.0
        if pending <= rate * allowed:
            return _stop_and_copy(
                pending, rate, rtt, s, at=elapsed, sent=sent, rounds=rounds, throttle=throttle
            )
        duration = pending / rate
        if elapsed + duration > timeout:
            return _timed_out(
                guest,
                s,
                rate,
                rtt,
                at=timeout,
                sent=sent + (timeout - elapsed) * rate,
                rounds=rounds,
                throttle=throttle,
            )
        elapsed += duration
        sent += pending
        rounds += 1
        dirtied = min(dirty_cap, dirty_rate * (1 - throttle) * duration)
        if s.permit_auto_converge and dirtied > s.throttle_trigger * pending:
            throttle = (
                s.throttle_initial if throttle == 0 else min(s.throttle_max, throttle + s.throttle_increment)
            )
        pending = dirtied
    return _timed_out(guest, s, rate, rtt, at=elapsed, sent=sent, rounds=rounds, throttle=throttle)


def _timed_out(
    guest: Guest,
    s: MigrationSettings,
    rate: float,
    rtt: float,
    *,
    at: float,
    sent: float,
    rounds: int,
    throttle: float,
) -> MigrationCost:
    """Nova's completion timeout: abort (the default), or force completion — post-copy when permitted,
    else pause the guest and send what is dirty (at most its working set)."""
    if s.timeout_action == "abort":
        return MigrationCost(
            Strategy.PRE_COPY,
            False,
            at,
            0.0,
            sent,
            rounds,
            throttle,
            0.0,
            "completion timeout: Nova aborts the migration",
        )
    dirty = guest.dirty_cap
    if s.permit_post_copy:
        pause = _pause_s(DEVICE_STATE_BYTES, rate, rtt, s)
        pull = dirty / rate
        return MigrationCost(
            Strategy.POST_COPY,
            True,
            at + pause + pull,
            pause * 1000.0,
            sent + DEVICE_STATE_BYTES + dirty,
            rounds,
            throttle,
            pull,
            "completion timeout: switched to post-copy",
        )
    return _stop_and_copy(
        dirty,
        rate,
        rtt,
        s,
        at=at,
        sent=sent,
        rounds=rounds,
        throttle=throttle,
        reason="completion timeout: guest paused to finish",
    )


def _pause_s(nbytes: float, rate: float, rtt: float, s: MigrationSettings) -> float:
    """How long the guest is paused to send `nbytes` (what is still dirty, or its device state) and
    resume at the destination: the copy at `rate`, a round trip (`rtt`, s), Nova's resume."""
    return nbytes / rate + rtt + s.resume_ms / 1000.0


def _stop_and_copy(
    pending: float,
    rate: float,
    rtt: float,
    s: MigrationSettings,
    *,
    at: float,
    sent: float,
    rounds: int,
    throttle: float,
    reason: str = "",
) -> MigrationCost:
    """Pre-copy's last step from `at`: the guest paused while the `pending` dirty bytes cross, then
    resumed at the destination."""
    pause = _pause_s(pending, rate, rtt, s)
    return MigrationCost(
        Strategy.PRE_COPY, True, at + pause, pause * 1000.0, sent + pending, rounds, throttle, reason=reason
    )


def post_copy(guest: Guest, path: Path, settings: MigrationSettings | None = None) -> MigrationCost:
    """Post-copy from the start: pause for the device state, then pull the memory while running."""
    s = settings or MigrationSettings()
    rate = path.usable_bytes_per_s(s)
    rtt = path.rtt_ms / 1000.0
    disk = guest.disk_to_copy
    copy = disk / rate
    pause = _pause_s(DEVICE_STATE_BYTES, rate, rtt, s)
    pull = guest.memory_mb * MB / rate
    return MigrationCost(
        Strategy.POST_COPY,
        True,
        2 * rtt + copy + pause + pull,
        pause * 1000.0,
        disk + DEVICE_STATE_BYTES + guest.memory_mb * MB,
        0,
        0.0,
        pull,
    )


def cold_migration(guest: Guest, path: Path, settings: MigrationSettings | None = None) -> MigrationCost:
    """Stop, copy the disk (unless shared), boot at the destination: the guest is down throughout."""
    s = settings or MigrationSettings()
    rate = path.usable_bytes_per_s(s)
    disk = guest.disk_to_copy
    total = 2 * path.rtt_ms / 1000.0 + disk / rate + COLD_BOOT_S
    return MigrationCost(Strategy.COLD, True, total, total * 1000.0, disk)


def cheapest(
    guest: Guest, path: Path, settings: MigrationSettings | None = None, max_downtime_ms: float = math.inf
) -> MigrationCost:
    """The way of moving the guest Nova would take with these settings; cold migration only when the
    guest tolerates the downtime and live migration does not converge."""
    live = live_migration(guest, path, settings)
    if live.converged and live.downtime_ms <= max_downtime_ms:
        return live
    cold = cold_migration(guest, path, settings)
    if cold.downtime_ms <= max_downtime_ms:
        return cold
    return live
