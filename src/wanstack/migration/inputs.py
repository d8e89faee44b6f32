"""Reading the migration commands' own input files (fleets, user traces): YAML or JSON, validated by
a pydantic model, every problem reported as one ValueError naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def read_model(path: Path, model: type[M]) -> M:
    """`path`'s YAML or JSON validated as `model`; ValueError naming the file, and the first wrong field with
    how many more there are."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not YAML or JSON ({err})") from err
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise ValueError(f"{path}: {where}: {first['msg']}{more}") from err
