"""The optional parts of wanstack and what each needs (pyproject's extras): the simulator needs none,
the real bench, the planner's CP-SAT, HTML views, a real cloud, the testbed, Parquet and sweeps each
an extra. Their packages are imported only inside what uses them; when one is missing the command says
which extra to install (`MissingExtraError`: one line, never a traceback)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

# Each extra: the top-level import names of the packages it installs and src/wanstack imports
# (tests/test_packaging.py checks them against pyproject's extras).
EXTRAS: dict[str, tuple[str, ...]] = {
    "bench": ("oslo_messaging", "oslo_config", "nats", "sqlalchemy", "keystoneauth1", "requests", "cheroot"),
    "plan": ("ortools",),
    "html": ("plotly",),
    "cloud": ("openstack",),
    "testbed": ("openstack", "keystoneauth1", "osprofiler", "pymysql"),
    "parquet": ("pyarrow",),
    "sweep": ("dask", "distributed", "pyarrow"),
}


def install_hint(extra: str) -> str:
    return f"pip install 'wanstack[{extra}]'"


class MissingExtraError(ModuleNotFoundError):
    """`what` needs an extra that is not installed. A ModuleNotFoundError, so code that copes with a
    missing package keeps working; its message is the one line to show."""

    def __init__(self, extra: str, what: str, hint: str = "") -> None:
        if extra not in EXTRAS:
            raise ValueError(f"no extra {extra!r}; known: {', '.join(EXTRAS)}")
        self.extra = extra
        text = f"{what} needs the {extra} extra: {install_hint(extra)}"
        super().__init__(f"{text} ({hint})" if hint else text)


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a finder refusing it, or a module without a spec
        return False


def missing(extra: str) -> list[str]:
    """The packages of `extra` that cannot be imported here (found, not imported: no side effects)."""
    return [name for name in EXTRAS[extra] if not _importable(name)]


def require(extra: str, what: str, hint: str = "") -> None:
    """Raise MissingExtraError unless every package of `extra` can be imported."""
    if missing(extra):
        raise MissingExtraError(extra, what, hint)


def extra_of(module: str | None) -> str | None:
    """The extra that installs `module` (a dotted name: its top-level package counts), if any."""
    top = (module or "").partition(".")[0]
    return next((extra for extra, names in EXTRAS.items() if top in names), None)


@contextmanager
def importing(extra: str, what: str) -> Iterator[None]:
    """Around a lazy import of an extra's package: its absence becomes MissingExtraError.

    with importing("plan", "a CP-SAT plan"):
        from ortools.sat.python import cp_model
    """
    try:
        yield
    except ModuleNotFoundError as err:
        if isinstance(err, MissingExtraError) or (err.name or "").partition(".")[0] not in EXTRAS[extra]:
            raise
        raise MissingExtraError(extra, what) from err
