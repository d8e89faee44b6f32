"""The lab: what every real engine runs on this machine — WAN relays between emulated sites, their
loopback addresses and free ports, process supervision and signals, and the real servers (RabbitMQ,
MariaDB, Redis, Keystone, OpenStack's environment) — with the steal measurement that says whether a
run was disturbed. The messaging bench, the testbed and the quota bench build on it; none of them
imports another."""
