import pytest
from pydantic import TypeAdapter, ValidationError

from wanstack.scenario.units import MegabitsPerSecond, Megabytes, Milliseconds, Percent, Seconds


@pytest.mark.parametrize(
    ("adapter", "text", "expected"),
    [
        (Milliseconds, "25ms", 25.0),
        (Milliseconds, "0.2s", 200.0),
        (Milliseconds, "500us", 0.5),
        (Milliseconds, 12, 12.0),
        (Seconds, "2min", 120.0),
        (Seconds, "1h", 3600.0),
        (Seconds, "1500ms", 1.5),
        (MegabitsPerSecond, "1gbit", 1000.0),
        (MegabitsPerSecond, "100mbit", 100.0),
        (MegabitsPerSecond, "10kbit", 0.01),
        (MegabitsPerSecond, "1gbit/s", 1000.0),
        (Megabytes, "1GiB", 1073.741824),
        (Percent, "0.1%", 0.1),
    ],
)
def test_units_are_converted(adapter: object, text: object, expected: float) -> None:
    assert TypeAdapter(adapter).validate_python(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("adapter", "text"),
    [
        (Milliseconds, "-5ms"),
        (Milliseconds, "5 parsecs"),
        (MegabitsPerSecond, "0gbit"),
        (MegabitsPerSecond, "1mbps"),  # tc reads megabytes per second, people megabits: refused
        (Percent, "120%"),
    ],
)
def test_bad_quantities_are_rejected(adapter: object, text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(adapter).validate_python(text)
