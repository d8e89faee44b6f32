"""What a newcomer trips on (issue 19 point 6): one test per item, each failing before its fix."""

from __future__ import annotations

import pytest

from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import parse

SMALL = """\
name: t
sites:
  - name: hub
    tier: central
  - name: e1
    tier: edge
links:
  - {a: hub, b: e1, delay_ms: 10, bandwidth_mbps: RATE}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse(text, "s.yaml")
    return [p.render("s.yaml") for p in info.value.problems]


@pytest.mark.parametrize(
    ("rate", "mbit_s"), [("100mbit", 100.0), ("1gbit", 1000.0), ("500kbit", 0.5), (250, 250)]
)
def test_bandwidth_takes_unit_explicit_bits(rate: object, mbit_s: float) -> None:
    infra = parse(SMALL.replace("RATE", str(rate)), "s.yaml")
    assert infra.links[0].bandwidth_mbps == pytest.approx(mbit_s)


@pytest.mark.parametrize("rate", ["100Mbps", "100MB", "100mbps", "1gbps", "100MB/s"])
def test_bandwidth_rejects_ambiguous_bytes_or_bits(rate: str) -> None:
    """`100Mbps` used to mean 800 Mbit/s silently (tc reads `mbps` as megabytes per second)."""
    out = _problems(SMALL.replace("RATE", rate))
    assert len(out) == 1
    assert out[0].startswith("s.yaml:8:")
    assert "links[0].bandwidth_mbps" in out[0]
    assert "ambiguous" in out[0]
    assert "hint: write 100mbit" in out[0] or "hint: write 1gbit" in out[0]
