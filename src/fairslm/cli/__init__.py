"""Command-line interface: one module per command, thin calls into the library."""

from __future__ import annotations

import gc
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the ``fairslm`` command."""
    # Start-up makes a few hundred thousand objects that live as long as the process (modules,
    # the parsers of every command). Made with the cyclic collector paused, then moved out of
    # its sight (gc.freeze), they are not traversed again by every later collection.
    enabled = gc.isenabled()
    gc.disable()
    try:
        from fairslm.cli._app import main as _main
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    return _main(argv if argv is not None else sys.argv[1:])


__all__ = ["main"]
