"""Command-line interface: one module per command, thin calls into the library."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the ``fairslm`` command."""
    from fairslm.cli._app import main as _main

    return _main(argv if argv is not None else sys.argv[1:])


__all__ = ["main"]
