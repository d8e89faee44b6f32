"""Scenario files in, `Infrastructure` out — or a `ScenarioError` listing every located problem."""

from __future__ import annotations

import difflib
import hashlib
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from wanstack.scenario.build import Infrastructure, build
from wanstack.scenario.errors import Path, Problem, ScenarioError, did_you_mean
from wanstack.scenario.overrides import apply as apply_overrides
from wanstack.scenario.salvage import across_objects
from wanstack.scenario.schema import SLA_OPERATION, Scenario
from wanstack.scenario.source import Located, read_yaml
from wanstack.scenario.units import UnitError
from wanstack.scenario.workload import OperationKind

DEFAULT_SCENARIO = "default"

# What to do about each kind of pydantic error, for the hint.
_HINTS = {
    "missing": "add this field",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "float_type": "write a number",
    "float_parsing": "write a number",
    "finite_number": "write a finite number (.inf and .nan are not values here)",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "string_type": "write a text value",
    "string_pattern_mismatch": "use letters, digits and . _ : - (starting with a letter or digit)",
    "list_type": "write a list (`- item` lines or [a, b])",
    "dict_type": "write a mapping (`key: value` lines)",
    "model_type": "write a mapping (`key: value` lines)",
    "greater_than_equal": "use a larger value",
    "greater_than": "use a larger value",
    "less_than_equal": "use a smaller value",
    "less_than": "use a smaller value",
    "too_short": "add items or text",
    "too_long": "shorten it",
    "union_tag_invalid": "set `kind` to one of the listed values",
    "union_tag_not_found": "add a `kind` field",
}


def _fields_at(path: Path) -> list[str]:
    """Field names allowed at `path` in the Scenario model (for 'did you mean' hints)."""
    annotation: Any = Scenario
    for part in path:
        model = _model_in(annotation, part)
        if model is None:
            origin = typing.get_origin(annotation)
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if origin in (list, dict, tuple) and args:
                annotation = args[-1]
                continue
            return []
        if isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
        elif isinstance(part, str):
            # A union tag of a discriminated union: pick the member with that tag.
            continue
    model = _model_in(annotation, None)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: Any, part: str | int | None) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    members = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    for m in members:
        kind = m.model_fields.get("kind")
        if kind is not None and part is not None and part in typing.get_args(kind.annotation):
            return m
    return members[0] if len(members) == 1 else None


def _problem(err: ErrorDetails, located: Located) -> Problem:
    loc = tuple(err["loc"])
    kind = err["type"]
    message = err["msg"]
    hint = _HINTS.get(kind, "")
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, UnitError):  # a quantity's own advice; its message quotes the value
            return _at(*located.locate(loc), message, cause.hint)
    elif kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else f"known fields: {', '.join(allowed)}"
            if allowed
            else ""
        )
        path, pos = located.locate(loc)
        return _at(path, pos, f"unknown field {loc[-1]!r}", hint or "remove it")
    elif kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == SLA_OPERATION:
        # The pattern lists the operations: say so in words, with the close one (not the Name hint).
        known = [k.value for k in OperationKind]
        nearest = did_you_mean(str(err["input"]), known)
        listed = f"operations: {', '.join(known)}, or '*' for each of them"
        path, pos = located.locate(loc)
        return _at(
            path, pos, f"unknown operation {err['input']!r}", f"{nearest} {listed}" if nearest else listed
        )
    if kind not in ("missing",) and "input" in err and not isinstance(err["input"], dict | list):
        message += f", got {err['input']!r}"
    if kind in {"literal_error", "enum"}:
        hint = f"use {err.get('ctx', {}).get('expected', 'one of the listed values')}"
    path, pos = located.locate(loc)
    if kind == "missing":
        message = f"field {loc[-1]!r} is required"
    return _at(path, pos, message, hint)


def _at(path: Path, pos: tuple[int, int] | None, message: str, hint: str) -> Problem:
    # Nothing to point at (an empty file): the top of the file is the place to start writing.
    line, column = pos or (1, 1)
    return Problem(path, message, hint, line, column)


def parse_scenario(
    text: str, filename: str = "<scenario>", overrides: Mapping[str, Any] | None = None
) -> tuple[Scenario, Located]:
    """Structure checks only: the validated `Scenario` and where each of its values was written.
    `overrides` change fields before they are checked (`scenario.overrides`)."""
    located = read_yaml(text)
    if located.problems and located.data is None:  # a syntax error: nothing else can be read
        raise ScenarioError(filename, located.problems)
    if located.data is None:
        located.data = {}
    if overrides and isinstance(located.data, dict):
        apply_overrides(located.data, overrides, filename)
    if not isinstance(located.data, dict):
        hint = "start with `sites:` or `generate:`"
        top = Problem((), "a scenario must be a mapping (`key: value` lines)", hint, 1, 1)
        raise ScenarioError(filename, [*located.problems, top])
    try:
        scenario = Scenario.model_validate(located.data)
    except ValidationError as err:
        wrong = [_problem(e, located) for e in err.errors()]
        raise StructureError(filename, located, wrong) from None
    if located.problems:  # a key written twice, a bad `<<`: read past, the first value kept
        raise StructureError(filename, located, [])
    return scenario, located


class StructureError(ScenarioError):
    """Problems in reading the file and in its structure (`wrong`: the values pydantic refused), with
    the file as read: `parse` checks across objects despite them."""

    def __init__(self, filename: str, located: Located, wrong: list[Problem]) -> None:
        super().__init__(filename, by_line([*located.problems, *wrong]))
        self.located = located
        self.wrong = wrong


def finish(scenario: Scenario, located: Located, filename: str, base_dir: FsPath | None) -> Infrastructure:
    """Checks across objects and the deployment model applied: the `Infrastructure` engines take."""
    infra, problems = build(scenario, base_dir)
    if infra is None:
        raise ScenarioError(filename, by_line(_place(p, located) for p in problems))
    return infra


def parse(
    text: str,
    filename: str = "<scenario>",
    base_dir: FsPath | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Infrastructure:
    """Validate scenario text fully; raise ScenarioError with every located problem."""
    try:
        scenario, located = parse_scenario(text, filename, overrides)
    except StructureError as err:
        found = across_objects(err.located, err.wrong, base_dir)
        raise ScenarioError(filename, by_line([*err.problems, *found])) from None
    return finish(scenario, located, filename, base_dir)


def by_line(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in the order of the file (the checks find them in their own order)."""
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def _place(problem: Problem, located: Located) -> Problem:
    if problem.line is not None:
        return problem
    _, pos = located.locate(problem.path)
    return _at(problem.path, pos, problem.message, problem.hint)


def builtin_scenarios() -> list[str]:
    """Names of the built-in scenarios (`wanstack run NAME`)."""
    folder = resources.files("wanstack.scenario") / "defaults"
    return sorted(f.name.removesuffix(".yaml") for f in folder.iterdir() if f.name.endswith(".yaml"))


def read(path: str | FsPath) -> tuple[str, str, FsPath | None]:
    """The text of a scenario file, or of a built-in scenario by name (`default`): (text, name, folder)."""
    file = FsPath(path)
    if not file.exists() and not str(path).endswith((".yaml", ".yml")):
        builtin = resources.files("wanstack.scenario") / "defaults" / f"{path}.yaml"
        if builtin.is_file():
            return builtin.read_text(encoding="utf-8"), f"(built-in) {path}.yaml", None
    try:
        raw = file.read_bytes()
    except OSError as err:
        builtins = builtin_scenarios()
        hint = did_you_mean(str(path), builtins) or f"check the path; built-in: {', '.join(builtins)}"
        raise ScenarioError(
            str(path), [Problem((), f"cannot read the file: {err.strerror or err}", hint)]
        ) from None
    try:
        return raw.decode("utf-8"), str(path), file.parent
    except UnicodeDecodeError as err:
        raise ScenarioError(
            str(path), [Problem((), f"not UTF-8 text (byte {err.start})", "save the file as UTF-8")]
        ) from None


@dataclass(frozen=True)
class Source:
    """A scenario as text, with where it came from: what worker processes and Dask workers on other
    machines are sent instead of a path they may not see."""

    text: str
    filename: str
    base_dir: str | None = None

    @classmethod
    def of(cls, scenario: str | FsPath | Mapping[str, Any]) -> Source:
        """From a file, a built-in scenario's name or a mapping written as a scenario file would be."""
        if isinstance(scenario, Mapping):
            return cls(yaml.safe_dump(dict(scenario), sort_keys=False), "<mapping>")
        text, filename, base = read(scenario)
        return cls(text, filename, str(base) if base is not None else None)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def parse(self, overrides: Mapping[str, Any] | None = None) -> tuple[Scenario, Located]:
        return parse_scenario(self.text, self.filename, overrides)

    def load(self, overrides: Mapping[str, Any] | None = None) -> Infrastructure:
        return parse(self.text, self.filename, self.folder, overrides)

    @property
    def folder(self) -> FsPath | None:
        return FsPath(self.base_dir) if self.base_dir else None


def load(path: str | FsPath, overrides: Mapping[str, Any] | None = None) -> Infrastructure:
    """Load and fully validate a scenario file or built-in scenario; raise ScenarioError on problems."""
    return parse(*read(path), overrides=overrides)
