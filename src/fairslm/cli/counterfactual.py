"""``fairslm counterfactual``: do decisions change when only the group markers change?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, user_errors


def register(app: typer.Typer) -> None:
    app.command("counterfactual")(counterfactual_command)


def _fmt(x: Any, spec: str = ".3f") -> str:
    return "n/a" if x is None else format(x, spec)


def _p(summary: dict[str, Any]) -> str:
    m = summary.get("mcnemar", {})
    return "n/a" if "p_mid" not in m else f"{m['p_mid']:.2g}"


def _render(result: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    c = result.counts
    console.print(
        f"{c['n_changed']} of {c['n_texts']} texts rewritten for {result.attribute}; "
        f"{c['n_unchanged']} had nothing to swap. Score: {result.task['score_definition']} "
        f"({result.task['score_class']})."
    )
    t = Table(title="decision flips")
    t.add_column("slice", no_wrap=True)
    for col in ("n", "flips", "flip rate", "mean change", "max |change|", "McNemar mid-p"):
        t.add_column(col, justify="right")
    rows = [("overall", result.overall)]
    rows += [(f"direction {d}", s) for d, s in result.by_direction.items()]
    rows += [(f"group {g}", s) for g, s in result.by_group.items()]
    for name, s in rows:
        t.add_row(name, str(s["n"]), str(s["n_flips"]), _fmt(s["flip_rate"], ".1%"),
                  _fmt(s["mean_score_change"], "+.3f"), _fmt(s["max_abs_score_change"]), _p(s))
    console.print(t)
    for e in result.examples[:5]:
        console.print(
            f"  {e['score_change']:+.3f} ({e['decision_original']} -> "
            f"{e['decision_counterfactual']}): {escape(e['marked'][:200])}"
        )


@user_errors
def counterfactual_command(
    model: str = typer.Option(..., "--model", help="Model path (as fairslm.load_model reads)."),
    data: Path = typer.Option(..., "--data", help="Data file or folder of split files."),
    attribute: str = typer.Option("gender", "--attribute", help="gender, race, or a term list's."),
    text: str = typer.Option("text", "--text", help="Column with the texts."),
    label: str | None = typer.Option(None, "--label", help="Column with true labels."),
    sensitive: str | None = typer.Option(None, "--sensitive",
                                         help="Column with each text's group."),
    pos_label: str | None = typer.Option(None, "--pos-label", help="The favourable class."),
    split: str | None = typer.Option(None, "--split", help="Split to test, e.g. test."),
    terms: list[Path] | None = typer.Option(None, "--terms", help="CSV/YAML term list(s)."),
    names: bool = typer.Option(True, "--names/--no-names", help="Swap first names too."),
    target: str | None = typer.Option(None, "--target", help="Rewrite toward this group only."),
    seed: int = typer.Option(0, "--seed"),
    examples: int = typer.Option(10, "--examples", help="Largest changes to keep."),
    max_flip_rate: float | None = typer.Option(
        None, "--max-flip-rate", help="Exit 1 when the flip rate exceeds this."
    ),
    out: Path = typer.Option(Path("counterfactual.json"), "--out", "-o",
                             help="Where to write the JSON."),
) -> None:
    """Rewrite texts for another group and measure how the model's decisions change."""
    from fairslm.audit import counterfactual_file

    result = counterfactual_file(
        model, data, text=text, label=label, sensitive=[sensitive] if sensitive else [],
        pos_label=pos_label, split=split, attribute=attribute, terms=terms or None,
        names=names, target=target, seed=seed, n_examples=examples,
    )
    result.to_json(out)
    _render(result)
    typer.echo(f"wrote {out}")
    over = max_flip_rate is not None and (result.flip_rate or 0.0) > max_flip_rate
    raise typer.Exit(EXIT_FAIL if over else EXIT_OK)
