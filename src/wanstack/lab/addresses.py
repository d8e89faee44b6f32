"""Loopback addresses of the lab's sites: each site has its own /24 on the loopback interface, so a
process shows where it runs by the address it listens on, and a relay in site k's range stands for
site k's way to another site."""

from __future__ import annotations

# One machine: sites are numbered 1..MAX_MEMBERS in the third byte of their loopback address, and a
# site's view of peer j is at .100 + j in its own /24.
MAX_MEMBERS = 16


def site_ip(k: int) -> str:
    """The k-th site's own loopback address, `127.0.k.1`: where its servers listen."""
    return f"127.0.{k}.1"


def view_ip(k: int, j: int) -> str:
    """Where site k reaches site j: a relay address in site k's own range."""
    return f"127.0.{k}.{100 + j}"
