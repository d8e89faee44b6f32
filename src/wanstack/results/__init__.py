"""One result schema for both engines (simulator and real bench), and the statistics that fill it."""

from wanstack.results.schema import RunResult

__all__ = ["RunResult"]
