"""A private Redis server (Debian's `redis-server`) on a site's address: the site's trace store.

Each site's OpenStack processes write their osprofiler trace points to their own site's Redis
(osprofiler's `redis://` driver; its SQLAlchemy driver does not work with SQLAlchemy 2:
../shared/real-openstack.md), so that tracing puts nothing on the WAN; `wanstack trace` reads every
site's store. Nothing is saved to disk (`save ""`, no append-only file)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from wanstack.lab.ports import port_open
from wanstack.lab.processes import ServiceProcess
from wanstack.lab.servers import LabServer

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"


def available() -> bool:
    """Whether Debian's redis-server and redis-cli are installed."""
    return Path(REDIS_SERVER).exists() and Path(REDIS_CLI).exists()


@dataclass(eq=False)
class Redis(LabServer):
    """One redis-server at `ip`:`port` in the folder `root` (a temporary one, removed on stop, when not
    given), saving nothing to disk. Call start() and stop()."""

    startup_timeout_s: float = 20.0
    kind: ClassVar[str] = "redis"
    scheme: ClassVar[str] = "redis"
    installed = staticmethod(available)
    package: ClassVar[str] = "redis-server"

    def launch(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", self.ip, "--dir", str(root)]
        argv += ["--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"]
        server = self.run(ServiceProcess("redis-server", argv, root / "redis.log", grace_s=5.0))
        server.wait_until(
            lambda: port_open(self.port, self.ip),
            self.startup_timeout_s,
            0.05,
            f"answering on {self.ip}:{self.port}",
        )

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
