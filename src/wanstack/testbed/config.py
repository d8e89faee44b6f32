"""The OpenStack services' configuration files, per process and per site.

Every address in a process's configuration is the one its site sees the instance at
(`layout.Layout.at`): the instance's own address at its site, a relay's elsewhere. Services find each
other by these explicit endpoints (`endpoint_override` of each keystoneauth adapter, the transport and
database URLs) rather than by Keystone's catalog, whose one URL per service could not differ by site;
the catalog holds the top site's addresses for clients that read it (Neutron's notifier to Nova).

Choices for one small machine, each from ../shared/real-openstack.md unless said:
- one administrator account for every service (no service users: Keystone checks a token all the
  same, keystonemiddleware caches it for `token_cache_time` = 300 s as in production);
- Nova's fake virt driver that keeps its node identity across restarts
  (`fake.FakeDriverWithoutFakeNodes`), one conductor and one scheduler worker, a short graceful
  shutdown, notifications off (Nova's default sends none either);
- Neutron's ML2 with `local` networks and wanstack's `wanstack_bind_all` mechanism driver
  (`openstack/wanstack_openstack/ml2.py`), one API worker, no RPC workers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from wanstack.lab.openstack_env import ADMIN_AUTH, DEBUG, REGION, ini
from wanstack.scenario.services import Service

# A service's URL as the process's site sees the instance serving it (`Testbed.url_for`).
Url = Callable[[Service], str]


def _auth(keystone: str) -> dict[str, object]:
    """A keystoneauth password plugin's options, as the administrator."""
    return {
        "auth_type": "password",
        "auth_url": f"{keystone}/v3",
        **ADMIN_AUTH,
        "region_name": REGION,
    }


def authtoken(keystone: str) -> dict[str, object]:
    """keystonemiddleware's section: validate users' tokens with Keystone (cached in the process)."""
    return {"www_authenticate_uri": f"{keystone}/v3", **_auth(keystone)}


# osprofiler's HMAC key: a request is traced only when it carries trace headers signed with it.
TRACE_KEY = "wanstack-trace"


def profiler(store: str) -> dict[str, object]:
    """osprofiler (osprofiler/opts.py) in every service: REST, RPC, SQL and outgoing HTTP points of a
    traced request, written to the site's own store."""
    return {
        "enabled": "true",
        "hmac_keys": TRACE_KEY,
        "connection_string": store,
        "trace_sqlalchemy": "true",
        "trace_requests": "true",
    }


def common(state: Path, log: Path) -> dict[str, object]:
    """The `[DEFAULT]` options every Nova and Neutron process shares: its log file (not stderr), the debug
    switch, and its state folder."""
    return {
        "log_file": log,
        "debug": DEBUG,
        "state_path": state,
        "use_stderr": "false",
    }


def placement(database: str, keystone_url: str, log: Path) -> str:
    """placement.conf: its database, Keystone's token check on its API, its log."""
    return ini(
        {
            "DEFAULT": {"log_file": log, "debug": DEBUG},
            "placement_database": {"connection": database},
            "api": {"auth_strategy": "keystone"},
            "keystone_authtoken": authtoken(keystone_url),
        }
    )


def glance(state: Path, database: str, keystone_url: str, paste: Path, log: Path) -> str:
    """glance-api.conf: images on the file store under `state` (staging and tasks beside them), its database,
    Keystone's token check on its API (`paste`: the paste pipeline), its log."""
    return ini(
        {
            "DEFAULT": {"log_file": log, "debug": DEBUG, "enabled_backends": "file:file"},
            "database": {"connection": database},
            "glance_store": {"default_backend": "file"},
            "file": {"filesystem_store_datadir": state / "images"},
            "os_glance_staging_store": {"filesystem_store_datadir": state / "staging"},
            "os_glance_tasks_store": {"filesystem_store_datadir": state / "tasks"},
            "keystone_authtoken": authtoken(keystone_url),
            "paste_deploy": {"flavor": "keystone", "config_file": paste},
            "oslo_concurrency": {"lock_path": state / "locks"},
        }
    )


def neutron(state: Path, database: str, *, transport: str, url: Url, paste: Path, log: Path) -> str:
    """neutron.conf for neutron-server: ML2 with `local` networks bound by `wanstack_bind_all`, security
    groups, one API worker and no RPC workers, its bus (`transport`) and database, Nova told of port changes.
    `url(service)` is how this process's site reaches that service."""
    keystone_url = url(Service.KEYSTONE)
    return ini(
        {
            "DEFAULT": {
                **common(state, log),
                "core_plugin": "ml2",
                "service_plugins": "",
                "auth_strategy": "keystone",
                "api_workers": 1,
                "rpc_workers": 0,
                "rpc_state_report_workers": 0,
                "transport_url": transport,
                "api_paste_config": paste,
                "notify_nova_on_port_status_changes": "true",
                "notify_nova_on_port_data_changes": "true",
            },
            "database": {"connection": database},
            "keystone_authtoken": authtoken(keystone_url),
            "nova": {**_auth(keystone_url), "endpoint_type": "public"},
            "oslo_concurrency": {"lock_path": state / "locks"},
            "ml2": {
                "type_drivers": "local,flat",
                "tenant_network_types": "local",
                "mechanism_drivers": "wanstack_bind_all",
                "extension_drivers": "port_security",
            },
            "securitygroup": {"enable_security_group": "true"},
        }
    )


def nova(
    state: Path,
    log: Path,
    url: Url,
    *,
    transport: str,
    host: str,
    my_ip: str,
    paste: Path,
    api_database: str | None = None,
    database: str | None = None,
) -> str:
    """Any Nova process: nova-api, a conductor (super, cell, or both when it has both databases),
    the scheduler, a compute. `url(service)` is how this process's site reaches that service."""
    keystone_url = url(Service.KEYSTONE)
    sections: dict[str, dict[str, object]] = {
        "DEFAULT": {
            **common(state, log),
            "transport_url": transport,
            "host": host,
            "my_ip": my_ip,
            "compute_driver": "fake.FakeDriverWithoutFakeNodes",
            "graceful_shutdown_timeout": 5,
            "instance_usage_audit": "false",
            "heal_instance_info_cache_interval": -1,
        },
        "api": {"auth_strategy": "keystone"},
        "wsgi": {"api_paste_config": paste},
        "keystone_authtoken": authtoken(keystone_url),
        "placement": {**_auth(keystone_url), "endpoint_override": url(Service.PLACEMENT)},
        "neutron": {**_auth(keystone_url), "endpoint_override": url(Service.NEUTRON_SERVER)},
        "glance": {**_auth(keystone_url), "endpoint_override": url(Service.GLANCE_API)},
        "conductor": {"workers": 1},
        "scheduler": {"workers": 1},
        "oslo_messaging_notifications": {"driver": "noop"},
        "oslo_concurrency": {"lock_path": state / "locks"},
        "os_vif_ovs": {"ovsdb_connection": "tcp:127.0.0.1:1"},  # never used: no VIF is plugged
    }
    if api_database is not None:
        sections["api_database"] = {"connection": api_database}
    if database is not None:
        sections["database"] = {"connection": database}
    return ini(sections)
