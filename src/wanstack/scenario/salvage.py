"""The checks across objects (`checks`, `build`) in the same pass as the structure checks: on the
scenario with every wrongly written value left out (its default then applies) or, when it has none,
the list item holding it (a fault, a link, a site). A newcomer fixing one problem per run met new ones
at every run: a negative fault time hid every unknown site named after it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from wanstack.scenario.build import build
from wanstack.scenario.errors import Path, Problem
from wanstack.scenario.schema import Scenario
from wanstack.scenario.source import Located, existing_path


@dataclass
class _Salvage:
    """The salvaged scenario; `cut` holds what was left out (paths in the file) and `kept` maps the
    salvaged lists' indices back to the file's, so each problem points at its own line."""

    scenario: Scenario
    cut: set[Path]
    kept: dict[Path, list[int]]

    def original(self, path: Path) -> Path:
        return _in_file(self.kept, path)


def _in_file(kept: dict[Path, list[int]], path: Path) -> Path:
    """`path` in the salvaged data as a path in the file."""
    out: list[str | int] = []
    for i, part in enumerate(path):
        indices = kept.get(path[:i])
        out.append(indices[part] if indices and isinstance(part, int) and part < len(indices) else part)
    return tuple(out)


def _pruned(node: Any, cut: set[Path], old: Path, new: Path, kept: dict[Path, list[int]]) -> Any:
    """A copy of `node` without the values at `cut` (paths in the file), noting in `kept` which of the
    file's indices each list keeps (under the list's path in the copy)."""
    if isinstance(node, dict):
        return {
            k: _pruned(v, cut, (*old, k), (*new, k), kept) for k, v in node.items() if (*old, k) not in cut
        }
    if isinstance(node, list):
        indices = [i for i in range(len(node)) if (*old, i) not in cut]
        kept[new] = indices
        return [_pruned(node[i], cut, (*old, i), (*new, j), kept) for j, i in enumerate(indices)]
    return node


def _item_of(path: Path) -> Path | None:
    """The innermost list item at or above `path` (what to leave out when a required value is wrong)."""
    for end in range(len(path), 0, -1):
        if isinstance(path[end - 1], int):
            return path[:end]
    return None


def _salvaged(located: Located, wrong: list[Problem]) -> _Salvage | None:
    """The salvaged scenario, or None when what is wrong is not in a list and has no default (a
    generator's field): then what the checks across objects would look at is unknown."""
    cut = {p.path for p in wrong if p.path}
    for _ in range(4):  # a field, then its item, then an item holding that one
        kept: dict[Path, list[int]] = {}
        data = _pruned(located.data, cut, (), (), kept)
        try:
            return _Salvage(Scenario.model_validate(data), cut, kept)
        except ValidationError as again:
            more = {_item_of(_in_file(kept, existing_path(data, tuple(e["loc"])))) for e in again.errors()}
            if None in more or more <= cut:
                return None
            cut = cut | {p for p in more if p is not None}
    return None


# What the checks across objects need whole: leaving out part of one makes the topology unknown.
_TOPOLOGY = ("sites", "links", "network_constraints", "link_defaults")


def across_objects(located: Located, wrong: list[Problem], base_dir: FsPath | None) -> list[Problem]:
    """What the checks across objects find in the salvaged scenario, except what depends on a value
    left out: a problem at, under or above a left-out path, or naming a left-out item (a link to a
    site left out is not a link to an unknown site); and no reachability check when the topology lost
    part of a site or link."""
    salvage = _salvaged(located, wrong)
    if salvage is None or any(p[0] == "generate" for p in salvage.cut):
        return []  # generated sites unknown: every name check would be a guess
    whole = not any(p[0] in _TOPOLOGY for p in salvage.cut)
    _, problems = build(salvage.scenario, base_dir, reachability=whole)
    left_out = [*salvage.cut, *(p.path for p in wrong)]
    names = [_names(located.data, p) for p in salvage.cut]
    out: list[Problem] = []
    for problem in problems:
        path = salvage.original(problem.path)
        if any(path[: len(w)] == w or w[: len(path)] == path for w in left_out):
            continue
        if any(n and all(repr(x) in problem.message for x in n) for n in names):
            continue
        _, pos = located.locate(path)
        line, column = pos or (1, 1)
        out.append(Problem(path, problem.message, problem.hint, line, column))
    return out


def _names(data: Any, path: Path) -> tuple[str, ...]:
    """What other objects call the item at `path`: its name, or a link's two ends."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return ()
    if not isinstance(data, dict):
        return ()
    if isinstance(data.get("name"), str):
        return (data["name"],)
    ends = (data.get("a"), data.get("b"))
    return tuple(str(e) for e in ends) if all(isinstance(e, str) for e in ends) else ()
