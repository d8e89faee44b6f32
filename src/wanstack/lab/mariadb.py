"""A private MariaDB server (Debian's `mariadbd`) for the testbed: its own data folder, socket and
port on a site's loopback address, stopped and removed on exit. Tuned for a throw-away test database
on a small machine: no fsync per commit (`innodb_flush_log_at_trx_commit = 0`), a small buffer pool,
no performance schema (../shared/real-openstack.md: ~185 MB, up in < 1 s)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from wanstack.lab.ports import port_open
from wanstack.lab.processes import ServiceProcess
from wanstack.lab.servers import LabServer

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
CLIENT = "/usr/bin/mariadb"
# The services' account (root's accounts are host-specific, 127.0.0.1 among them, without a password).
USER = "openstack"
PASSWORD = "wanstack"  # a throw-away server on loopback, reached through the site's relays only
# A Unix socket's path fits in 107 bytes (`sun_path` of sockaddr_un, unix(7)); MariaDB refuses to start
# with a longer one ("The socket file path is too long"), which a testbed folder a few levels deep
# reaches: such a server's socket goes into a short temporary folder of its own.
SOCKET_PATH_MAX = 107


def available() -> bool:
    """Whether Debian's MariaDB server and mariadb-install-db are installed."""
    return Path(MARIADBD).exists() and Path(INSTALL_DB).exists()


@dataclass(eq=False)
class MariaDB(LabServer):
    """One server. Use as a context manager, or call start()/stop()."""

    startup_timeout_s: float = 60.0
    kind: ClassVar[str] = "mariadb"
    scheme: ClassVar[str] = "mysql"
    installed = staticmethod(available)
    package: ClassVar[str] = "mariadb-server"
    _home: Path | None = None
    _socket: Path | None = None
    _short: Path | None = None  # a folder of its own for the socket when `root` is deep

    def database_url(self, database: str, host: str | None = None, port: int | None = None) -> str:
        """SQLAlchemy URL of `database`, reached at `host`:`port` (a relay's; default: the server)."""
        where = f"{host or self.ip}:{port or self.port}"
        return f"mysql+pymysql://{USER}:{PASSWORD}@{where}/{database}?charset=utf8"

    def launch(self, root: Path) -> None:
        home = self._home = root / f"mariadb-{self.port}"
        (home / "data").mkdir(parents=True, exist_ok=True)
        self._socket = home / "mysqld.sock"
        if len(os.fsencode(self._socket)) > SOCKET_PATH_MAX:
            self._short = Path(tempfile.mkdtemp(prefix="wanstack-my-"))
            self._socket = self._short / "mysqld.sock"
        config = home / "my.cnf"
        # No log-error: the server writes its errors to stderr, which goes to its log (`tail_log`).
        config.write_text(
            "[mariadbd]\n"
            f"datadir = {home / 'data'}\n"
            f"socket = {self._socket}\n"
            f"pid-file = {home / 'mysqld.pid'}\n"
            f"port = {self.port}\n"
            f"bind-address = {self.ip}\n"
            "user = root\n"
            "skip-name-resolve\n"
            "innodb_flush_log_at_trx_commit = 0\n"
            "innodb_buffer_pool_size = 64M\n"
            "innodb_log_file_size = 16M\n"
            "performance_schema = OFF\n"
            "max_connections = 500\n",
            encoding="utf-8",
        )
        subprocess.run(
            [
                INSTALL_DB,
                f"--defaults-file={config}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        argv = [MARIADBD, f"--defaults-file={config}"]
        server = self.run(ServiceProcess("mariadbd", argv, home / "error.log"))
        socket = self._socket
        server.wait_until(
            lambda: port_open(self.port, self.ip) and socket.exists(),
            self.startup_timeout_s,
            0.1,
            f"answering on {self.ip}:{self.port}",
        )
        # The services' account, from any loopback address (they connect through relays).
        self.sql(
            f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';"
            f"GRANT ALL ON *.* TO '{USER}'@'%'; FLUSH PRIVILEGES;"
        )

    def sql(self, statements: str) -> None:
        """Run SQL as root, over the server's socket (root@localhost has no password)."""
        assert self._socket is not None
        subprocess.run(
            [CLIENT, "--user=root", f"--socket={self._socket}", "--execute", statements],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def create(self, *databases: str) -> None:
        self.sql("".join(f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8;" for name in databases))

    def halt(self) -> None:
        if self._short is not None:
            shutil.rmtree(self._short, ignore_errors=True)
            self._short = None
