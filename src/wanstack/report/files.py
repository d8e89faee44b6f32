"""Machine-readable results: the whole run as JSON, and one CSV per table for spreadsheets/pandas."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pydantic import BaseModel

from wanstack.results.schema import RunResult


def _write_csv(path: Path, rows: list[BaseModel]) -> None:
    if not rows:
        return
    flat = [r.model_dump(mode="json") for r in rows]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(flat[0]))
        writer.writeheader()
        for row in flat:
            writer.writerow({k: v if not isinstance(v, dict | list) else repr(v) for k, v in row.items()})


def write_result(result: RunResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    # result.json holds only what the model computed (same seed, same file); how long the computer took
    # goes to run.json.
    written = [out_dir / "result.json", out_dir / "run.json"]
    written[0].write_text(result.model_dump_json(indent=2, exclude={"wall_time_s"}), encoding="utf-8")
    events_per_s = (result.events or 0) / result.wall_time_s if result.wall_time_s else None
    written[1].write_text(
        json.dumps(
            {"wall_time_s": result.wall_time_s, "events": result.events, "events_per_s": events_per_s},
            indent=2,
        ),
        encoding="utf-8",
    )
    for name, rows in (
        ("operations", result.operations),
        ("links", result.links),
        ("sites", result.sites),
        ("stations", result.stations),
        ("outages", result.outages),
    ):
        if rows:
            _write_csv(out_dir / f"{name}.csv", list(rows))
            written.append(out_dir / f"{name}.csv")
    if result.timeseries is not None:
        ts = result.timeseries
        path = out_dir / "timeseries.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["t_s", *ts.series])
            for i, t in enumerate(ts.t_s):
                writer.writerow([t, *(values[i] for values in ts.series.values())])
        written.append(path)
    return written
