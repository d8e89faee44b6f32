"""The backbone as a graph: routing, path delay, bottleneck bandwidth, reachability."""

from wanstack.topology.geo import great_circle_km
from wanstack.topology.graph import Topology, WanLink

__all__ = ["Topology", "WanLink", "great_circle_km"]
