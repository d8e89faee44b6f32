"""The lab's Open vSwitch (`lab/ovs.py`): the userspace datapath in a folder and a network namespace of
its own, and nothing left once stopped (Debian's openvswitch-switch, installed by `make test`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from wanstack.lab import ovs

needs_ovs = pytest.mark.skipif(not ovs.available(), reason="Debian's openvswitch-switch (`make test`)")


def _links() -> list[str]:
    return subprocess.run(
        ["ip", "-br", "link"], capture_output=True, text=True, check=True
    ).stdout.splitlines()


def _namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout


@needs_ovs
def test_a_port_with_neutrons_ids_gets_an_openflow_port_and_nothing_is_left() -> None:
    before = _links()
    with ovs.OvsSwitch(name="edge-1") as switch:
        root, namespace, pids = switch.root, switch.namespace, switch.pids()
        assert root is not None and switch.db_socket.is_socket() and len(pids) == 2
        assert switch.vsctl("get", "Bridge", "br-int", "datapath_type") == "netdev"
        # As os-vif and libvirt name an instance's port (iface-id: Neutron's port id).
        switch.vsctl(
            "add-port", "br-int", "tap-test", "--", "set", "Interface", "tap-test", "type=internal",
            "external_ids:iface-id=3f1c0a52-0000-4000-8000-000000000001",
            "external_ids:attached-mac=fa:16:3e:00:00:01",
        )  # fmt: skip
        assert int(switch.vsctl("get", "Interface", "tap-test", "ofport")) > 0
        assert {"br-int", "tap-test"} <= set(switch.devices())
        assert _links() != before  # the root namespace's side of the controller's veth
        assert switch.controller_ip.startswith("169.254.") and namespace in _namespaces()
    assert _links() == before
    assert namespace not in _namespaces()
    assert not root.exists()
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text().lower(), pid
