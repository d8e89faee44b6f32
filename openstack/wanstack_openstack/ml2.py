"""An ML2 mechanism driver that binds every port on every host, with no data plane.

Ports get what Neutron's API gives them for real — an IP from IPAM, a binding to the compute host,
status ACTIVE — and Neutron tells Nova (`network-vif-plugged`, neutron/notifiers/nova.py) as it
would once an L2 agent had wired the port; but nothing is wired: no Open vSwitch, no DHCP, no L3,
no security-group rules on any host. An agentless driver may bind with a status
(`PortContext.set_binding(..., status=ACTIVE)`, neutron_lib/plugins/ml2/api.py), which is what makes
the port ACTIVE without an agent's `update_device_up` RPC. Neutron's own test drivers do not serve:
`test` binds only magic host names and `fake_agent` needs an agent row.
"""

from __future__ import annotations

from typing import Any

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindEveryHost(api.MechanismDriver):  # type: ignore[misc]
    def initialize(self) -> None:
        pass

    def bind_port(self, context: Any) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OTHER,
                {portbindings.CAP_PORT_FILTER: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
