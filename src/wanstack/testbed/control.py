"""`wanstack testbed up / status / down`: a testbed that outlives the command that started it, held by
its supervisor process (`supervisor`), found again through its folder's `state.json`."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wanstack.lab.ports import answers
from wanstack.lab.processes import interruptible, pid_alive
from wanstack.testbed.clients import connect
from wanstack.testbed.supervisor import STATE

DEFAULT_FOLDER = Path(os.environ.get("WANSTACK_TESTBED", "/tmp/wanstack-testbed"))
LOG = "supervisor.log"
STOPPING = "stopping"  # `down` is stopping it


class TestbedError(RuntimeError):
    """What went wrong, said for the user."""


def state(folder: Path = DEFAULT_FOLDER) -> dict[str, Any] | None:
    """The running testbed's description, or None when none is up (or its supervisor is gone)."""
    path = folder / STATE
    if not path.exists():
        return None
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found if pid_alive(int(found["pid"])) else None


def starting(folder: Path = DEFAULT_FOLDER) -> bool:
    """Whether a testbed is starting in `folder`: its supervisor runs, its state is not written yet."""
    return state(folder) is None and _supervisor_pid(folder) is not None


def _supervisor_pid(folder: Path) -> int | None:
    path = folder / "supervisor.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(path.read_text())
        return pid if pid_alive(pid) else None
    return None


def up(
    scenario: str,
    edges: int | None = None,
    folder: Path = DEFAULT_FOLDER,
    say: Callable[[str], None] = print,
    timeout_s: float = 900.0,
) -> dict[str, Any]:
    """Start a testbed for `scenario` in the background and return its state once it is ready. Ctrl-C,
    SIGTERM or SIGHUP meanwhile stop it, whatever this process inherited (nothing is left); so does
    this process's death (the supervisor watches it until the testbed is ready); `down` meanwhile ends
    it with a TestbedError."""
    if state(folder) is not None or _supervisor_pid(folder) is not None:
        raise TestbedError(f"a testbed is already up in {folder} (`wanstack testbed down` first)")
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / LOG
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "wanstack.testbed.supervisor"),
                *(str(folder), scenario, str(edges or ""), str(os.getpid())),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (folder / "supervisor.pid").write_text(str(proc.pid), encoding="utf-8")
    shown = 0
    deadline = time.monotonic() + timeout_s
    try:
        with interruptible():
            while True:
                try:
                    lines = log.read_text(errors="replace").splitlines()
                except FileNotFoundError:  # `testbed down` removed the folder
                    raise TestbedError(f"the testbed in {folder} was taken down while it started") from None
                for line in lines[shown:]:
                    say(line)
                shown = len(lines)
                if (folder / STOPPING).exists() or not (folder / "supervisor.pid").exists():
                    raise TestbedError(f"the testbed in {folder} was taken down while it started")
                found = state(folder)
                if found is not None:
                    return found
                if proc.poll() is not None:
                    raise TestbedError(f"the testbed did not start (its log: {log})")
                if time.monotonic() > deadline:
                    raise TestbedError(f"the testbed was not ready in {timeout_s:.0f} s (its log: {log})")
                time.sleep(0.5)
    except BaseException as err:
        _stop(proc.pid, say)
        if not isinstance(err, TestbedError):
            shutil.rmtree(folder, ignore_errors=True)  # interrupted: nothing is left
        raise


def down(folder: Path = DEFAULT_FOLDER, say: Callable[[str], None] = print, timeout_s: float = 180.0) -> bool:
    """Stop the testbed and remove its folder (False when none was up)."""
    pid = _supervisor_pid(folder)
    if pid is not None:
        # Said first, so that an `up` still waiting for it tells why it stopped (not "did not start").
        (folder / STOPPING).touch()
        _stop(pid, say, timeout_s)
    existed = folder.exists()
    shutil.rmtree(folder, ignore_errors=True)
    return pid is not None or existed


def _stop(pid: int, say: Callable[[str], None], timeout_s: float = 180.0) -> None:
    say("stopping the testbed …")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # our own child when `up` is interrupted
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            break
        time.sleep(0.2)


@dataclass
class ServiceStatus:
    """One line of `wanstack testbed status`: an API (its name, the top site, "up" or "down" as it answers) or
    a Nova service (its binary, its host, and its state and status as nova-api lists them, e.g. "up
    (enabled)")."""

    name: str
    site: str
    state: str  # "up", "down", or what answered


def status(found: dict[str, Any]) -> list[ServiceStatus]:
    """Each API (does it answer at its site?) and each Nova service (as the API lists it)."""
    top = found["top"]
    out = []
    for name, url in found["apis"][top].items():
        out.append(ServiceStatus(name, top, "up" if answers(url + "/") else "down"))
    with contextlib.suppress(Exception):
        cloud = connect(found["apis"][top])
        for s in cloud.compute.services():
            out.append(ServiceStatus(s.binary, s.host, f"{s.state} ({s.status})"))
    return out
