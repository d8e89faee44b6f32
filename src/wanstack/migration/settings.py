"""The knobs of a live migration, at Nova's and QEMU's defaults.

Nova `[libvirt]` options (nova/conf/libvirt.py; the schedule in nova/virt/libvirt/migration.py):
- live_migration_downtime = 500 ms: the longest pause Nova lets QEMU take at switch-over, reached in
  live_migration_downtime_steps = 10 steps, one every live_migration_downtime_delay = 75 s per GiB of
  data migrated. Step i allows base + i·(downtime − base)/steps ms, base = downtime / steps.
- live_migration_completion_timeout = 800 s per GiB of data, then live_migration_timeout_action =
  abort (or force_complete: pause the guest, or switch to post-copy when that is permitted).
- live_migration_permit_post_copy = False, live_migration_permit_auto_converge = False.
- live_migration_bandwidth = 0: no cap (libvirt lifts QEMU's own default cap).
QEMU (migration/options.c): auto-converge throttles the guest's CPUs by 20 % first
(cpu-throttle-initial), 10 % more each time (cpu-throttle-increment), at most 99 %
(max-cpu-throttle), when a round's dirtied bytes exceed 50 % of what it sent
(throttle-trigger-threshold).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

GIB = 1024**3


class MigrationSettings(BaseModel):
    """Nova's `[libvirt]` live-migration options and QEMU's auto-converge throttle (0..1 of the guest's CPU),
    at their defaults (the module says where each comes from), with the model's own guest resume time and
    round guard."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    downtime_ms: float = Field(500.0, gt=0, description="[libvirt] live_migration_downtime")
    downtime_steps: int = Field(10, ge=1, description="[libvirt] live_migration_downtime_steps")
    downtime_delay_s_per_gib: float = Field(75.0, gt=0, description="[libvirt] live_migration_downtime_delay")
    completion_timeout_s_per_gib: float = Field(
        800.0, ge=0, description="[libvirt] live_migration_completion_timeout (0: none)"
    )
    timeout_action: str = Field("abort", pattern="^(abort|force_complete)$")
    permit_post_copy: bool = False
    permit_auto_converge: bool = False
    bandwidth_mbps: float = Field(
        0.0, ge=0, description="[libvirt] live_migration_bandwidth (MiB/s; 0: no cap)"
    )
    throttle_initial: float = 0.20
    throttle_increment: float = 0.10
    throttle_max: float = 0.99
    throttle_trigger: float = 0.50
    # Guest start-up on the destination after the last round: 9 ms measured by Clark et al. (NSDI
    # 2005, §6.3: "an additional 9 ms elapse while the VM starts up").
    resume_ms: float = 9.0
    # QEMU has no round limit of its own; this only guards the arithmetic of a model that never ends.
    max_rounds: int = 10_000

    @staticmethod
    def data_bytes(memory_bytes: float, disk_bytes: float) -> float:
        """What Nova scales its delays by: RAM (counted as at least 2 GiB) plus, for a block
        migration, the disk (nova/virt/libvirt/driver.py, _live_migration_data_gb)."""
        return max(memory_bytes, 2 * GIB) + disk_bytes

    def allowed_downtime_ms(self, elapsed_s: float, data_bytes: float) -> float:
        """Nova's downtime schedule: what QEMU may pause for, `elapsed_s` into the migration."""
        delay = self.downtime_delay_s_per_gib * data_bytes / GIB
        step = self.downtime_steps if delay <= 0 else min(self.downtime_steps, int(elapsed_s // delay))
        base = self.downtime_ms / self.downtime_steps
        return base + step * (self.downtime_ms - base) / self.downtime_steps

    def completion_timeout_s(self, data_bytes: float) -> float:
        if self.completion_timeout_s_per_gib == 0:
            return float("inf")
        return self.completion_timeout_s_per_gib * data_bytes / GIB
