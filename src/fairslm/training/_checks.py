"""What :func:`fairslm.train` checks before it trains: the configuration, the rows and their
splits, fairness against the rows, the output directory and the number of processes."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairslm.exceptions import ConfigError
from fairslm.training._checkpoint import latest_checkpoint
from fairslm.training._config import TrainConfig, load_train_config
from fairslm.training._data import Rows, read_rows, strata, stratified_split
from fairslm.training._ddp import check_backend, check_world_size

__all__ = ["Splits", "check_output", "check_train", "checked", "prepare_output"]

_MARKERS = ("fairslm.json", "train_log.jsonl", "checkpoints")


def check_train(
    config: Any = None,
    *,
    train_data: Any = None,
    validation_data: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    nproc: int = 1,
    backend: str | None = None,
    **overrides: Any,
) -> TrainConfig:
    """Check what :func:`~fairslm.train` would check before it trains, and train nothing.

    The configuration, the data, the fairness settings against the data, the output directory
    and the number of processes ``nproc`` (the global batch and the smallest (group, label) cell
    must have a row for each) with the ``backend`` they would use (NCCL needs a GPU per process).
    ``fairslm train --nproc N`` calls it before it starts any process.

    Returns
    -------
    TrainConfig
        The configuration :func:`~fairslm.train` would run.
    """
    if nproc > 1:
        check_backend(backend, nproc)
    cfg, _ = checked(config, train_data, validation_data, resume=resume, overwrite=overwrite,
                     world_size=nproc, overrides=overrides)
    return cfg


def checked(config: Any, train_data: Any, validation_data: Any, *, resume: bool, overwrite: bool,
            world_size: int, overrides: dict[str, Any]) -> tuple[TrainConfig, Splits]:
    """The configuration and the rows of a run that passed every check (see :func:`check_train`)."""
    cfg = load_train_config(config, **overrides)
    data = Splits.read(cfg, train_data, validation_data)
    _check_fairness(cfg, data)
    if world_size > 1:
        rows = data.full_train
        cells = strata(rows, True)
        smallest = min(cells, key=len)
        g, y = rows.group[smallest[0]], rows.y[smallest[0]]
        check_world_size(world_size, batch_size=cfg.batch_size, smallest_cell=len(smallest),
                         cell=f"group {rows.group_labels[g]!r} with label {rows.classes[y]!r}")
    check_output(Path(cfg.output_dir), resume=resume, overwrite=overwrite)
    return cfg, data


@dataclass(frozen=True)
class Splits:
    """The rows of a run: what it trains on, what the multipliers are measured on, validation."""

    full_train: Rows
    train: Rows
    held_out: Rows | None
    validation: Rows | None

    @classmethod
    def read(cls, cfg: TrainConfig, train_data: Any, validation_data: Any) -> Splits:
        full = _rows(cfg, train_data, "train")
        assert full is not None
        val = _rows(cfg, validation_data, "validation", like=full)
        if cfg.constraints is None:
            return cls(full, full, None, val)
        # Rows the multipliers are measured on are held out of training (Cotter et al. 2019).
        keep, held = stratified_split(full, cfg.constraints.holdout_fraction, cfg.seed)
        return cls(full, full.subset(keep), full.subset(held), val)


def _rows(cfg: TrainConfig, data: Any, which: str, like: Rows | None = None) -> Rows | None:
    d = cfg.data
    src = data if data is not None else getattr(d, which)
    if src is None:
        if which == "train":
            raise ConfigError("no training data: pass train_data= or set data.train in the config")
        return None
    return read_rows(
        src, text=d.text, label=d.label, sensitive=d.sensitive, weight=d.weight,
        pos_label=d.pos_label if like is None else like.pos_label, like=like,
    )


def _check_fairness(cfg: TrainConfig, data: Splits) -> None:
    """Refuse, before anything is written, fairness the data cannot support."""
    from fairslm.mitigation.inprocessing import (
        ProxyLagrangian,
        check_adversary_criterion,
        check_support,
        metrics_for,
    )

    rows = data.full_train
    pos_name = repr(rows.classes[rows.pos_index])
    if cfg.penalty is not None:
        check_support(metrics_for(cfg.penalty.criterion), rows.y_pos, rows.group, rows.group_labels,
                      positive_name=pos_name)
    if cfg.constraints is not None:
        ProxyLagrangian(cfg.constraints.targets, rows.group_labels).check_support(
            rows.y_pos, rows.group, positive_name=pos_name)
    if cfg.selection and data.validation is None:
        raise ConfigError("selection = [...] picks a checkpoint on validation data; pass "
                          "validation_data= or set data.validation")
    if cfg.adversary is not None:
        check_adversary_criterion(cfg.adversary.criterion)


def check_output(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse an output directory the run may not write to (reads only)."""
    if resume:
        if latest_checkpoint(out / "checkpoints") is None:
            raise ConfigError(
                f"nothing to resume: {out} has no checkpoint; run without --resume "
                "(add --overwrite to start over in that directory)"
            )
        return
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(
                f"output directory {out} already exists and is not empty; pass --overwrite "
                "(overwrite=True) to replace it, or --resume (resume=True) to continue its run"
            )
        if not any((out / m).exists() for m in _MARKERS):
            raise ConfigError(
                f"refusing to overwrite {out}: it does not look like a fairslm training directory "
                "(no fairslm.json, train_log.jsonl or checkpoints/); choose another output_dir"
            )


def prepare_output(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Empty an earlier run's directory (``overwrite``) and create it; :func:`check_output` first."""
    if not resume and overwrite and out.exists() and any(out.iterdir()):
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
