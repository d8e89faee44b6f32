"""The live-migration cost model against closed forms and published measurements."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanstack.migration.cost import (
    MB,
    Guest,
    Path,
    Strategy,
    cold_migration,
    live_migration,
    post_copy,
    precopy_closed_form,
)
from wanstack.migration.settings import GIB, MigrationSettings

# A constant allowance (one step), no timeout: the textbook pre-copy.
PLAIN = MigrationSettings(downtime_steps=1, completion_timeout_s_per_gib=0, resume_ms=0.0)


@given(
    memory_mb=st.floats(256, 65_536),
    ratio=st.floats(0.01, 0.9),
    gbits=st.floats(0.1, 10.0),
)
def test_precopy_matches_the_geometric_series(memory_mb: float, ratio: float, gbits: float) -> None:
    """Constant dirty rate D = λB, no working-set bound: round i sends M·λ^i, and the switch-over comes
    at the first round whose rest fits B × downtime."""
    path = Path(bandwidth_mbps=gbits * 1000)
    rate = path.usable_bytes_per_s(PLAIN)
    guest = Guest(memory_mb=memory_mb, dirty_rate_mbps=ratio * rate / MB)
    cost = live_migration(guest, path, PLAIN)
    m, allowed = memory_mb * MB, PLAIN.downtime_ms / 1000
    expected_rounds = 0 if m <= rate * allowed else math.ceil(math.log(rate * allowed / m) / math.log(ratio))
    assert cost.converged and cost.rounds == expected_rounds
    precopy = precopy_closed_form(m, ratio * rate, rate, cost.rounds)
    rest = m * ratio**cost.rounds
    assert cost.total_s == pytest.approx(precopy + rest / rate, rel=1e-9)
    assert cost.downtime_ms == pytest.approx(rest / rate * 1000, rel=1e-9)
    assert cost.downtime_ms <= PLAIN.downtime_ms + 1e-9
    assert cost.wan_bytes == pytest.approx(m * (1 - ratio ** (cost.rounds + 1)) / (1 - ratio), rel=1e-9)


def test_clark_2005_specweb99_first_round_and_downtime() -> None:
    """Clark et al., "Live Migration of Virtual Machines", NSDI 2005, §6.3 and Figure 9 (SPECweb99, 800 MB
    VM): the first iteration sent 676.8 MB in 54.1 s at its 100 Mbit/s starting rate; the last 18.2 MB
    took 201 ms to send, and with the guest's 9 ms start-up the downtime was 210 ms."""
    first = Path(bandwidth_mbps=100.0).usable_bytes_per_s(MigrationSettings())
    assert 676.8 * MB / first == pytest.approx(54.1, rel=0.01)
    # The final round's rate, as measured: 18.2 MB in 201 ms.
    last_rate_mbps = 18.2 * MB * 8 / 0.201 / 1e6
    # A guest whose whole dirty set is those 18.2 MB, on that rate, switches over at once.
    # Xen had no Nova schedule: a fixed allowance, here QEMU's own default of 300 ms.
    guest = Guest(memory_mb=18.2)
    qemu = MigrationSettings(downtime_ms=300.0, downtime_steps=1)
    cost = live_migration(guest, Path(bandwidth_mbps=last_rate_mbps), qemu)
    assert cost.rounds == 0
    assert cost.downtime_ms == pytest.approx(210.0, rel=0.02)


def test_a_guest_dirtying_faster_than_the_link_never_converges_and_nova_aborts() -> None:
    guest = Guest(memory_mb=4096, dirty_rate_mbps=200.0)  # 1.6 Gbit/s of writes
    cost = live_migration(guest, Path(bandwidth_mbps=1000.0, rtt_ms=20.0))
    assert not cost.converged
    data = MigrationSettings.data_bytes(4096 * MB, 0.0)
    assert cost.total_s == pytest.approx(800.0 * data / GIB, rel=1e-6)  # live_migration_completion_timeout
    assert "abort" in cost.reason


def test_auto_converge_and_post_copy_rescue_a_hot_guest() -> None:
    guest = Guest(memory_mb=4096, dirty_rate_mbps=200.0)
    path = Path(bandwidth_mbps=1000.0, rtt_ms=20.0)
    throttled = live_migration(guest, path, MigrationSettings(permit_auto_converge=True))
    assert throttled.converged and throttled.throttle >= 0.2
    forced = MigrationSettings(timeout_action="force_complete", permit_post_copy=True)
    rescued = live_migration(guest, path, forced)
    assert rescued.converged and rescued.strategy is Strategy.POST_COPY
    assert rescued.downtime_ms < 100 and rescued.degraded_s > 0


def test_block_migration_moves_the_disk_and_cold_migration_pays_in_downtime() -> None:
    shared = Guest(memory_mb=2048, dirty_rate_mbps=5.0, disk_gb=20)
    local = Guest(memory_mb=2048, dirty_rate_mbps=5.0, disk_gb=20, shared_storage=False)
    path = Path(bandwidth_mbps=1000.0, rtt_ms=10.0)
    a, b = live_migration(shared, path), live_migration(local, path)
    assert b.wan_bytes - a.wan_bytes >= 20e9 and b.total_s > a.total_s + 150
    cold = cold_migration(local, path)
    assert cold.downtime_ms / 1000 == pytest.approx(cold.total_s) and cold.downtime_ms > b.downtime_ms
    assert post_copy(shared, path).downtime_ms < a.downtime_ms + 50


def test_a_long_fat_link_is_limited_by_the_tcp_window() -> None:
    """QEMU migrates over one TCP connection: at 100 ms RTT a 10 Gbit/s link gives window / RTT."""
    near = Path(bandwidth_mbps=10_000.0, rtt_ms=1.0).usable_bytes_per_s(MigrationSettings())
    far = Path(bandwidth_mbps=10_000.0, rtt_ms=100.0).usable_bytes_per_s(MigrationSettings())
    assert near == pytest.approx(10e9 / 8) and far < near / 10


def test_nova_downtime_schedule() -> None:
    """live_migration_downtime 500 ms in 10 steps of 75 s/GiB: 50 ms at first, 500 ms at the end."""
    s = MigrationSettings()
    data = 4 * GIB
    assert s.allowed_downtime_ms(0.0, data) == pytest.approx(50.0)
    assert s.allowed_downtime_ms(300.0, data) == pytest.approx(95.0)  # one step after 75 s × 4
    assert s.allowed_downtime_ms(1e9, data) == pytest.approx(500.0)
