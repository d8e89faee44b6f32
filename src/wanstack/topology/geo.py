"""Distances on the Earth and the propagation delay of fibre along them."""

from __future__ import annotations

import math

# Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points given in degrees, in km.

    >>> round(great_circle_km(48.8566, 2.3522, 51.5074, -0.1278))  # Paris - London
    344
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def fibre_delay_ms(distance_km: float, us_per_km: float, per_link_ms: float, route_factor: float) -> float:
    """One-way delay of a fibre link: propagation over the route plus a fixed per-link overhead."""
    return distance_km * route_factor * us_per_km / 1000.0 + per_link_ms
