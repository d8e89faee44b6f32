"""Parameter sweeps: a grid of scenario overrides × seeds, run on local worker processes or a Dask
cluster, one tidy table out (`wanstack sweep`, `wanstack.sweep`)."""
