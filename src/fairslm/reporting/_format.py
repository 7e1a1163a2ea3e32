"""The one number format of every report, table and terminal line: ``n/a`` where no number is."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["format_interval", "format_number"]


def format_number(x: Any, digits: int = 3) -> str:
    """A value for display: floats with ``digits`` decimals, ``n/a`` for missing or non-finite.

    Examples
    --------
    >>> format_number(0.81234), format_number(float("nan")), format_number(None), format_number(12)
    ('0.812', 'n/a', 'n/a', '12')
    """
    if x is None:
        return "n/a"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, float):
        return f"{x:.{digits}f}" if math.isfinite(x) else "n/a"
    return str(x)


def format_interval(interval: Any, digits: int = 3) -> str:
    """``[low, high]``, or an empty string when there is no interval.

    Examples
    --------
    >>> format_interval((0.5, float("nan"))), format_interval(None)
    ('[0.500, n/a]', '')
    """
    if not isinstance(interval, Sequence) or isinstance(interval, str) or len(interval) != 2:
        return ""
    return f"[{format_number(interval[0], digits)}, {format_number(interval[1], digits)}]"
