"""benchmarks/mitigation.py --seeds: a count, a list or a range; a value naming no seed stops it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
mitigation = pytest.importorskip("mitigation")


def test_a_count_a_list_and_a_range() -> None:
    assert mitigation.parse_seeds("5") == [0, 1, 2, 3, 4]
    assert mitigation.parse_seeds("1") == [0]
    assert mitigation.parse_seeds("0,3") == [0, 3]
    assert mitigation.parse_seeds("2-4") == [2, 3, 4]


@pytest.mark.parametrize(("text", "message"), [
    ("0", "names no seed"),
    ("x", "seeds must be a range"),
    ("1,1", "distinct non-negative"),
])
def test_a_value_naming_no_seed_stops_with_a_message(text: str, message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        mitigation.parse_seeds(text)
