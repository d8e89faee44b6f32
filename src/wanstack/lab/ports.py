"""Free TCP ports on the loopback interface (never the services' defaults), and whether a server
answers at one.

A port is chosen below the kernel's ephemeral range (`net.ipv4.ip_local_port_range`): a server is
given its port seconds before it binds it (a RabbitMQ node boots for ~5 s), and meanwhile every
outgoing connection on this machine takes a local port from the ephemeral range — one of them could
take a port handed out from there. The last RECENT ports handed out are not handed out again by this
process (two servers told the same port before either binds it).
"""

from __future__ import annotations

import random
import socket
import threading
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path

# Defaults we must not take: AMQP 5672, epmd 4369, Erlang distribution 25672, management 15672,
# NATS 4222 (clients), 6222 (routes), 8222 (monitoring).
RESERVED = {5672, 4369, 25672, 15672, 4222, 6222, 8222}
LOWEST = 10_000
RECENT = 5_000
_issued: deque[int] = deque(maxlen=RECENT)
_lock = threading.Lock()
_rng = random.Random()


def ephemeral_range() -> tuple[int, int]:
    """The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`); Linux's default when it cannot be
    read."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port() -> int:
    """A TCP port free on 127.0.0.1 when chosen: below the ephemeral range (any the kernel gives when there is
    no room there), never a service's default (`RESERVED`) nor one of the last `RECENT` this process handed
    out."""
    low, _ = ephemeral_range()
    with _lock:
        while True:
            port = _rng.randrange(LOWEST, low) if low > LOWEST + 1000 else _any_port()
            if port in RESERVED or port in _issued:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _issued.append(port)
            return port


def _any_port() -> int:
    """A port the kernel picks (when there is no room below the ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts a TCP connection at `host`:`port` (within 0.2 s)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def answers(url: str) -> bool:
    """Whether an HTTP server answers at `url`, whatever it says (401 without a token is an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
