"""Machine-readable results: the whole run as JSON, one flat CSV per table for spreadsheets and pandas,
and every operation's latency (CSV, or Parquet for large runs). `load_dir` reads a folder back."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from wanstack.results.json_text import json_text
from wanstack.results.rows import TABLES as SHAPES
from wanstack.results.schema import RunResult, Samples

# Above this many operations the samples go to Parquet (a 100,000-row CSV is ~6 MB and slow to read).
PARQUET_ABOVE = 100_000
# The tables each written as a CSV when the run has rows in them (`wanstack.results.rows` shapes them);
# the time series and the samples are written below, the SLA's checks are in result.json.
TABLES = (
    "operations",
    "failures",
    "links",
    "sites",
    "stations",
    "outages",
    "faults",
    "fault_boots",
    "quotas",
    "inventory",
)
# Every file `write_result` may write: those of an earlier run in the same folder that this run does not
# write again are removed, so a reused `--out` never mixes two runs. Other files are left alone.
WRITTEN_NAMES = frozenset(
    {"result.json", "run.json", "timeseries.csv", "samples.csv", "samples.parquet"}
    | {f"{t}.csv" for t in TABLES}
)


def _write_csv(path: Path, data: dict[str, list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(data)
        writer.writerows(zip(*data.values(), strict=True))


def _write_samples(samples: Samples, out_dir: Path) -> Path:
    from wanstack.extras import missing

    columns = samples.model_dump()
    # Without the parquet extra a large run's samples still go out, as CSV: a run is never lost.
    if len(samples) > PARQUET_ABOVE and not missing("parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = out_dir / "samples.parquet"
        pq.write_table(pa.table(columns), path)
        return path
    path = out_dir / "samples.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))
    return path


def write_result(result: RunResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    # result.json holds only what the model computed (same seed, same file); how long the computer took
    # goes to run.json, and the samples to their own table.
    written = [out_dir / "result.json", out_dir / "run.json"]
    written[0].write_text(
        result.model_dump_json(indent=2, exclude={"wall_time_s", "samples"}), encoding="utf-8"
    )
    events_per_s = (result.events or 0) / result.wall_time_s if result.wall_time_s else None
    written[1].write_text(
        json_text(
            {"wall_time_s": result.wall_time_s, "events": result.events, "events_per_s": events_per_s},
            indent=2,
        ),
        encoding="utf-8",
    )
    for name in TABLES:
        if SHAPES[name].row_count(result):
            _write_csv(out_dir / f"{name}.csv", SHAPES[name].data(result))
            written.append(out_dir / f"{name}.csv")
    if result.timeseries is not None:
        _write_csv(out_dir / "timeseries.csv", SHAPES["timeseries"].data(result))
        written.append(out_dir / "timeseries.csv")
    if result.samples is not None and len(result.samples):
        written.append(_write_samples(result.samples, out_dir))
    names = {p.name for p in written}
    for stale in sorted(WRITTEN_NAMES - names):
        (out_dir / stale).unlink(missing_ok=True)
    return written


def _read_samples(folder: Path) -> Samples | None:
    if (folder / "samples.parquet").is_file():
        import pyarrow.parquet as pq

        return Samples.model_validate(pq.read_table(folder / "samples.parquet").to_pydict())
    if not (folder / "samples.csv").is_file():
        return None
    with (folder / "samples.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return Samples(
        op=[r["op"] for r in rows],
        site=[r["site"] for r in rows],
        start_s=[float(r["start_s"]) for r in rows],
        latency_ms=[float(r["latency_ms"]) for r in rows],
        outcome=[r["outcome"] for r in rows],
    )


def read_result(folder: Path) -> RunResult:
    """A folder `write_result` wrote, back as the run it came from (raises ValueError if it is not one)."""
    path = folder / "result.json"
    if not path.is_file():
        raise ValueError(f"{folder}: no result.json (not a wanstack result folder)")
    result = RunResult.model_validate_json(path.read_text(encoding="utf-8"))
    run = folder / "run.json"
    wall = json.loads(run.read_text(encoding="utf-8")).get("wall_time_s") if run.is_file() else None
    return result.model_copy(update={"wall_time_s": wall, "samples": _read_samples(folder)})


def result_folders(root: Path) -> list[Path]:
    """`root` itself when it holds a run, else every folder under it that does (compare/sweep output)."""
    if (root / "result.json").is_file():
        return [root]
    return sorted(p.parent for p in root.rglob("result.json"))
