"""Keystone on its own: set up (schema, keys, the administrator and the first region) and served from
OpenStack's environment, on SQLite by default — the identity the testbed runs at its top site, and
what the quota tools and benches need without the rest of the control plane (`../shared/
multiregion.md`: Keystone 30 on SQLite, served by the threaded wsgiref server, up in seconds)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from wanstack.lab import openstack_env as environment
from wanstack.lab.openstack_env import ADMIN_AUTH, ADMIN_PASSWORD, DEBUG, REGION, ini
from wanstack.lab.ports import answers
from wanstack.lab.processes import Commands, ServiceProcess, together
from wanstack.lab.servers import LabServer


def conf_text(state: Path, database: str, log: Path) -> str:
    """keystone.conf: its database (an SQLAlchemy URL), fernet tokens with their keys and the credential keys
    under `state`, an in-memory cache, its log."""
    return ini(
        {
            "DEFAULT": {"log_file": log, "debug": DEBUG},
            "database": {"connection": database},
            "token": {"provider": "fernet"},
            "fernet_tokens": {"key_repository": state / "fernet-keys"},
            "fernet_receipts": {"key_repository": state / "fernet-keys"},
            "credential": {"key_repository": state / "credential-keys"},
            # Keystone caches roles, assignments, the catalog and validated tokens (production runs it
            # with memcached; one process here, so in its memory): without it a validation took
            # 1.3-1.5 s of its database's round trips on this machine.
            "cache": {"enabled": "true", "backend": "dogpile.cache.memory"},
        }
    )


def setup(conf: Path, public_url: str, log: Path, commands: Commands | None = None) -> None:
    """keystone-manage: the schema, the fernet and credential keys, then the administrator, its
    project and role, the first region and the identity endpoints at `public_url`."""
    commands = commands or Commands()
    prepare(conf, log, commands)
    bootstrap(conf, public_url, log, commands)


def _manage(conf: Path) -> list[str]:
    return [str(environment.script("keystone-manage")), "--config-file", str(conf)]


def prepare(conf: Path, log: Path, commands: Commands | None = None) -> None:
    """The schema and both key repositories."""
    manage = _manage(conf)
    runner = commands or Commands()

    def keys(what: str) -> None:
        # Its own log: it runs beside db_sync.
        keys_log = log.with_name(f"{log.stem}-{what}{log.suffix}")
        owner = ["--keystone-user", "root", "--keystone-group", "root"]
        runner.run(f"keystone {what}", [*manage, what, *owner], keys_log)

    # The two key repositories are files only (keystone/cmd/cli.py: FernetSetup and CredentialSetup
    # write keys, never the database), so they are made while db_sync migrates: each keystone-manage
    # spends 4-5 s here importing Keystone, and three of them one after the other were 3/4 of a
    # Keystone's start. bootstrap writes rows, so it waits for the schema.
    jobs = [lambda: runner.run("keystone db_sync", [*manage, "db_sync"], log)]
    jobs += [functools.partial(keys, what) for what in ("fernet_setup", "credential_setup")]
    together(jobs, runner, workers=3)


def bootstrap(conf: Path, public_url: str, log: Path, commands: Commands | None = None) -> None:
    """The administrator, its project and role, the first region and the identity endpoints."""
    (commands or Commands()).run(
        "keystone bootstrap",
        [
            *_manage(conf),
            "bootstrap",
            "--bootstrap-password",
            ADMIN_PASSWORD,
            "--bootstrap-region-id",
            REGION,
            *(f"--bootstrap-{i}-url={public_url}/v3" for i in ("admin", "internal", "public")),
        ],
        log,
    )


def available() -> bool:
    """Whether OpenStack's environment has Keystone (its Python and keystone-manage)."""
    return environment.python().exists() and environment.script("keystone-manage").exists()


@dataclass(eq=False)
class KeystoneServer(LabServer):
    """One Keystone at 127.0.0.1 on a free port, its files in a folder of its own (removed on stop).
    Use as a context manager."""

    database: str | None = None  # an SQLAlchemy URL (default: SQLite in its folder)
    startup_timeout_s: float = 120.0
    kind: ClassVar[str] = "keystone"
    scheme: ClassVar[str] = "http"
    installed = staticmethod(available)
    missing: ClassVar[str] = environment.MISSING

    def launch(self, root: Path) -> None:
        log = root / "keystone.log"
        database = self.database or f"sqlite:///{root / 'keystone.db'}"
        conf = root / "keystone.conf"
        conf.write_text(conf_text(root / "state", database, log), encoding="utf-8")
        prepare(conf, root / "setup.log")
        env = {
            "WANSTACK_WSGI_APP": "keystone.wsgi.api:application",
            "WANSTACK_WSGI_HOST": self.ip,
            "WANSTACK_WSGI_PORT": str(self.port),
            "OS_KEYSTONE_CONFIG_FILES": str(conf),
        }
        argv = [str(environment.python()), "-m", "wanstack_openstack.serve"]
        process = self.run(ServiceProcess("keystone", argv, root / "keystone.out", env))
        # The server imports Keystone (seconds here) while bootstrap writes the administrator's rows;
        # nothing reads them before start() returns: it has only asked for the version document.
        bootstrap(conf, self.url, root / "setup.log")
        process.wait_until(
            lambda: answers(f"{self.url}/v3"), self.startup_timeout_s, 0.2, f"answering on {self.url}/v3"
        )

    def connect(self, region: str = REGION) -> object:
        """The administrator's openstacksdk connection."""
        import openstack

        return openstack.connect(auth_url=f"{self.url}/v3", region_name=region, **ADMIN_AUTH)
