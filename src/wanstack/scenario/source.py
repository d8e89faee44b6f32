"""Read YAML and remember where every value was written, so errors can point at a line and column.

libyaml (PyYAML's C loader) composes the node tree fast; we turn nodes into plain Python data
ourselves, recording each node's position under its path and reporting duplicate keys, which
PyYAML would otherwise overwrite silently. YAML 1.1 merge keys (`<<: *anchor`) are expanded here too,
as PyYAML's own constructor does, each merged value keeping the position where it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from wanstack.scenario.errors import Path, Problem

try:  # the C loader when PyYAML was built with libyaml (the wheels are)
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - pure-Python fallback
    _Loader = yaml.SafeLoader


@dataclass
class Located:
    """Plain data read from a file, with the (line, column) of every path in it (1-based)."""

    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def locate(self, path: Path) -> tuple[Path, tuple[int, int] | None]:
        """The part of `path` that exists in the data, and the position of its deepest element.
        Path elements that are not in the data (pydantic's union tags) are dropped."""
        kept = existing_path(self.data, path)
        while kept not in self.positions and kept:
            kept = kept[:-1]
        return kept, self.positions.get(kept)


def existing_path(data: Any, path: Path) -> Path:
    """The part of `path` that is in `data`: parts that are not (pydantic's union tags, a missing key)
    are dropped, and the path stops where it meets a plain value."""
    node: Any = data
    kept: Path = ()
    for part in path:
        inside_dict = isinstance(node, dict) and part in node
        inside_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if inside_dict or inside_list:
            node, kept = node[part], (*kept, part)
        elif isinstance(node, dict | list):
            continue  # a tag or a missing key: the parent is the best place to point at
        else:
            break
    return kept


_MERGE = "tag:yaml.org,2002:merge"

# Aliases are expanded while building; this bound stops a "billion laughs" file from eating memory.
MAX_NODES = 5_000_000


class _TooLargeError(Exception):
    pass


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, out: Located) -> None:
        self.loader = loader
        self.out = out
        self.count = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLargeError
        self.out.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            merged: list[tuple[Any, yaml.Node]] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    merged += self._merged(value_node, path, {id(node)})
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self._problem(
                        key_node, path, "a mapping key must be a plain value", "write `name: value`"
                    )
                    continue
                key = self.loader.construct_object(key_node)
                if key in result:
                    self._problem(key_node, (*path, key), f"key {key!r} is written twice", "keep one of them")
                    continue
                result[key] = self.build(value_node, (*path, key))
            # YAML 1.1 merge: keys written in the mapping win, then the first merged mapping's.
            for key, value_node in merged:
                if key not in result:
                    result[key] = self.build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node)

    def _merged(self, node: yaml.Node, path: Path, seen: set[int]) -> list[tuple[Any, yaml.Node]]:
        """The (key, value node) pairs a merge key (`<<`) brings in, in precedence order: a mapping,
        or a list of mappings, each with its own merges after its own keys."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        pairs: list[tuple[Any, yaml.Node]] = []
        for source in sources:
            if not isinstance(source, yaml.MappingNode) or id(source) in seen:
                self._problem(
                    source,
                    path,
                    "a YAML merge key (<<) takes a mapping or a list of mappings",
                    "write `<<: *anchor` or `<<: [*a, *b]` with anchors set on mappings (`&anchor`)",
                )
                continue
            later: list[tuple[Any, yaml.Node]] = []
            for key_node, value_node in source.value:
                if key_node.tag == _MERGE:
                    later += self._merged(value_node, path, seen | {id(source)})
                elif isinstance(key_node, yaml.ScalarNode):
                    pairs.append((self.loader.construct_object(key_node), value_node))
                else:
                    self._problem(
                        key_node, path, "a mapping key must be a plain value", "write `name: value`"
                    )
            pairs += later
        return pairs

    def _problem(self, node: yaml.Node, path: Path, message: str, hint: str = "") -> None:
        mark = node.start_mark
        self.out.problems.append(Problem(path, message, hint, mark.line + 1, mark.column + 1))


def read_yaml(text: str) -> Located:
    """Parse one YAML document. Syntax errors come back as problems, never as exceptions."""
    out = Located(data=None)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            out.data = _Builder(loader, out).build(node, ())
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = err.problem or err.context or "invalid YAML"
        out.problems.append(
            Problem(
                (),
                f"YAML syntax: {what}",
                "check indentation, colons and quotes on this line",
                mark.line + 1 if mark else 1,
                mark.column + 1 if mark else 1,
            )
        )
    except _TooLargeError:
        out.data = None
        out.problems.append(
            Problem(
                (),
                f"the file expands to more than {MAX_NODES:,} values",
                "use fewer YAML aliases, or a generator for large topologies",
            )
        )
    except yaml.reader.ReaderError as err:  # a character YAML does not allow, located by its offset
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        out.problems.append(
            Problem(
                (),
                f"YAML cannot contain character {err.character!r}",
                "remove it or quote the value",
                line,
                column,
            )
        )
    except yaml.YAMLError as err:
        out.problems.append(Problem((), f"YAML: {err}", "save the file as plain UTF-8 YAML text", 1, 1))
    finally:
        loader.dispose()
    return out
