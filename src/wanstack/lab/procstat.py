"""What the kernel counts for a group of processes: CPU time and resident memory of every live process
in one session (a broker with its helpers, a role process), from /proc (proc(5): stat, statm)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _members(session: int) -> Iterator[Path]:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session:
                yield entry
        except OSError:
            continue


def session_cpu_s(session: int) -> float:
    """CPU seconds (user + system) of every live process in a session."""
    total = 0.0
    for entry in _members(session):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, ValueError, IndexError):
            continue
    return total


def session_rss_mb(session: int) -> float:
    """Resident memory (MiB) of every live process in a session."""
    total = 0
    for entry in _members(session):
        try:
            total += int((entry / "statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total / 2**20


def host_cpu_ticks() -> tuple[int, int]:
    """(stolen, all) CPU ticks of this machine since boot, every core together (proc(5): the `cpu`
    line of /proc/stat; `steal` is the time a virtual machine's cores were ready to run but the
    hypervisor ran someone else). Between two readings, stolen / all is the share of the machine its
    neighbours took: on a shared host the bench's tails grow with it."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def stolen_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU time stolen between two `host_cpu_ticks` readings."""
    elapsed = after[1] - before[1]
    return (after[0] - before[0]) / elapsed if elapsed > 0 else 0.0
