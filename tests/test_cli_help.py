"""`fairslm --help` stays fast: heavy dependencies load only in the commands that use them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "matplotlib", "duckdb", "sklearn", "peft", "fairlearn", "datasets", "pyspark")


def test_help_imports_no_heavy_dependency() -> None:
    code = (
        "import sys\n"
        "from fairslm.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = [line for line in out.splitlines() if line.startswith("HEAVY=")][-1][len("HEAVY="):]
    assert loaded == "", f"fairslm --help imported {loaded}"


def test_every_command_has_help() -> None:
    from fairslm.cli._app import COMMAND_MODULES, app

    names = {c.name for c in app.registered_commands} | {
        g.name for g in app.registered_groups
    }
    assert len(names) >= len(COMMAND_MODULES)
