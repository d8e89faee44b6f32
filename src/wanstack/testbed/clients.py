"""Talking to the testbed's OpenStack: the administrator's openstacksdk connection from a site (every
request through that site's relays), and whether an API answers."""

from __future__ import annotations

from typing import Any

from wanstack.lab.openstack_env import ADMIN_AUTH, REGION


def connect(apis: dict[str, str]) -> Any:
    """An openstacksdk connection as the administrator, to the APIs at these URLs (`{service: url}`,
    a site's view: `Testbed.describe()["apis"][site]`)."""
    import openstack

    return openstack.connect(
        auth_url=f"{apis['keystone']}/v3",
        region_name=REGION,
        **ADMIN_AUTH,
        compute_endpoint_override=f"{apis['nova-api']}/v2.1",
        network_endpoint_override=apis["neutron-server"],
        image_endpoint_override=apis["glance-api"],
        placement_endpoint_override=apis["placement"],
    )
