"""Keystone on its own: set up (schema, keys, the administrator and the first region) and served from
OpenStack's environment, on SQLite by default — the identity the testbed runs at its top site, and
what the quota tools and benches need without the rest of the control plane (`../shared/
multiregion.md`: Keystone 30 on SQLite, served by the threaded wsgiref server, up in seconds)."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from wanstack.bench.ports import free_port
from wanstack.testbed import config, environment
from wanstack.testbed.clients import answers
from wanstack.testbed.processes import ServiceProcess, run


def setup(conf: Path, public_url: str, log: Path) -> None:
    """keystone-manage: the schema, the fernet and credential keys, then the administrator, its
    project and role, the first region and the identity endpoints at `public_url`."""
    manage = [str(environment.script("keystone-manage")), "--config-file", str(conf)]
    run("keystone db_sync", [*manage, "db_sync"], log)
    for what in ("fernet_setup", "credential_setup"):
        run(f"keystone {what}", [*manage, what, "--keystone-user", "root", "--keystone-group", "root"], log)
    run(
        "keystone bootstrap",
        [
            *manage,
            "bootstrap",
            "--bootstrap-password",
            config.ADMIN_PASSWORD,
            "--bootstrap-region-id",
            config.REGION,
            *(f"--bootstrap-{i}-url={public_url}/v3" for i in ("admin", "internal", "public")),
        ],
        log,
    )


def available() -> bool:
    return environment.python().exists() and environment.script("keystone-manage").exists()


@dataclass
class KeystoneServer:
    """One Keystone at 127.0.0.1 on a free port, its files in a folder of its own (removed on stop).
    Use as a context manager."""

    database: str | None = None  # an SQLAlchemy URL (default: SQLite in its folder)
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    root: Path | None = None
    process: ServiceProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 120.0) -> KeystoneServer:
        if not available():
            raise RuntimeError(environment.MISSING)
        self.root = Path(tempfile.mkdtemp(prefix="wanstack-keystone-"))
        log = self.root / "keystone.log"
        database = self.database or f"sqlite:///{self.root / 'keystone.db'}"
        conf = self.root / "keystone.conf"
        conf.write_text(config.keystone(self.root / "state", database, log), encoding="utf-8")
        setup(conf, self.url, self.root / "setup.log")
        env = {
            "WANSTACK_WSGI_APP": "keystone.wsgi.api:application",
            "WANSTACK_WSGI_HOST": self.host,
            "WANSTACK_WSGI_PORT": str(self.port),
            "OS_KEYSTONE_CONFIG_FILES": str(conf),
        }
        argv = [str(environment.python()), "-m", "wanstack_openstack.serve"]
        self.process = ServiceProcess("keystone", argv, self.root / "keystone.out", env).start()
        deadline = time.monotonic() + timeout_s
        while not answers(f"{self.url}/v3"):
            if not self.process.alive or time.monotonic() > deadline:
                tail = self.process.tail()
                self.stop()
                raise RuntimeError(f"Keystone did not come up:\n{tail}")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def connect(self, region: str = config.REGION) -> object:
        """The administrator's openstacksdk connection."""
        import openstack

        return openstack.connect(
            auth_url=f"{self.url}/v3",
            username="admin",
            password=config.ADMIN_PASSWORD,
            project_name="admin",
            user_domain_name="Default",
            project_domain_name="Default",
            region_name=region,
        )

    def __enter__(self) -> KeystoneServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
