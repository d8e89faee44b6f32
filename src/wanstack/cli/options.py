"""The options several `wanstack` commands share (the output format, a calibration, --out, --html,
--wide, --force) as Typer annotations, and their checks. Imports no other module of `wanstack.cli`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from wanstack.scenario.load import DEFAULT_SCENARIO


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="table (for people) or json (for programs: stdout holds the JSON alone; progress and "
        "notes go to stderr).",
    ),
]


ScenarioArg = Annotated[
    str,
    typer.Argument(help=f"Scenario YAML file, or the name of a built-in scenario ({DEFAULT_SCENARIO!r})."),
]


CalibrationOption = Annotated[
    Path | None,
    typer.Option(
        help="Measured costs in place of the defaults: a file from `wanstack calibrate` (messaging) or "
        "`wanstack testbed calibrate` (the control plane's station times)."
    ),
]


def a_folder(path: Path | None) -> Path | None:
    """An --out that names a folder (made if missing), refused before any work when a file is there."""
    if path is not None and path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{path} is a file; give a folder (it is made if missing)")
    return path


OutOption = Annotated[
    Path | None,
    typer.Option(help="Write result.json and CSV tables to this folder.", callback=a_folder),
]


HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html", help="Also write the results as one HTML page of plots (self-contained: opens offline)."
    ),
]


WideOption = Annotated[bool, typer.Option("--wide", help="Every column (default: those that fit).")]


ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Run even when the estimated cost is absurd (over half an hour here)."),
]
