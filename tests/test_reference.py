"""docs/scenario-reference.md is the scenario's pydantic models written out, and up to date."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from wanstack.cli import app
from wanstack.scenario.reference import json_schema, markdown

PAGE = Path(__file__).resolve().parent.parent / "docs" / "scenario-reference.md"


def test_the_committed_reference_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == markdown(), (
        "docs/scenario-reference.md is out of date: run "
        "`wanstack schema --markdown --out docs/scenario-reference.md` and commit it"
    )


def test_the_reference_has_every_object_and_field_with_its_description() -> None:
    page = markdown()
    document = json_schema()
    objects = {"Scenario": document, **document["$defs"]}
    for name, schema in objects.items():
        section = page.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        for field, spec in schema.get("properties", {}).items():
            row = next(line for line in section.splitlines() if line.startswith(f"| `{field}` |"))
            if spec.get("description"):
                assert " ".join(spec["description"].split()).replace("|", "\\|") in row
        for value in schema.get("enum", []):
            assert f'- `"{value}"`' in section
    site = page.split("\n## Site\n", 1)[1].split("\n## ", 1)[0]
    assert "| `name` | string | **required** | length ≥ 1; length ≤ 128; matches" in site
    assert "| `tier` | [Tier](#tier) | **required** |" in site


def test_schema_markdown_prints_it(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.stdout == markdown()
    out = tmp_path / "ref.md"
    assert runner.invoke(app, ["schema", "--markdown", "--out", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == markdown()
