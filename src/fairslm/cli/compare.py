"""``fairslm compare``: audit several models on one test file and compare them."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, files
from fairslm.cli._model_options import LABEL_WORD_OPTION, TEMPLATE_OPTION, causal_lm_options
from fairslm.cli._renamed import renamed_option
from fairslm.metrics import FOUR_FIFTHS, MIN_GROUP_SIZE


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_command)


@files(inputs=["data", "model"], outputs={"out": "file", "svg": "file"})
def compare_command(
    data: Path = typer.Option(..., "--data", help="Test data: JSON Lines, CSV or Parquet."),
    model: list[Path] = typer.Option([], "--model", help="A saved model directory (repeatable)."),
    pred_column: list[str] = typer.Option(
        [], "--pred-column", help="A column of --data holding a model's decisions (repeatable)."
    ),
    text: str = typer.Option("text", "--text", help="Column with the texts."),
    label: str = typer.Option("label", "--label", help="Column with the true labels."),
    sensitive: str = typer.Option(..., "--sensitive", help="Comma-separated sensitive columns."),
    pos_label: str | None = typer.Option(None, "--pos-label", help="The favourable label."),
    criterion: str = typer.Option("equal_opportunity", "--criterion"),
    threshold: float = typer.Option(FOUR_FIFTHS, "--threshold", help="Ratio threshold of the criterion."),
    min_group_size: int = typer.Option(MIN_GROUP_SIZE, "--min-group-size"),
    baseline: str | None = typer.Option(
        None, "--baseline", help="Model the others are tested against (default: the first)."
    ),
    n_bootstrap: int = typer.Option(
        1000, "--n-bootstrap", help="Paired bootstrap replicates (0: no paired test)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the paired bootstrap."),
    out: Path = typer.Option(Path("comparison.json"), "--out", "-o", help="JSON output."),
    svg: Path | None = typer.Option(None, "--svg", help="Also write the plot as SVG."),
    text_column: str | None = typer.Option(None, "--text-column", hidden=True),
    label_column: str | None = typer.Option(None, "--label-column", hidden=True),
    template: str | None = TEMPLATE_OPTION,
    label_word: list[str] = LABEL_WORD_OPTION,
) -> None:
    """Compare models on the same test data; exit 1 if none meets the criterion's threshold.

    Each model is also tested against the baseline with a paired bootstrap (rows resampled
    once, both models' decisions on the same resample): the change in accuracy and in the
    criterion, with its interval, and whether it is beyond noise.
    """
    from fairslm.mitigation.comparison import compare_files
    from fairslm.reporting.terminal import print_comparison

    text = renamed_option(text, text_column, new="--text", old="--text-column", default="text")
    label = renamed_option(label, label_column, new="--label", old="--label-column",
                           default="label")

    result = compare_files(
        data,
        models=model,
        pred_columns=pred_column,
        text=text,
        label=label,
        sensitive=[s.strip() for s in sensitive.split(",") if s.strip()],
        pos_label=pos_label,
        criterion=criterion,
        threshold=threshold,
        min_group_size=min_group_size,
        baseline=baseline,
        n_bootstrap=n_bootstrap,
        seed=seed,
        out=out,
        svg=svg,
        model_options=causal_lm_options(template, label_word),
    )
    print_comparison(result, n_bootstrap=n_bootstrap)
    selection = result.select()
    typer.echo(selection.message)
    typer.echo(f"wrote {out}")
    if svg is not None:
        typer.echo(f"wrote {svg}")
    raise typer.Exit(EXIT_OK if selection.name is not None else EXIT_FAIL)
