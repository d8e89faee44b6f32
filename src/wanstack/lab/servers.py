"""The life cycle every server the lab runs for an engine shares (a RabbitMQ node, a NATS server, a
MariaDB, a Redis): its files in a folder (the one given, kept; else a temporary one of its own,
removed when it stops), its processes each in a session of their own (`processes.ServiceProcess`:
stopping one stops what it started), `start()` returning once it answers and leaving nothing behind
when it fails or is interrupted, `stop()` undoing it all. A started server is also stopped when the
interpreter exits, and SIGTERM unwinds like Ctrl-C (`processes.exit_on_sigterm`): a run that is
stopped leaves no server running."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

from wanstack.lab.ports import free_port
from wanstack.lab.processes import ServiceProcess, exit_on_sigterm
from wanstack.lab.procstat import session_cpu_s, session_rss_mb

_RUNNING: weakref.WeakSet[LabServer] = weakref.WeakSet()


def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()


atexit.register(_stop_all)


@dataclass(eq=False, kw_only=True)  # identity semantics: running servers are kept in a WeakSet
class LabServer:
    """A server of the lab; use as a context manager, or call start()/stop(). What it runs is its
    own, through declared hooks: `require()` raises when its programs are not installed here (before
    anything is made), `launch(root)` starts it with its files under `root`, each process through
    `run`, and returns once it answers; `halt()`, after its processes are stopped (the last started
    first), removes what else `launch` made (also after a partial start). Its own process (not a
    helper's, such as a RabbitMQ node's epmd) is the one measured (`cpu_s`, `rss_mb`) and whose
    output `tail_log` shows."""

    root: Path | None = None  # parent folder for its files (default: a new temporary directory)
    ip: str = "127.0.0.1"  # the loopback address it listens on (a site's own: `lab.addresses`)
    port: int = field(default_factory=free_port)  # where its clients connect
    kind: ClassVar[str] = ""  # its temporary folder is named `wanstack-KIND-…`
    # The Debian package it runs (scripts/install-services.sh installs it), named when it is missing
    # (`installed`, the module's `available`), unless `missing` says more.
    package: ClassVar[str] = ""
    missing: ClassVar[str] = ""
    scheme: ClassVar[str] = ""  # what its clients' URLs start with (`url`)
    unavailable: ClassVar[type[RuntimeError]] = RuntimeError
    _own_root: bool = field(default=False, init=False, repr=False)
    _processes: list[ServiceProcess] = field(default_factory=list, init=False, repr=False)
    _own: ServiceProcess | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        """Where its clients connect: `scheme://ip:port`."""
        return f"{self.scheme}://{self.ip}:{self.port}"

    @staticmethod
    def installed() -> bool:
        """Whether its programs are installed here."""
        return True

    def require(self) -> None:
        """Raise `unavailable(missing)` when what it runs is not installed here."""
        if not self.installed():
            raise self.unavailable(
                self.missing or f"{self.package} is not installed (`make test` installs it from Debian)"
            )

    def launch(self, root: Path) -> None:
        raise NotImplementedError

    def halt(self) -> None:
        """Remove what `launch` made besides its processes and files under `root`."""

    def run(self, process: ServiceProcess, *, helper: bool = False) -> ServiceProcess:
        """Start `process` as one of the server's (`stop` stops it): its own, or a `helper`."""
        self._processes.append(process.start())
        if not helper:
            self._own = process
        return process

    def pids(self) -> list[int]:
        """Its processes' ids (each its session's) while they run, in the order they started."""
        return [pid for p in self._processes if (pid := p.pid) is not None]

    @property
    def pid(self) -> int | None:
        """Its own process's id (its session's) while it runs."""
        return self._own.pid if self._own is not None else None

    def tail_log(self, lines: int = 20) -> str:
        """The end of its own process's output."""
        return self._own.tail(lines) if self._own is not None else ""

    def cpu_s(self) -> float:
        """CPU seconds its own process's session (with its children: beam.smp's port programs) has
        used so far."""
        return session_cpu_s(self.pid) if self.pid is not None else 0.0

    def rss_mb(self) -> float:
        """Resident memory of its own process's session, MB."""
        return session_rss_mb(self.pid) if self.pid is not None else 0.0

    def start(self) -> Self:
        self.require()
        exit_on_sigterm()
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix=f"wanstack-{self.kind}-" if self.kind else "wanstack-"))
            self._own_root = True
        _RUNNING.add(self)
        try:
            self.launch(self.root)
        except BaseException:
            self.stop()  # whatever failed or interrupted the start, nothing is left behind
            raise
        return self

    def stop(self) -> None:
        """Stop what it runs and remove its temporary folder."""
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        self.halt()
        _RUNNING.discard(self)
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
            self._own_root = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
