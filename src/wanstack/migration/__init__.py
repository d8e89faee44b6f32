"""Inter-site VM migration: what moving a VM over a WAN link costs, and whether and where to move it."""
