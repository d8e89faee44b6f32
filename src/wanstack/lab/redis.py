"""A private Redis server (Debian's `redis-server`) on a site's address: the site's trace store.

Each site's OpenStack processes write their osprofiler trace points to their own site's Redis
(osprofiler's `redis://` driver; its SQLAlchemy driver does not work with SQLAlchemy 2:
../shared/real-openstack.md), so that tracing puts nothing on the WAN; `wanstack trace` reads every
site's store. Nothing is saved to disk (`save ""`, no append-only file)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from wanstack.lab.ports import free_port, port_open
from wanstack.lab.processes import exit_on_sigterm, terminate

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"


def available() -> bool:
    """Whether Debian's redis-server and redis-cli are installed."""
    return Path(REDIS_SERVER).exists() and Path(REDIS_CLI).exists()


@dataclass(eq=False)
class Redis:
    """One redis-server at `ip`:`port` in the folder `root` (a temporary one, removed on stop, when not
    given), saving nothing to disk. Call start() and stop()."""

    ip: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    root: Path | None = None
    _own_root: bool = False
    _server: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.ip}:{self.port}"

    def start(self) -> Redis:
        if not available():
            raise RuntimeError("redis-server is not installed (`make test` installs it from Debian)")
        exit_on_sigterm()
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="wanstack-redis-"))
            self._own_root = True
        self.root.mkdir(parents=True, exist_ok=True)
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", self.ip, "--dir", str(self.root)]
        argv += ["--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"]
        self._server = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 20
        while not port_open(self.port, self.ip):
            if self._server.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on {self.ip}:{self.port} did not start")
            time.sleep(0.05)
        return self

    def lrange(self, key: str) -> list[str]:
        """Every element of a list, as `redis-cli` prints them raw (one per line)."""
        out = subprocess.run(
            [REDIS_CLI, "-h", self.ip, "-p", str(self.port), "--raw", "LRANGE", key, "0", "-1"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return [line for line in out.stdout.splitlines() if line.strip()]

    def pids(self) -> list[int]:
        return [self._server.pid] if self._server is not None and self._server.poll() is None else []

    def stop(self) -> None:
        if self._server is not None:
            terminate(self._server)
            self._server = None
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
