"""Run a sweep's points on local worker processes or on a Dask cluster, resuming where a stopped sweep
left off. Each finished run is appended to `sweep.jsonl` at once, so nothing done is lost."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from wanstack.scenario.load import Source
from wanstack.sim.engine import SimOptions, simulate
from wanstack.sweeps.grid import Point
from wanstack.sweeps.table import rows, upgrade

Rows = list[dict[str, Any]]
JOURNAL = "sweep.jsonl"


def run_point(source: Source, point: Point, options: SimOptions | None = None) -> Rows:
    """One run, in whichever process or machine runs it; only its table rows travel back."""
    infra = source.load(point.overrides)
    return rows(dict(point.values), infra, simulate(infra, options))


def check(source: Source, points: Sequence[Point]) -> None:
    """Every point validated before any runs: a bad value fails the sweep at once (ScenarioError)."""
    seen: set[tuple[tuple[str, Any], ...]] = set()
    for point in points:
        if point.values not in seen:
            seen.add(point.values)
            source.load(point.overrides)


def _journal(out: Path | None) -> dict[str, Rows]:
    if out is None or not (out / JOURNAL).is_file():
        return {}
    done: dict[str, Rows] = {}
    for line in (out / JOURNAL).read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short when the sweep was stopped: that run is done again
        done[entry["key"]] = [upgrade(row) for row in entry["rows"]]
    return done


def _local(
    source: Source, todo: list[Point], workers: int, options: SimOptions | None
) -> Iterator[tuple[Point, Rows]]:
    if workers <= 1:
        for point in todo:
            yield point, run_point(source, point, options)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_point, source, p, options): p for p in todo}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _dask(
    source: Source, todo: list[Point], scheduler: str, options: SimOptions | None
) -> Iterator[tuple[Point, Rows]]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    # distributed has no type hints on these two.
    with Client(scheduler, timeout="10s") as client:  # type: ignore[no-untyped-call]
        # pure=False: every point is its own task even where two look alike to Dask's hashing.
        futures = [client.submit(run_point, source, p, options, pure=False) for p in todo]
        index = {f.key: p for f, p in zip(futures, todo, strict=True)}
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]
            yield index[future.key], future.result()


def run(
    source: Source,
    points: Sequence[Point],
    *,
    out: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    options: SimOptions | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> Rows:
    """Every point's rows, in the order of `points` whatever order they finished in."""
    check(source, points)
    done = _journal(out)
    # The parameters' repr is the dataclasses' own: the same parameters give the same digest.
    settings = "" if options is None else hashlib.sha256(repr(options.params).encode()).hexdigest()[:16]
    keys = [p.key(source, settings) for p in points]
    todo = [p for p, k in zip(points, keys, strict=True) if k not in done]
    if on_done:
        on_done(len(points) - len(todo), len(points))
    if todo:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        finished = (
            _dask(source, todo, scheduler, options)
            if scheduler
            else _local(source, todo, min(workers or os.cpu_count() or 1, len(todo)), options)
        )
        journal = (out / JOURNAL).open("a", encoding="utf-8") if out is not None else None
        try:
            for point, point_rows in finished:
                key = point.key(source, settings)
                done[key] = point_rows
                if journal is not None:
                    journal.write(json.dumps({"key": key, "rows": point_rows}) + "\n")
                    journal.flush()
                if on_done:
                    on_done(len(done), len(points))
        finally:
            if journal is not None:
                journal.close()
    return [row for k in keys for row in done[k]]
