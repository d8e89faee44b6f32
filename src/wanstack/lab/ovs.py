"""A private Open vSwitch (Debian's `openvswitch-switch`) for one compute site: ovsdb-server and
ovs-vswitchd with the userspace datapath, and the integration bridge `br-int` Neutron's OVS agent and
Nova's os-vif plug ports into.

This machine has no Open vSwitch kernel module (`CONFIG_OPENVSWITCH` is not set), so every bridge is
`datapath_type=netdev` (../shared/testbed-production.md). Each switch has a folder of its own for its
database, sockets, pid and log files (`OVS_RUNDIR`, `OVS_DBDIR`, `OVS_LOGDIR`, `OVS_SYSCONFDIR`) and
is reached only through unix sockets (`db.sock`; its unixctl sockets).

**A network namespace per switch.** The netdev datapath makes a kernel tap device for every bridge and
internal port, named after it (`br-int`, `ovs-netdev`, ...), and those devices outlive the daemons. One
namespace per switch lets every site have its own `br-int` (the name Neutron and os-vif expect by
default: `[ovs] integration_bridge`), and `ip netns del` removes every device made in it however the
daemons ended. Only ovs-vswitchd runs inside it; ovsdb-server's unix socket is in the folder, so the
agent and nova-compute reach it from the root namespace. The one TCP connection the switch makes, to
the agent's OpenFlow controller (neutron's `of_listen_address`:`of_listen_port`, native os-ken
controller), crosses a veth pair: `controller_ip` (root side) ↔ `switch_ip` (inside), a /30 of
169.254.0.0/16 (link-local, never routed) that no other device of the machine uses. A guest's tap
device (what QEMU/libvirt create) is made inside the namespace too (`exec_argv`).
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from wanstack.lab.processes import ServiceProcess
from wanstack.lab.servers import LabServer

OVSDB_SERVER = "/usr/sbin/ovsdb-server"
OVS_VSWITCHD = "/usr/sbin/ovs-vswitchd"
OVS_VSCTL = "/usr/bin/ovs-vsctl"
OVSDB_TOOL = "/usr/bin/ovsdb-tool"
IP = "/usr/sbin/ip"
SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
BRIDGE = "br-int"  # neutron/conf/plugins/ml2/drivers/ovs_conf.py: integration_bridge's default
# Link-local addresses (RFC 3927) for the controller's veth pairs, a /30 each.
CONTROLLER_NET = ipaddress.IPv4Network("169.254.0.0/16")
_NETS_LOCK = threading.Lock()  # two switches started at once choose different /30s
_SWITCHES = itertools.count(1)  # the veth's name: ≤ 15 characters (IFNAMSIZ), unique on the machine


def available() -> bool:
    """Whether Debian's openvswitch-switch (ovsdb-server, ovs-vswitchd, ovs-vsctl) and `ip` are here."""
    return all(Path(p).exists() for p in (OVSDB_SERVER, OVS_VSWITCHD, OVS_VSCTL, OVSDB_TOOL, IP, SCHEMA))


def _ip(*args: str) -> str:
    return subprocess.run([IP, *args], capture_output=True, text=True, check=True, timeout=30).stdout


def _used_link_local() -> set[ipaddress.IPv4Network]:
    """The /30s of 169.254.0.0/16 some device of the root namespace already has an address in."""
    used = set()
    for line in _ip("-o", "-4", "addr", "show").splitlines():
        address = ipaddress.IPv4Interface(line.split()[3])
        if address.ip in CONTROLLER_NET:
            used.add(ipaddress.IPv4Network(f"{address.ip}/30", strict=False))
    return used


@dataclass(eq=False)
class OvsSwitch(LabServer):
    """One Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath) with `br-int`, in the
    folder `root` (a temporary one, removed on stop, when not given) and a network namespace of its
    own (`namespace`), both removed on stop with every device made in them. `name` is the site's, so
    the namespace and the veth say whose they are. Call start() and stop()."""

    name: str = "switch"
    startup_timeout_s: float = 30.0
    kind: ClassVar[str] = "ovs"
    installed = staticmethod(available)
    package: ClassVar[str] = "openvswitch-switch"
    namespace: str = field(init=False, default="")
    controller_ip: str = field(init=False, default="")  # the agent listens here (root namespace)
    switch_ip: str = field(init=False, default="")  # ovs-vswitchd's end of the veth
    _veth: str = field(init=False, default="", repr=False)
    _env: dict[str, str] = field(init=False, default_factory=dict, repr=False)

    @property
    def db_socket(self) -> Path:
        assert self.root is not None
        return self.root / "db.sock"

    @property
    def ovsdb_connection(self) -> str:
        """The database as Neutron's `[ovs] ovsdb_connection` and os-vif's `[os_vif_ovs]` name it."""
        return f"unix:{self.db_socket}"

    @property
    def environment(self) -> dict[str, str]:
        """The variables that point Open vSwitch's tools at this switch's files (`ovs-ofctl br-int`
        finds the bridge's management socket under `OVS_RUNDIR`): for every process that runs them."""
        return dict(self._env)

    def exec_argv(self, argv: list[str]) -> list[str]:
        """`argv` run inside the switch's namespace (where its ports' devices live)."""
        return [IP, "netns", "exec", self.namespace, *argv]

    def vsctl(self, *args: str, timeout_s: float = 30.0) -> str:
        """`ovs-vsctl` against this switch's database (waiting for ovs-vswitchd to apply a change)."""
        argv = [OVS_VSCTL, f"--db={self.ovsdb_connection}", f"--timeout={timeout_s:.0f}", *args]
        out = subprocess.run(
            argv, check=False, capture_output=True, text=True, env=self._env, timeout=timeout_s + 5
        )
        if out.returncode != 0:
            raise RuntimeError(f"ovs-vsctl {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout.strip()

    def devices(self) -> list[str]:
        """The network devices in the switch's namespace (its bridges' and ports' taps, its veth end)."""
        if not self.namespace:
            return []
        return [
            line.split()[0].split("@")[0] for line in _ip("-n", self.namespace, "-br", "link").splitlines()
        ]

    def launch(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        # Every file the daemons and ovs-vsctl would put under /var/run, /etc or /var/log goes here.
        self._env = {var: str(root) for var in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR")}
        pid, n = os.getpid(), next(_SWITCHES)
        self.namespace = f"wanstack-ovs-{self.name}-{pid}-{n}"
        subprocess.run([OVSDB_TOOL, "create", str(root / "conf.db"), str(SCHEMA)], check=True, timeout=30)
        self._namespace_and_veth(f"wo{pid}n{n}")
        self.run(
            ServiceProcess(
                "ovsdb-server",
                [
                    OVSDB_SERVER,
                    str(root / "conf.db"),
                    f"--remote=punix:{self.db_socket}",
                    f"--unixctl={root / 'ovsdb-server.ctl'}",
                    f"--log-file={root / 'ovsdb-server.log'}",
                ],
                root / "ovsdb-server.out",
                self._env,
                grace_s=5.0,
            ),
            helper=True,
        ).wait_until(self.db_socket.exists, self.startup_timeout_s, 0.05, f"listening on {self.db_socket}")
        self.vsctl("--no-wait", "init")
        switch = self.run(
            ServiceProcess(
                "ovs-vswitchd",
                self.exec_argv(
                    [
                        OVS_VSWITCHD,
                        self.ovsdb_connection,
                        f"--unixctl={root / 'ovs-vswitchd.ctl'}",
                        f"--log-file={root / 'ovs-vswitchd.log'}",
                    ]
                ),
                root / "ovs-vswitchd.out",
                self._env,
                grace_s=5.0,
            )
        )
        switch.wait_until((root / "ovs-vswitchd.ctl").exists, self.startup_timeout_s, 0.05, "up")
        # ovs-vsctl waits until ovs-vswitchd has made the bridge (its `cur_cfg` reaches `next_cfg`).
        self.vsctl("--may-exist", "add-br", BRIDGE, "--", "set", "Bridge", BRIDGE, "datapath_type=netdev")

    def _namespace_and_veth(self, veth: str) -> None:
        _ip("netns", "add", self.namespace)
        _ip("-n", self.namespace, "link", "set", "lo", "up")
        with _NETS_LOCK:
            used = _used_link_local()
            # RFC 3927 section 2.1 reserves 169.254.0.0/24 and 169.254.255.0/24: start above.
            free = (n for n in CONTROLLER_NET.subnets(new_prefix=30) if n not in used)
            net = next(n for n in free if n.network_address.packed[2] not in (0, 255))
            outside, inside = (str(h) for h in net.hosts())
            self._veth = veth
            _ip("link", "add", veth, "type", "veth", "peer", "name", "ctl0", "netns", self.namespace)
            _ip("addr", "add", f"{outside}/30", "dev", veth)
        _ip("link", "set", veth, "up")
        _ip("-n", self.namespace, "addr", "add", f"{inside}/30", "dev", "ctl0")
        _ip("-n", self.namespace, "link", "set", "ctl0", "up")
        self.controller_ip, self.switch_ip = outside, inside

    def halt(self) -> None:
        """Remove the namespace (every device made in it goes with it, the veth's other end too)."""
        if self.namespace:
            subprocess.run([IP, "netns", "del", self.namespace], check=False, capture_output=True, timeout=30)
        if self._veth:  # gone with its peer, unless the namespace was never made
            subprocess.run([IP, "link", "del", self._veth], check=False, capture_output=True, timeout=30)
        self.namespace, self._veth, self.controller_ip, self.switch_ip = "", "", "", ""
