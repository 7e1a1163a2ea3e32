"""Schedule rules and calendar month arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairslm import ConfigError
from fairslm.governance import add_months, parse_rule
from fairslm.governance._schedule import as_utc


@pytest.mark.parametrize(
    ("text", "kind", "count", "unit"),
    [
        ("pre-deployment", "pre-deployment", 0, ""),
        ("Pre_Deployment", "pre-deployment", 0, ""),
        ("on-data-change", "on-data-change", 0, ""),
        ("90d", "interval", 90, "d"),
        ("every 2 weeks", "interval", 2, "w"),
        ("1m", "interval", 1, "m"),
        ("monthly", "interval", 1, "m"),
        ("quarterly", "interval", 3, "m"),
        ("2y", "interval", 24, "m"),
        ("6 months", "interval", 6, "m"),
    ],
)
def test_parse_rule(text: str, kind: str, count: int, unit: str) -> None:
    rule = parse_rule(text)
    assert (rule.kind, rule.count, rule.unit) == (kind, count, unit)


@pytest.mark.parametrize("text", ["", "sometimes", "3x", "d90", "every month"])
def test_unparseable_schedule_message(text: str) -> None:
    with pytest.raises(ConfigError, match=rf"schedule '{text}' is not understood; use "):
        parse_rule(text)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2025, 1, 31), 1, datetime(2025, 2, 28)),
        (datetime(2024, 1, 31), 1, datetime(2024, 2, 29)),  # leap year
        (datetime(2024, 2, 29), 12, datetime(2025, 2, 28)),
        (datetime(2024, 2, 29), 48, datetime(2028, 2, 29)),
        (datetime(2024, 11, 30), 3, datetime(2025, 2, 28)),
        (datetime(2025, 3, 31), 1, datetime(2025, 4, 30)),
        (datetime(2025, 12, 15, 9, 30), 1, datetime(2026, 1, 15, 9, 30)),
        (datetime(2025, 10, 31), 4, datetime(2026, 2, 28)),
    ],
)
def test_add_months_follows_the_calendar(start, months, expected) -> None:
    assert add_months(start, months) == expected


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=datetime(1900, 1, 1).date(), max_value=datetime(2300, 1, 1).date()),
       st.integers(0, 240))
def test_add_months_properties(day, months) -> None:
    start = datetime(day.year, day.month, day.day)
    out = add_months(start, months)
    assert (out.year * 12 + out.month) - (start.year * 12 + start.month) == months
    assert out.day <= start.day
    if start.day <= 28:
        assert out.day == start.day
    else:  # clamped only when the target month is shorter
        assert out.day == start.day or (out + timedelta(days=1)).day == 1


def test_interval_next_due() -> None:
    last = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_rule("90d").next_due(last) == datetime(2025, 4, 1, tzinfo=UTC)
    assert parse_rule("2w").next_due(last) == datetime(2025, 1, 15, tzinfo=UTC)
    assert parse_rule("quarterly").next_due(last) == datetime(2025, 4, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="has no interval"):
        parse_rule("pre-deployment").next_due(last)


def test_times_are_utc() -> None:
    assert as_utc("2025-01-31") == datetime(2025, 1, 31, tzinfo=UTC)
    assert as_utc("2025-01-31T10:00:00Z") == datetime(2025, 1, 31, 10, tzinfo=UTC)
    cet = timezone(timedelta(hours=1))
    assert as_utc(datetime(2025, 1, 31, 10, tzinfo=cet)) == datetime(2025, 1, 31, 9, tzinfo=UTC)
    with pytest.raises(ConfigError, match=r"time 'yesterday' is not an ISO 8601 date"):
        as_utc("yesterday")
