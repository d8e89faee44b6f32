"""The control-plane services a deployment model places, and the messaging backends.

Names follow the OpenStack projects: Nova (api, scheduler, super-conductor, cell conductor,
API and cell databases — https://docs.openstack.org/nova/latest/admin/cells.html), Placement,
Glance (API, image store and the per-node image cache —
https://docs.openstack.org/glance/latest/admin/cache.html), Neutron (neutron-server) and
Keystone. nova-compute and the neutron agents run on every host and are not placed by models.
"""

from __future__ import annotations

from enum import StrEnum


class Service(StrEnum):
    KEYSTONE = "keystone"
    NOVA_API = "nova-api"
    NOVA_SCHEDULER = "nova-scheduler"
    NOVA_SUPERCONDUCTOR = "nova-superconductor"
    NOVA_CONDUCTOR = "nova-conductor"
    PLACEMENT = "placement"
    API_DATABASE = "api-database"
    CELL_DATABASE = "cell-database"
    GLANCE_API = "glance-api"
    IMAGE_STORE = "image-store"
    IMAGE_CACHE = "image-cache"
    NEUTRON_SERVER = "neutron-server"
    RPC_BUS = "rpc-bus"
    NOTIFICATION_BUS = "notification-bus"


# Queueing stations the simulator knows, beyond the placed services themselves: the messaging nodes.
MESSAGING_STATIONS = ("rpc-broker", "notification-broker", "log-leader", "router", "rpc-server")
STATION_KINDS = (
    tuple(s.value for s in Service if s not in (Service.RPC_BUS, Service.NOTIFICATION_BUS))
    + MESSAGING_STATIONS
)


class Anchor(StrEnum):
    """Where a model puts one instance of a service, relative to the topology it is applied to."""

    GLOBAL = "global"  # one instance for the whole deployment, at the top site
    REGION = "region"  # one per region, at the region's control site
    CELL = "cell"  # one per cell, at the cell's site (= region when the model has no cells)
    SITE = "site"  # one at every site
    NONE = "none"  # not deployed


class RegionLayout(StrEnum):
    SINGLE = "single"  # one region over every site
    PER_SITE = "per-site"  # every site is a region of its own
    PER_SUBTREE = "per-subtree"  # a region per child of the top site, with its descendants


class CellLayout(StrEnum):
    NONE = "none"  # no cells: the region is one (implicit) cell
    PER_SITE = "per-site"  # every site is a cell
    PER_SUBTREE = "per-subtree"  # a cell per child of the region's control site, with its descendants


class RpcBackend(StrEnum):
    BROKER = "broker"  # one RabbitMQ node per rpc-bus instance
    BROKER_CLUSTER = "broker-cluster"  # one clustered RabbitMQ spread over the rpc-bus sites
    ROUTER_MESH = "router-mesh"  # a router at every site, shortest path between routers
    BROKERLESS = "brokerless"  # direct sender-to-receiver connections


class NotificationBackend(StrEnum):
    BROKER = "broker"  # RabbitMQ at the notification-bus sites
    LOG = "log"  # Kafka-like partitioned log: producer -> partition leader -> consumers pull
