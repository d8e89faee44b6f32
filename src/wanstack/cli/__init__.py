"""The `wanstack` command: a module per command family, each parsing its options, calling
`wanstack.api` and printing `wanstack.report`'s views of what comes back.

    main.py       the app: every command registered, `--version`, the entry point
    common.py     shared options, output (tables or JSON), errors, progress, extras
    scenario.py   validate, show, models, schema
    simulate.py   run, compare, explain, compare-results
    inventory.py  inventory (simulated, or a real cloud's)
    real.py       bench, replay, calibrate
    migrate.py    migrate advise / evacuate / rebalance / follow
    quota.py      quota plan / apply / serve
    testbed.py    testbed up / status / down / run / rally / trace
    sweep.py      sweep

A family module imports `common`, never another family; `common` imports none of them."""

from wanstack.cli.main import app

__all__ = ["app"]
