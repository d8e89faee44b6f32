"""Property-based tests: malformed files and malformed-but-parseable scenarios always end with exit
code 2 and located messages (file:line:column), never with a traceback."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wanstack.cli import app

from .conftest import EXAMPLES

LOCATED = re.compile(r"^\S+:\d+:\d+: [^:]+: .+")
BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "tour.yaml").read_text())
runner = CliRunner()
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def run(text: str, tmp: Path) -> tuple[int, list[str], BaseException | None]:
    path = tmp / "s.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    lines = [line for line in result.output.splitlines() if line.startswith(str(path))]
    return result.exit_code, lines, result.exception


def assert_rejected_and_located(text: str, tmp: Path) -> None:
    code, lines, exc = run(text, tmp)
    assert code == 2, (code, text)
    assert not isinstance(exc, Exception) or isinstance(exc, SystemExit), exc
    problems = lines[:-1]  # the last line is the count
    assert problems, "no problem reported"
    for line in problems:
        assert LOCATED.match(line.removeprefix(str(tmp) + "/")), line


def test_base_is_valid(tmp_path: Path) -> None:
    code, _, _ = run(yaml.safe_dump(BASE), tmp_path)
    assert code == 0


@PROPS
@given(st.text(max_size=300))
def test_any_text_is_accepted_or_rejected_cleanly(tmp_path: Path, text: str) -> None:
    code, lines, exc = run(text, tmp_path)
    assert code in (0, 2)
    assert exc is None or isinstance(exc, SystemExit)
    if code == 2:
        assert all(LOCATED.match(line.removeprefix(str(tmp_path) + "/")) for line in lines[:-1]), lines


YAML_PIECES = st.sampled_from(
    [
        "sites:",
        "- name: a",
        "  tier: central",
        "links:",
        "  - {a: a, b: b}",
        "{",
        "]",
        ":",
        "\t",
        "&x",
        "*x",
        "'",
        '"',
        "  ",
        "- ",
        "model: 3",
        "run: {seed: x}",
        "~",
    ]
)


@PROPS
@given(st.lists(YAML_PIECES, min_size=1, max_size=12))
def test_yaml_fragments_are_rejected_cleanly(tmp_path: Path, pieces: list[str]) -> None:
    code, lines, exc = run("\n".join(pieces), tmp_path)
    assert code in (0, 2) and (exc is None or isinstance(exc, SystemExit))
    if code == 2:
        assert all(LOCATED.match(line.removeprefix(str(tmp_path) + "/")) for line in lines[:-1]), lines


def _mappings(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if isinstance(node, dict) else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        found += _mappings(value, (*path, key))
    return found


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


MAPPINGS = [p for p in _mappings(BASE) if p[:1] != ("placement",)]
DELAYS = [(("links", i), key) for i, link in enumerate(BASE["links"]) for key in ("delay_ms", "jitter_ms")]
SITE_REFS = (
    [("links", i, end) for i in range(len(BASE["links"])) for end in ("a", "b")]
    + [("sites", i, "parent") for i, s in enumerate(BASE["sites"]) if "parent" in s]
    + [("faults", i, "link", 0) for i in range(2)]
)


@st.composite
def broken(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    kind = draw(
        st.sampled_from(
            [
                "unknown-field",
                "negative",
                "unreachable",
                "missing-site-service",
                "duplicate-site",
                "dangling-ref",
                "wrong-type",
            ]
        )
    )
    if kind == "unknown-field":
        target = _at(doc, draw(st.sampled_from(MAPPINGS)))
        name = draw(st.from_regex(r"[a-z]{3,10}_x", fullmatch=True))
        target[name] = draw(st.integers() | st.text(max_size=5))
    elif kind == "negative":
        path, key = draw(st.sampled_from(DELAYS))
        _at(doc, path)[key] = -draw(st.floats(min_value=0.001, max_value=1e6))
    elif kind == "unreachable":
        doc["sites"].append({"name": draw(st.from_regex(r"zz[a-z0-9]{1,8}", fullmatch=True)), "tier": "edge"})
    elif kind == "missing-site-service":
        service = draw(st.sampled_from(["keystone", "nova-conductor", "rpc-bus", "image-cache"]))
        doc.setdefault("placement", {})[service] = [
            "paris",
            draw(st.from_regex(r"nowhere[0-9]{0,3}", fullmatch=True)),
        ]
    elif kind == "duplicate-site":
        doc["sites"].append(copy.deepcopy(draw(st.sampled_from(BASE["sites"]))))
    elif kind == "dangling-ref":
        path = draw(st.sampled_from(SITE_REFS))
        _at(doc, path[:-1])[path[-1]] = draw(st.from_regex(r"ghost[a-z]{0,4}", fullmatch=True))
    else:
        path = draw(st.sampled_from(MAPPINGS[1:]))
        parent, key = _at(doc, path[:-1]), path[-1]
        parent[key] = draw(st.sampled_from([[1, 2], "text", 3.5, True]))
    return doc


@PROPS
@given(broken())
def test_malformed_scenarios_exit_2_with_located_messages(tmp_path: Path, doc: dict[str, Any]) -> None:
    assert_rejected_and_located(yaml.safe_dump(doc, sort_keys=False), tmp_path)
