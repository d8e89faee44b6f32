"""Free TCP ports on the loopback interface (never the services' defaults)."""

from __future__ import annotations

import socket

# Defaults we must not take: AMQP 5672, epmd 4369, Erlang distribution 25672, management 15672.
RESERVED = {5672, 4369, 25672, 15672}


def free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in RESERVED:
            return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
