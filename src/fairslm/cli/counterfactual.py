"""``fairslm counterfactual``: do decisions change when only the group markers change?"""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, files
from fairslm.cli._model_options import LABEL_WORD_OPTION, TEMPLATE_OPTION, load_cli_model


def register(app: typer.Typer) -> None:
    app.command("counterfactual")(counterfactual_command)


@files(inputs=["model", "data", "terms"], outputs={"out": "file"})
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
    template: str | None = TEMPLATE_OPTION,
    label_word: list[str] = LABEL_WORD_OPTION,
) -> None:
    """Rewrite texts for another group and measure how the model's decisions change."""
    from fairslm.audit import counterfactual_file
    from fairslm.reporting.terminal import print_counterfactual

    result = counterfactual_file(
        load_cli_model(model, template, label_word), data, text=text, label=label,
        sensitive=[sensitive] if sensitive else [],
        pos_label=pos_label, split=split, attribute=attribute, terms=terms or None,
        names=names, target=target, seed=seed, n_examples=examples,
    )
    result.to_json(out)
    print_counterfactual(result)
    typer.echo(f"wrote {out}")
    over = max_flip_rate is not None and (result.flip_rate or 0.0) > max_flip_rate
    raise typer.Exit(EXIT_FAIL if over else EXIT_OK)
