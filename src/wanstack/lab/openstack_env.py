"""OpenStack's own environment: a virtual environment of its own (`make openstack` creates it at
`.venv-openstack` in the repository, pinned by `openstack/constraints.txt`), apart from wanstack's:
its services are external components, as RabbitMQ is. With it, what every OpenStack process the lab
starts shares: the administrator, the region, and its configuration files' format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ADMIN_PASSWORD = "wanstack"  # a throw-away control plane on loopback
# Every service's debug logging (`WANSTACK_TESTBED_DEBUG=1`), to see what a request did.
DEBUG = "true" if os.environ.get("WANSTACK_TESTBED_DEBUG") else "false"
REGION = "RegionOne"
# The administrator as keystoneauth's password plug-in and openstacksdk's `connect` name it (the
# project and both domains are keystone-manage bootstrap's: "admin" in the "Default" domain).
ADMIN_AUTH: dict[str, Any] = {
    "username": "admin",
    "password": ADMIN_PASSWORD,
    "project_name": "admin",
    "user_domain_name": "Default",
    "project_domain_name": "Default",
}

# src/wanstack/lab/openstack_env.py -> the repository (an editable install, as `make` makes it).
REPOSITORY = Path(__file__).resolve().parents[3]


def venv() -> Path:
    """OpenStack's environment: `$WANSTACK_OPENSTACK_VENV`, else the repository's `.venv-openstack`."""
    return Path(os.environ.get("WANSTACK_OPENSTACK_VENV", REPOSITORY / ".venv-openstack"))


def python() -> Path:
    """The Python interpreter of OpenStack's environment."""
    return venv() / "bin" / "python"


def script(name: str) -> Path:
    """The console script `name` of OpenStack's environment (keystone-manage, nova-compute, ...)."""
    return venv() / "bin" / name


def etc(project: str) -> Path:
    """The files a project ships under the environment's etc/ (paste configurations)."""
    return venv() / "etc" / project


def available() -> bool:
    """Whether OpenStack's environment is installed (its Python and nova-compute are there)."""
    return python().exists() and script("nova-compute").exists()


MISSING = "OpenStack's services are not installed (`make openstack` creates .venv-openstack)"


def ini(sections: dict[str, dict[str, object]]) -> str:
    """A configuration file's text in oslo.config's format: each section's options as `key = value` lines, in
    the order given."""
    lines: list[str] = []
    for name, options in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {value}" for key, value in options.items()]
        lines.append("")
    return "\n".join(lines)
