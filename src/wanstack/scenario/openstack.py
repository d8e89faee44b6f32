"""The `openstack:` block of a scenario: which release's workflows the simulator runs, and the
settings of the control plane that change how many exchanges an operation makes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from wanstack.scenario.infrastructure import StrictModel


class Release(StrEnum):
    # 2026.2: Nova 34, Neutron 29, Placement 16, oslo.messaging 18 — what the testbed runs, and what
    # the workflows follow call for call (`wanstack testbed trace`).
    CURRENT = "current"
    # 2017.1: Nova 15, Neutron 10 — the release most published multi-site OpenStack measurements used
    # (read at the ocata-eol tags; `sim.openstack` says what differs).
    OCATA = "ocata"


class Notifications(StrEnum):
    """Nova's notifications: `[oslo_messaging_notifications] driver` (empty by default: none are
    sent, oslo_messaging/notify/notifier.py) and `[notifications] notification_format`
    (nova/conf/notifications.py: unversioned, versioned or both)."""

    NONE = "none"
    UNVERSIONED = "unversioned"
    VERSIONED = "versioned"
    BOTH = "both"

    @property
    def copies(self) -> int:
        """How many notifications Nova sends for each event."""
        return {"none": 0, "unversioned": 1, "versioned": 1, "both": 2}[self.value]


class NeutronBackend(StrEnum):
    # ML2 with the Open vSwitch agent: the agent notices a new tap on its loop and reports the port up.
    ML2_OVS = "ml2-ovs"
    # ML2/OVN: ovn-controller binds the port through the OVN databases; no agent RPC to neutron-server.
    ML2_OVN = "ml2-ovn"
    # wanstack's testbed driver (openstack/wanstack_openstack/ml2.py): every port bound and up at once.
    BIND_ALL = "bind-all"


class VirtDriver(StrEnum):
    # libvirt: the image comes from Glance unless cached, the guest starts, and spawn waits for
    # Neutron's network-vif-plugged (nova/virt/libvirt/driver.py, `_create_guest_with_network`).
    LIBVIRT = "libvirt"
    # nova/virt/fake.py (the testbed's): nothing to download or start, no wait for the VIF.
    FAKE = "fake"


class OpenStack(StrictModel):
    """The control plane's release and settings (defaults: the release's own defaults)."""

    release: Release = Release.CURRENT
    notifications: Notifications = Field(
        default=Notifications.NONE, description="Nova's notifications (none: the driver's default)."
    )
    neutron: NeutronBackend = NeutronBackend.ML2_OVS
    virt: VirtDriver = VirtDriver.LIBVIRT
