"""Audit schedules: pre-deployment, every N days/weeks/months/years, and on data change.

Month arithmetic follows the calendar, not a fixed number of days: one month after January 31
is the last day of February (28 or 29), as in :func:`add_months`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fairslm.exceptions import ConfigError

__all__ = ["PRE_DEPLOYMENT", "ON_DATA_CHANGE", "Rule", "add_months", "as_utc", "parse_rule"]

PRE_DEPLOYMENT = "pre-deployment"
ON_DATA_CHANGE = "on-data-change"

# Named periods in the words audit guides use.
_NAMED = {
    "daily": (1, "d"),
    "weekly": (1, "w"),
    "monthly": (1, "m"),
    "quarterly": (3, "m"),
    "yearly": (12, "m"),
    "annually": (12, "m"),
}
_UNITS = {
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
    "m": "m", "month": "m", "months": "m",
    "y": "y", "year": "y", "years": "y",
}
_INTERVAL = re.compile(r"^(?:every\s+)?(\d+)\s*([a-z]+)$")
_EXAMPLES = "'pre-deployment', 'on-data-change', '90d', '2w', '1m', '1y', 'monthly' or 'quarterly'"


@dataclass(frozen=True)
class Rule:
    """One schedule rule of a criterion.

    ``kind`` is ``"pre-deployment"``, ``"on-data-change"`` or ``"interval"``; an interval has
    ``count`` units of ``unit`` (``"d"`` days, ``"w"`` weeks, ``"m"`` months; years are stored
    as 12 months).
    """

    text: str
    kind: str
    count: int = 0
    unit: str = ""

    def next_due(self, last: datetime) -> datetime:
        """When an audit done at ``last`` falls due again under this interval rule."""
        if self.kind != "interval":
            raise ValueError(f"rule {self.text!r} has no interval")
        if self.unit == "d":
            return last + timedelta(days=self.count)
        if self.unit == "w":
            return last + timedelta(weeks=self.count)
        return add_months(last, self.count)

    def describe(self) -> str:
        """Plain words: ``"every 3 months"``."""
        if self.kind != "interval":
            return self.kind
        word = {"d": "day", "w": "week", "m": "month"}[self.unit]
        return f"every {self.count} {word}{'s' if self.count != 1 else ''}"


def parse_rule(text: str) -> Rule:
    """Parse one schedule entry.

    Examples
    --------
    >>> parse_rule("quarterly").describe()
    'every 3 months'
    >>> parse_rule("90d").describe()
    'every 90 days'
    >>> parse_rule("pre-deployment").kind
    'pre-deployment'
    """
    raw = str(text)
    norm = raw.strip().lower().replace("_", "-")
    if norm in (PRE_DEPLOYMENT, ON_DATA_CHANGE):
        return Rule(text=raw, kind=norm)
    if norm in _NAMED:
        count, unit = _NAMED[norm]
        return Rule(text=raw, kind="interval", count=count, unit=unit)
    match = _INTERVAL.match(norm)
    if match and match.group(2) in _UNITS:
        count, unit = int(match.group(1)), _UNITS[match.group(2)]
        if count < 1:
            raise ConfigError(
                f"schedule {raw!r} has a period of 0; use a period of at least 1 ({_EXAMPLES})"
            )
        if unit == "y":
            count, unit = count * 12, "m"
        return Rule(text=raw, kind="interval", count=count, unit=unit)
    raise ConfigError(f"schedule {raw!r} is not understood; use {_EXAMPLES}")


def add_months(when: datetime, months: int) -> datetime:
    """``when`` plus ``months`` calendar months, clamped to the end of a shorter month.

    Examples
    --------
    >>> add_months(datetime(2025, 1, 31), 1).date()
    datetime.date(2025, 2, 28)
    >>> add_months(datetime(2024, 1, 31), 1).date()
    datetime.date(2024, 2, 29)
    >>> add_months(datetime(2024, 2, 29), 12).date()
    datetime.date(2025, 2, 28)
    """
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def as_utc(when: datetime | str | None) -> datetime:
    """An aware UTC datetime: ``None`` is now, naive values and ISO strings are read as UTC."""
    if when is None:
        return datetime.now(UTC)
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError(
                f"time {when!r} is not an ISO 8601 date or time; use e.g. 2026-01-31 or "
                "2026-01-31T09:00:00+00:00"
            ) from exc
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
