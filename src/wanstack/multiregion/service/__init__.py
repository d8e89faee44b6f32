"""The quota service: escrow shares per region, a coordinator, over HTTP on a real database."""
