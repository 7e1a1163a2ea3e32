"""``fairslm sweep``: one fine-tune per grid point, and the accuracy-fairness Pareto front."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fairslm.cli._app import EXIT_OK, fail, files
from fairslm.cli._renamed import renamed_option


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)


def _fmt(iv: Any, digits: int = 4) -> str:
    if iv is None or iv.n == 0 or iv.mean != iv.mean:
        return "n/a"
    if iv.n < 2:
        return f"{iv.mean:.{digits}f}"
    return f"{iv.mean:.{digits}f} [{iv.low:.{digits}f}, {iv.high:.{digits}f}]"


@files(inputs=["config"], outputs={"out": "workdir", "output_dir": "workdir"}, staged=False)
def sweep_command(
    config: Path = typer.Option(..., "--config", "-c", help="TOML file with the shared run configuration."),
    grid: list[str] = typer.Option(..., "--grid", "-g",
                                   help="KEY=V1,V2,... or KEY=[JSON list]; repeat for a product grid."),
    seeds: str | None = typer.Option(None, "--seeds",
                                     help="Train every grid point with each seed: 0-4, 0,1,2 or one seed."),
    fairness: str = typer.Option("equal_opportunity", "--fairness",
                                 help="Audit criterion whose validation ratio is the fairness axis."),
    rank_by: str | None = typer.Option(
        None, "--rank-by",
        help="Order the table by the lower 95% bound over seeds of: accuracy, accuracy_change, "
             "rms_cut, a criterion (default: --fairness), or the upper bound of rms_tpr_gap."),
    baseline: list[str] = typer.Option(
        [], "--baseline", help="Override for the baseline runs, KEY=VALUE (default: plain fine-tuning)."),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Train no baseline runs."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing run directories."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Root of the runs (overrides output_dir)."),
    set_: list[str] = typer.Option([], "--set", help="Override a shared config key: KEY=VALUE."),
    output_dir: Path | None = typer.Option(None, "--output-dir", hidden=True),
) -> None:
    """Train once per grid point (and seed) and a plain baseline per seed; print validation
    accuracy, fairness ratio and TPR-gap RMS cut, each as mean [95% interval] over seeds.

    Writes each run to <output_dir>/NN-<overrides>/[seed-S/] and the summary to
    <output_dir>/sweep.json. Constraint targets may be given as plain strings: --grid
    'constraints.targets=["equal_opportunity ratio >= 0.8", "equal_opportunity ratio >= 0.9"]'.
    """
    from fairslm._config import parse_grid, parse_overrides
    from fairslm.metrics import CRITERIA
    from fairslm.training import (
        PLAIN_FINE_TUNING,
        SweepConfig,
        load_train_config,
        parse_seeds,
        sweep,
    )

    values = parse_grid(grid)
    rank = rank_by or fairness
    if rank not in (*SweepConfig.STATISTICS, *CRITERIA):
        fail(f"--rank-by {rank!r} is not a statistic of the sweep; use one of "
             f"{', '.join((*SweepConfig.STATISTICS, *CRITERIA))}")
    overrides = parse_overrides(set_)
    out = renamed_option(out, output_dir, new="--out", old="--output-dir", default=None)
    if out is not None:
        overrides["output_dir"] = out
    seed_list = parse_seeds(seeds) if seeds is not None else None
    if no_baseline and baseline:
        fail("--baseline and --no-baseline contradict each other; give one")
    base_runs: Any = False if no_baseline else ({**PLAIN_FINE_TUNING, **parse_overrides(baseline, option="--baseline")} if baseline else True)
    base = load_train_config(config, **overrides)
    result = sweep(base, values, fairness=fairness, overwrite=overwrite, seeds=seed_list,
                   baseline=base_runs)
    order = result.ranked(rank)
    front = set(result.pareto_front)
    typer.echo(f"{len(result.runs)} runs over seeds {', '.join(map(str, result.seeds))}"
               + (f" and {len(result.baseline)} baseline runs" if result.baseline else "")
               + f"; validation figures, mean [95% interval over seeds]; ranked by the lower bound "
               f"of {rank} (* = on the Pareto front of the means)")
    for c in order:
        over = ", ".join(f"{k}={v}" for k, v in c.overrides.items())
        line = (f"{'*' if c.index in front else ' '} {c.index:2d}  acc {_fmt(c.accuracy)}  "
                f"{fairness} {_fmt(c.ratios.get(fairness))}")
        if c.rms_cut is not None:
            line += f"  RMS cut {_fmt(c.rms_cut, 2)}"
        typer.echo(f"{line}  {over}")
    for b in result.baseline:
        typer.echo(f"  baseline seed {b.seed}: acc {b.accuracy:.4f}  {fairness} "
                   f"{b.ratios.get(fairness, float('nan')):.4f}  TPR-gap RMS {b.rms_tpr_gap:.4f}")
    typer.echo(f"summary: {Path(base.output_dir) / 'sweep.json'}")
    raise typer.Exit(EXIT_OK)
