"""What a test run left behind: processes that carry its mark (the environment variable
WANSTACK_TEST_RUN=<its id>, inherited by everything the tests started, services in sessions of their
own included) and files in its temporary folder. Each is listed, then removed (processes killed with
their process groups); the exit status is 1 when there was any, so that the suite fails.

    python scripts/leftovers.py RUN_ID TMPDIR
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from pathlib import Path


def marked(run_id: str) -> list[tuple[int, str]]:
    """Live processes (not zombies, not this one or its parent) whose environment carries the mark."""
    mark = f"WANSTACK_TEST_RUN={run_id}".encode()
    mine = {os.getpid(), os.getppid()}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            if "zombie" in (entry / "status").read_text().lower():
                continue
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((int(entry.name), command.strip()))
    return found


def main() -> int:
    run_id, tmp = sys.argv[1], Path(sys.argv[2])
    left = marked(run_id)
    for pid, command in left:
        print(f"left running: pid {pid}: {command[:200]}", file=sys.stderr)
        with contextlib.suppress(OSError):
            group = os.getpgid(pid)
            if group != os.getpgrp():  # its own group (a service's session), not this script's
                os.killpg(group, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    files = sorted(tmp.iterdir()) if tmp.is_dir() else []
    for path in files:
        inside = sorted(p.name for p in path.iterdir())[:5] if path.is_dir() else []
        print(f"left behind: {path}" + (f" (holding {', '.join(inside)})" if inside else ""), file=sys.stderr)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if left or files:
        print(f"the tests left {len(left)} processes and {len(files)} files: a failure", file=sys.stderr)
        return 1
    print("nothing left behind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
