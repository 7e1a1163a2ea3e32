"""Write docs/cli.md from the commands themselves: ``python docs/gen_cli_reference.py``.

tests/test_docs.py fails when docs/cli.md differs from what this prints, so the reference never
drifts from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = """# CLI reference

Generated from the commands by `python docs/gen_cli_reference.py`; do not edit by hand.

Exit codes, for every command: **0** success (every criterion passes), **1** a fairness
criterion fails the policy, no criterion could be judged (verdict `insufficient`, unless the
policy's `on_undecided` is `pass`), or something is overdue, **2** bad input, options or files,
**3** an internal error (a bug; the message names a log file), **130**/**143** interrupted.
`fairslm --debug COMMAND ...` prints the traceback of any error. See
[What fairslm guarantees](guarantees.md).
"""


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def reference() -> str:
    import typer

    from fairslm.cli._app import app

    # Typer may vendor its own click: use the command objects' classes, not a click import.
    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="fairslm")
    out = [HEADER]
    for name in root.list_commands(ctx):
        cmd = root.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        args = [(p.metavar or p.name or "").upper() + ("..." if p.nargs == -1 else "")
                for p in cmd.params if p.param_type_name == "argument"]
        usage = " ".join(["[OPTIONS]", *args])
        out.append(f"\n## `fairslm {name}`\n\n{_clean(cmd.help or '')}\n")
        out.append(f"```\nfairslm {name} {usage}\n```\n")
        rows = []
        for p in cmd.params:
            if p.param_type_name == "argument":
                rows.append(((p.metavar or p.name or "").upper(), _clean(getattr(p, "help", "") or ""), ""))
            elif p.param_type_name == "option" and not getattr(p, "hidden", False):
                names = ", ".join(f"`{o}`" for o in p.opts)
                default = "" if p.default in (None, False) or p.required else f"`{p.default}`"
                if p.required:
                    default = "required"
                rows.append((names, _clean(p.help or ""), default))
        if rows:
            out.append("| argument / option | meaning | default |\n|---|---|---|")
            out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    target = Path(__file__).with_name("cli.md")
    target.write_text(reference(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
