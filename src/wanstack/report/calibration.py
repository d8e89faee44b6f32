"""A calibration file as tables: what was measured, and what the simulator took from it."""

from __future__ import annotations

from rich.table import Table

from wanstack.sim.calibration import Calibration
from wanstack.sim.control_plane import ControlPlaneCalibration


def calibration_tables(cal: Calibration, title: str) -> list[Table]:
    m = cal.measured
    measured = Table(title=f"{title}: measured on {cal.host} ({cal.cores} cores), {cal.date}")
    for col in ("what", "pause", "p50", "p95", "CPU ms per message: client / server / broker / relay"):
        measured.add_column(col, justify="left" if col == "what" else "right")
    for p in m.pairs:
        cpu = p.cpu_ms
        measured.add_row(
            f"one {p.kind} pair",
            f"{p.pause_ms:g} ms",
            f"{p.p50_ms:.2f} ms",
            f"{p.p95_ms:.2f} ms",
            f"{cpu.client:.2f} / {cpu.server:.2f} / {cpu.broker:.2f} / {cpu.relay:.2f}",
        )
    if m.crowd is not None:
        c = m.crowd
        p95 = f"{c.p95_ms:.2f} ms" if c.p95_ms is not None else ""
        measured.add_row(f"{c.pairs} call pairs at once", f"{c.pause_ms:g} ms", f"{c.p50_ms:.2f} ms", p95, "")
    r = m.relay
    measured.add_row(
        "relay, per traversal beyond its delay",
        "",
        f"{r.added_per_traversal_ms_at_0ms:.3f} ms at 0 ms, {r.added_per_traversal_ms:.3f} ms delayed",
        "",
        f"{r.messages_per_s:,.0f} msg/s",
    )
    measured.add_row("calls per second, 8 threads", "", f"{m.calls_per_s_8_threads:,.0f}", "", "")
    measured.add_row("a 100-byte cast on the wire", "", f"{m.cast_bytes_on_the_wire:.0f} B", "", "")
    if m.stolen_share is not None:
        again = ", ".join(
            part
            for part in (
                f"{m.measured_again} measured again" if m.measured_again else "",
                f"{m.left_out} rounds left out" if m.left_out else "",
            )
            if part
        )
        measured.add_row("CPU the hypervisor took (steal)", "", f"{m.stolen_share:.1%}", "", again)
    fitted = Table(title="fitted: messaging costs (any study) and the bench host (bench predictions only)")
    fitted.add_column("parameter")
    fitted.add_column("value", justify="right")
    for key, value in cal.fitted.messaging.model_dump().items():
        fitted.add_row(f"messaging.{key}", str(value))
    for key, value in cal.fitted.host.model_dump().items():
        fitted.add_row(f"host.{key}", str(value))
    return [measured, fitted]


def control_plane_tables(cal: ControlPlaneCalibration, title: str) -> list[Table]:
    """A control-plane calibration: each station's time (traced, then at the level), and the fit's
    operations, the testbed's p50 beside the simulator's with these times."""
    stations = Table(title=f"{title}: {cal.provenance()}")
    for col in ("station", "requests traced", "in", "traced ms", "service ms"):
        stations.add_column(col, justify="left" if col in ("station", "in") else "right")
    for kind, t in cal.stations.items():
        stations.add_row(
            kind, str(t.requests), ", ".join(t.operations), f"{t.traced_ms:.1f}", f"{t.service_ms:.1f}"
        )
    level = Table(title=f"the level: traced times × {cal.level_factor:.3f}, fitted to {cal.level_source}")
    for col in ("operation", "delay", "testbed p50", "simulator p50", "error"):
        level.add_column(col, justify="left" if col == "operation" else "right")
    for p in cal.level:
        level.add_row(
            p.operation,
            f"{p.delay_ms:g} ms",
            f"{p.testbed_p50_ms:,.0f} ms",
            f"{p.simulated_p50_ms:,.0f} ms",
            f"{p.error:+.1%}",
        )
    return [stations, level]
