"""wanstack: plan, simulate and bench an OpenStack cloud spread over many sites joined by a WAN.

The Python API (`wanstack.api`) is importable from here: `wanstack.simulate("default")`; it is loaded
on first use, so `import wanstack` stays cheap for the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Run", "Runs", "compare", "load_dir", "load_scenario", "simulate", "sweep"]

if TYPE_CHECKING:
    from wanstack.api import Run, Runs, compare, load_dir, load_scenario, simulate, sweep


def __getattr__(name: str) -> Any:
    if name in __all__:
        from wanstack import api

        return getattr(api, name)
    raise AttributeError(f"module 'wanstack' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The API is loaded on first use (`__getattr__`): list it before that too, for completion and help.
    return sorted({*globals(), *__all__})
