"""wanstack: plan, simulate and bench an OpenStack cloud spread over many sites joined by a WAN."""

__version__ = "0.1.0"
