"""The testbed: a real OpenStack control plane (Keystone, Placement, Glance, Neutron without a data
plane, Nova with its fake virt driver) spread over the scenario's sites on this machine, every
connection between two sites through a relay with the WAN path's delay — EnOS's testbed, on one
machine."""
