"""The OpenStack services' configuration files, per process and per site.

Every address in a process's configuration is the one its site sees the instance at
(`layout.Layout.at`): the instance's own address at its site, a relay's elsewhere. Services find each
other by these explicit endpoints (`endpoint_override` of each keystoneauth adapter, the transport and
database URLs) rather than by Keystone's catalog, whose one URL per service could not differ by site;
the catalog holds the top site's addresses for clients that read it (Neutron's notifier to Nova).

Choices for one small machine, each from ../shared/real-openstack.md unless said:
- one administrator account for every service (no service users: Keystone checks a token all the
  same, keystonemiddleware caches it for `token_cache_time` = 300 s as in production);
- Nova's virt driver as the scenario's `openstack: virt` says: `libvirt` is wanstack's
  `GuestlessLibvirt` (openstack/wanstack_openstack/virt.py: libvirt's image cache, os-vif plugging
  and wait for `network-vif-plugged`, no guest); `fake` is Nova's fake driver that keeps its node
  identity across restarts (`fake.FakeDriverWithoutFakeNodes`); both keep the node identity. One
  conductor and one scheduler worker, a short graceful shutdown, notifications off (Nova's default
  sends none either);
- Neutron's ML2 with `local` networks as `openstack: neutron` says: `ml2-ovs` is the `openvswitch`
  mechanism driver with Neutron's own OVS agent at each compute site (`ovs_agent`) and an RPC server
  beside the API; `bind-all` is wanstack's `wanstack_bind_all` driver
  (`openstack/wanstack_openstack/ml2.py`), with no RPC worker. One API worker either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

from wanstack.lab.openstack_env import ADMIN_AUTH, DEBUG, REGION, etc, ini, script
from wanstack.scenario.openstack import NeutronBackend, VirtDriver
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


def neutron(
    state: Path,
    database: str,
    *,
    transport: str,
    url: Url,
    paste: Path,
    log: Path,
    backend: NeutronBackend = NeutronBackend.ML2_OVS,
) -> str:
    """neutron.conf for neutron-server and its RPC server: ML2 with `local` networks bound by `backend`'s
    mechanism driver, security groups, one API worker (and one RPC worker when agents call it), its bus
    (`transport`) and database, Nova told of port changes. `url(service)` is how this process's site
    reaches that service."""
    keystone_url = url(Service.KEYSTONE)
    match backend:
        case NeutronBackend.ML2_OVS:
            # The agents' RPCs (device details, security groups, device up, state reports) are served
            # by neutron-rpc-server's RPC worker (neutron/service.py `_get_rpc_workers`: none with 0).
            # No DHCP agent: a port's provisioning then waits for the L2 agent alone
            # (neutron/db/provisioning_blocks.py; `dhcp_agent_notification` adds no DHCP block).
            drivers, rpc_workers, agents = "openvswitch", 1, {"dhcp_agent_notification": "false"}
        case NeutronBackend.BIND_ALL:
            drivers, rpc_workers, agents = "wanstack_bind_all", 0, {}
        case NeutronBackend.ML2_OVN:
            raise ValueError("the testbed runs ml2-ovs or bind-all, not ml2-ovn (no OVN databases here)")
        case unknown:
            assert_never(unknown)
    return ini(
        {
            "DEFAULT": {
                **common(state, log),
                "core_plugin": "ml2",
                "service_plugins": "",
                "auth_strategy": "keystone",
                "api_workers": 1,
                "rpc_workers": rpc_workers,
                "rpc_state_report_workers": 0,  # state reports served by the RPC worker too
                **agents,
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
                "mechanism_drivers": drivers,
                "extension_drivers": "port_security",
            },
            "securitygroup": {"enable_security_group": "true"},
        }
    )


@dataclass(frozen=True)
class Switch:
    """A compute site's Open vSwitch as its nova-compute and OVS agent reach it (`lab.ovs.OvsSwitch`):
    its database's unix socket, the namespace its devices are made in, and where the agent's OpenFlow
    controller listens for it (an address on the root namespace's end of its veth, a port)."""

    ovsdb_connection: str
    namespace: str
    controller_ip: str
    controller_port: int


def _privsep(conf: Path) -> dict[str, object]:
    """A privsep context's helper, run directly (the testbed runs as root, with no sudo or rootwrap):
    OpenStack's environment's privsep-helper reading the process's own configuration
    (oslo_privsep/priv_context.py `PrivContext.helper_command`)."""
    return {"helper_command": f"{script('privsep-helper')} --config-file {conf}"}


@dataclass(frozen=True)
class Compute:
    """What only a nova-compute's configuration has: its virt driver, its site's switch (None: no VIF
    is plugged), the file its configuration goes to (os-vif's privileged helper reads it), and how long
    the guestless driver's define-and-start, power-off and pause (or unpause) of a guest take (the
    simulator's `spawn_ms`, `shutdown_ms`, `pause_ms`: both engines do the same work)."""

    virt: VirtDriver
    switch: Switch | None
    conf: Path
    spawn_s: float
    shutdown_s: float = 0.0
    pause_s: float = 0.0


def nova(
    state: Path,
    log: Path,
    url: Url,
    *,
    transport: str,
    host: str,
    my_ip: str,
    api_database: str | None = None,
    database: str | None = None,
    compute: Compute | None = None,
) -> str:
    """Any Nova process: nova-api, a conductor (super, cell, or both when it has both databases),
    the scheduler, a compute (`compute`: its driver and switch). `url(service)` is how this process's
    site reaches that service."""
    keystone_url = url(Service.KEYSTONE)
    virt = compute.virt if compute is not None else VirtDriver.FAKE
    switch = compute.switch if compute is not None else None
    match virt:
        case VirtDriver.LIBVIRT:
            driver = "wanstack_guestless.GuestlessLibvirt"  # wanstack_openstack/daemon.py names it
        case VirtDriver.FAKE:
            driver = "fake.FakeDriverWithoutFakeNodes"
        case unknown:
            assert_never(unknown)
    sections: dict[str, dict[str, object]] = {
        "DEFAULT": {
            **common(state, log),
            "transport_url": transport,
            "host": host,
            "my_ip": my_ip,
            "compute_driver": driver,  # read by nova-compute alone
            "graceful_shutdown_timeout": 5,
            "instance_usage_audit": "false",
            "heal_instance_info_cache_interval": -1,
        },
        "api": {"auth_strategy": "keystone"},
        "wsgi": {"api_paste_config": etc("nova") / "api-paste.ini"},
        "keystone_authtoken": authtoken(keystone_url),
        "placement": {**_auth(keystone_url), "endpoint_override": url(Service.PLACEMENT)},
        "neutron": {**_auth(keystone_url), "endpoint_override": url(Service.NEUTRON_SERVER)},
        "glance": {**_auth(keystone_url), "endpoint_override": url(Service.GLANCE_API)},
        "conductor": {"workers": 1},
        "scheduler": {"workers": 1},
        "oslo_messaging_notifications": {"driver": "noop"},
        "oslo_concurrency": {"lock_path": state / "locks"},
        "os_vif_ovs": {"ovsdb_connection": switch.ovsdb_connection if switch else "tcp:127.0.0.1:1"},
    }
    if compute is not None:
        # vif_plugging_timeout (300 s) and vif_plugging_is_fatal (true) stay Nova's defaults
        # (nova/conf/compute.py).
        sections["wanstack_guestless"] = {
            "ovs_namespace": switch.namespace if switch else "",
            "spawn_seconds": compute.spawn_s,
            "shutdown_seconds": compute.shutdown_s,
            "pause_seconds": compute.pause_s,
        }
        sections["vif_plug_ovs_privileged"] = _privsep(compute.conf)
        sections["vif_plug_linux_bridge_privileged"] = _privsep(compute.conf)
    if api_database is not None:
        sections["api_database"] = {"connection": api_database}
    if database is not None:
        sections["database"] = {"connection": database}
    return ini(sections)


def ovs_agent(state: Path, log: Path, conf: Path, *, transport: str, host: str, switch: Switch) -> str:
    """neutron-openvswitch-agent's configuration at a compute site: the site's `switch` (userspace
    datapath, `br-int`, its database's unix socket, the OpenFlow controller where the switch can reach
    it), no tunnels (the testbed's networks are `local`), Open vSwitch's own firewall, and neutron-server's
    RPC over the site's bus (`transport`, through the site's relays as nova-compute's). Its state report
    every `report_interval`, left at Neutron's 30 s (neutron/conf/agent/common.py, AGENT_STATE_OPTS);
    its loop every `polling_interval` 2 s (neutron/conf/plugins/ml2/drivers/ovs_conf.py).

    The firewall is `openvswitch`, not `noop`: with a firewall the agent asks neutron-server for its
    ports' security groups (`security_group_info_for_devices`, neutron/api/rpc/handlers/securitygroups_rpc.py)
    and writes their flows, as production ML2/OVS does (the `iptables_hybrid` one would need a Linux bridge
    and veth per port: `ovs_hybrid_plug`); the userspace datapath has the connection tracking it needs."""
    return ini(
        {
            "DEFAULT": {**common(state, log), "transport_url": transport, "host": host},
            "agent": {"tunnel_types": "", "root_helper": ""},
            "ovs": {
                "integration_bridge": "br-int",
                "datapath_type": "netdev",
                "ovsdb_connection": switch.ovsdb_connection,
                "of_listen_address": switch.controller_ip,
                "of_listen_port": switch.controller_port,
                "bridge_mappings": "",
            },
            "securitygroup": {"enable_security_group": "true", "firewall_driver": "openvswitch"},
            "privsep": _privsep(conf),
            **{section: _privsep(conf) for section in PRIVSEP_SECTIONS},
            "oslo_concurrency": {"lock_path": state / "locks"},
        }
    )


# neutron/privileged/__init__.py: each privileged context reads its own section.
PRIVSEP_SECTIONS = (
    "privsep_link",
    "privsep_namespace",
    "privsep_conntrack",
    "privsep_ovs_vsctl",
    "privsep_dhcp_release",
)
