"""Terminal rendering of a pipeline run: live progress per step and a final summary table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairslm.reporting._format import format_number

__all__ = ["RunProgress", "print_run_summary"]


class RunProgress:
    """A ``progress(event, step, info)`` callback that shows each step with rich.

    Use as a context manager around the run.
    """

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> RunProgress:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                  TimeElapsedColumn(), console=self.console, transient=True)
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def __call__(self, event: str, step: str, info: Mapping[str, Any]) -> None:
        if event == "start":
            self._task = self._progress.add_task(f"{step}: {info.get('help', '')}", total=None)
        elif event == "end":
            if self._task is not None:
                self._progress.remove_task(self._task)
            mark = "[green]done[/green]" if info.get("status") == "ran" else "[cyan]reused[/cyan]"
            self.console.print(f"  {mark} {step} ({info.get('seconds', 0):.1f} s)")


def print_run_summary(run: Mapping[str, Any], console: Any = None) -> None:
    """Print the steps, each model's verdict and scores, and where the report is."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    steps = Table(title="steps")
    for col in ("step", "status", "seconds"):
        steps.add_column(col)
    for s in run.get("steps", []):
        steps.add_row(s["name"], s["status"], f"{s['seconds']:.1f}")
    console.print(steps)
    models = run.get("models", {})
    if models:
        # One block per model, one "name: value" line per figure: a table with a column per
        # figure cut its headers ("accura…", "eviden…") at 80 columns.
        console.print("[bold]models[/bold]")
        for name, m in models.items():
            style = "green" if m["verdict"] == "pass" else "bold red"
            console.print(f"{escape(name)}: [{style}]{str(m['verdict']).upper()}[/{style}]")
            for key, value in m.items():
                if key in ("verdict", "failing") or value == "-":
                    continue
                console.print(f"  {escape(str(key))}: {escape(format_number(value))}")
            for f in m.get("failing", []):
                console.print(f"  failing: {escape(str(f['criterion']))} on {escape(str(f['view']))}: "
                              f"{format_number(f['ratio'])} ({escape(str(f['worst_group']))})")
    verdict = run.get("verdict")
    if verdict:
        style = "green" if verdict == "pass" else "bold red"
        console.print(f"final model [bold]{escape(str(run.get('final_model')))}[/bold]: "
                      f"[{style}]{verdict.upper()}[/{style}]")
        evidence = str(models.get(str(run.get("final_model")), {}).get("evidence", ""))
        if verdict == "pass" and evidence.startswith("thin"):
            console.print(f"the evidence is {escape(evidence)}: the 95% interval reaches below the "
                          "threshold, so these data cannot rule out a fail there")
    for kind, path in (run.get("report") or {}).items():
        console.print(f"report ({kind}): {escape(str(path))}")
