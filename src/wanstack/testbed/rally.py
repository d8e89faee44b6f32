"""Rally itself against a testbed that is up: rally 5.1.1 with rally-openstack 4.1.0, in an
environment of its own (`make rally` creates `.venv-rally`, pinned by openstack/rally-constraints.txt).

Rally's clients take every URL from Keystone's catalog, which holds the top site's: Rally is a user at
the top site (its requests and polls cross no WAN link), acting on servers at the site it is given
(`host`, Nova's API microversion 2.74: through the scheduler, onto that site's nova-compute, as
`wanstack testbed run` boots). Its environment is an existing cloud (`existing@openstack`) with the
testbed's administrator, also as the only user (so no `users` context creates projects, and the
administrator may name a host); its database is SQLite under the testbed's folder (`rally/`, removed
with the testbed), its home folder there too (Rally keeps its default environment and task in
`~/.rally/globals`). The task is Rally's own (`NovaServers.boot_and_delete_server`,
`NovaServers.pause_and_unpause_server`, the constant runner with `times` and `concurrency`), and its
JSON report is what `wanstack.results.rally` reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from wanstack.lab.openstack_env import ADMIN_AUTH, REGION, REPOSITORY
from wanstack.lab.processes import Commands

ENVIRONMENT = "testbed"  # the Rally environment's name in its database
# The Nova API microversion Rally's novaclient speaks: 2.74 lets a server's create name its host
# (nova/api/openstack/compute/schemas/servers.py, `create_v274`); novaclient sends `host` from it on
# (novaclient/v2/servers.py `ServerManager.create`).
NOVA_MICROVERSION = "2.74"
TIMEOUT_S = 3600.0  # one task's commands; each server's own wait is Rally's (nova_server_*_timeout)
MISSING = "Rally is not installed (`make rally` creates .venv-rally)"


class Workload(StrEnum):
    """The Rally scenarios `wanstack testbed rally` runs, by a short name."""

    BOOT_AND_DELETE = "boot-and-delete"
    PAUSE_AND_UNPAUSE = "pause-and-unpause"

    @property
    def scenario(self) -> str:
        """Rally's name for it (rally_openstack/task/scenarios/nova/servers.py)."""
        return {
            Workload.BOOT_AND_DELETE: "NovaServers.boot_and_delete_server",
            Workload.PAUSE_AND_UNPAUSE: "NovaServers.pause_and_unpause_server",
        }[self]


def venv() -> Path:
    """Rally's environment: `$WANSTACK_RALLY_VENV`, else the repository's `.venv-rally`."""
    return Path(os.environ.get("WANSTACK_RALLY_VENV", REPOSITORY / ".venv-rally"))


def available() -> bool:
    """Whether Rally is installed (its `rally` script is there)."""
    return (venv() / "bin" / "rally").exists()


def spec(found: dict[str, Any]) -> dict[str, Any]:
    """The Rally environment of the testbed `found` (its state): an existing cloud reached through the
    top site's Keystone, the administrator as admin and as the one user, Nova at NOVA_MICROVERSION
    (rally_openstack/environment/platforms/existing.py, `CONFIG_SCHEMA`)."""
    user = {key: ADMIN_AUTH[key] for key in ("username", "password", "project_name")} | {
        "user_domain_name": ADMIN_AUTH["user_domain_name"],
        "project_domain_name": ADMIN_AUTH["project_domain_name"],
    }
    keystone = found["apis"][found["top"]]["keystone"]
    return {
        "existing@openstack": {
            "auth_url": f"{keystone}/v3",
            "region_name": REGION,
            "endpoint_type": "public",
            "admin": user,
            "users": [user],
            "api_info": {"nova": {"version": NOVA_MICROVERSION}},
        }
    }


def task(
    found: dict[str, Any], workloads: list[Workload], site: str, times: int, concurrency: int
) -> dict[str, Any]:
    """A Rally task (format 2) with one subtask per workload: `times` iterations, `concurrency` at a
    time (Rally's constant runner), each server booted from the testbed's image and flavor on its
    network at `site`'s nova-compute."""
    resources = found["resources"]
    arguments = {
        "image": {"id": resources["image"]},
        "flavor": {"id": resources["flavor"]},
        "nics": [{"net-id": resources["network"]}],
        "host": site,
    }
    return {
        "version": 2,
        "title": f"wanstack testbed rally at {site}",
        "subtasks": [
            {
                "title": workload.scenario,
                "workloads": [
                    {
                        "scenario": {workload.scenario: arguments},
                        "runner": {"constant": {"times": times, "concurrency": concurrency}},
                        # Failed iterations are figures to report, not a failed task: Rally's
                        # `failure_rate` SLA defaults to none allowed (rally/task/task_cfg.py) and
                        # `task start` then exits 2.
                        "sla": {"failure_rate": {"max": 100}},
                    }
                ],
            }
            for workload in workloads
        ],
    }


def run_task(
    found: dict[str, Any],
    workloads: list[Workload],
    site: str,
    *,
    times: int = 10,
    concurrency: int = 1,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run Rally's task (`task`) against the testbed `found` and return its JSON report (parsed). The
    first run in a testbed creates Rally's database and environment under its folder; each run's
    task, report and Rally's output stay there (`rally/task-N.json`, `report-N.json`, `rally.log`).
    Raises ValueError for a site without a nova-compute, RuntimeError when Rally fails (its last
    lines in the message); iterations that fail are in the report, not raised."""
    if site not in found["computes"]:
        raise ValueError(f"{site!r} runs no nova-compute on the testbed ({', '.join(found['computes'])})")
    if not available():
        raise RuntimeError(MISSING)
    folder = Path(found["root"]) / "rally"
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "rally.conf"
    log = folder / "rally.log"
    commands = Commands()
    env = {"HOME": str(folder)}  # Rally's ~/.rally/globals: its default environment and task

    def rally(what: str, *argv: str) -> None:
        commands.run(
            f"rally {what}",
            [str(venv() / "bin" / "rally"), "--config-file", str(conf), *argv],
            log,
            env,
            TIMEOUT_S,
        )

    ready = folder / "environment.ready"  # written once Rally's database and environment are made
    if not ready.exists():
        # Rally's own database (rally/common/db: oslo.db's `[database] connection`); `db recreate`
        # also starts afresh after a first run that stopped half-way.
        conf.write_text(f"[database]\nconnection = sqlite:///{folder / 'rally.sqlite'}\n", encoding="utf-8")
        (folder / "spec.json").write_text(json.dumps(spec(found), indent=2), encoding="utf-8")
        if say is not None:
            say(f"Rally's database and environment in {folder}")
        rally("db recreate", "db", "recreate")
        rally("env create", "env", "create", "--name", ENVIRONMENT, "--spec", str(folder / "spec.json"))
        ready.touch()
    n = len(list(folder.glob("task-*.json"))) + 1
    task_file, report_file = folder / f"task-{n}.json", folder / f"report-{n}.json"
    task_file.write_text(
        json.dumps(task(found, workloads, site, times, concurrency), indent=2), encoding="utf-8"
    )
    if say is not None:
        names = ", ".join(w.scenario for w in workloads)
        say(f"rally task start: {names}, times {times}, concurrency {concurrency}, at {site} (log: {log})")
    rally("task start", "task", "start", str(task_file), "--env", ENVIRONMENT)
    # The task just started is Rally's default task (`task start` without --no-use).
    rally("task report", "task", "report", "--json", "--out", str(report_file))
    report: dict[str, Any] = json.loads(report_file.read_text(encoding="utf-8"))
    return report
