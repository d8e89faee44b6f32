"""Notifications on a Kafka-like partitioned log (the `log` notification backend): producer to the
partition leader at the notification-bus site, consumers pull. A Kafka producer only queues the
message locally (`produce()` then `poll(0)`, oslo_messaging/_drivers/impl_kafka.py): the notifier
waits for nothing."""

from __future__ import annotations

from wanstack.sim.bus.base import BusPlan
from wanstack.sim.stations import Station


class LogNotifications:
    """The `log` notification bus: a notification goes to the partition leader at the notification-bus site
    serving the sender, and the notifier waits for no confirm (`confirmed` is False)."""

    confirmed = False

    def __init__(self, plan: BusPlan) -> None:
        self.plan = plan
        self.bus_for = plan.notification_bus_for

    def node(self, bus: str) -> Station:
        return self.plan.station("log-leader", bus)
