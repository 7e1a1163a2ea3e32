"""Options renamed for one vocabulary across commands; the old names work for one more release.

An old name is declared as a hidden option next to the new one and resolved with
:func:`renamed_option`, which warns on stderr and refuses both names at once.
"""

from __future__ import annotations

from typing import Any, TypeVar

import typer

from fairslm.cli._app import fail

__all__ = ["renamed_option"]

T = TypeVar("T")


def renamed_option(value: T, old_value: Any, *, new: str, old: str, default: Any) -> T:
    """The option's value, taken from its old name ``old`` when that was given instead of ``new``."""
    if old_value is None or old_value == []:
        return value
    if value != default:
        fail(f"{old} is the old name of {new}; give {new} only")
    typer.echo(f"warning: {old} is deprecated and will be removed in the next release; "
               f"use {new}", err=True)
    return old_value  # type: ignore[no-any-return]
