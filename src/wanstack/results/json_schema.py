"""result.json's JSON Schema (`wanstack schema --results`), written as the scenario's is
(`scenario.reference.json_schema_document`)."""

from __future__ import annotations

from typing import Any

from wanstack.results.schema import RunResult
from wanstack.scenario.reference import json_schema_document


def results_json_schema() -> dict[str, Any]:
    """result.json's JSON Schema: every engine's result file. The samples and the computer's time are
    kept in files of their own (samples.csv/.parquet, run.json), so they are not in it."""
    document = json_schema_document(RunResult.model_json_schema(), "wanstack result.json")
    for elsewhere in ("samples", "wall_time_s"):
        document["properties"].pop(elsewhere)
    return document
