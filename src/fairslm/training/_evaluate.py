"""Predictions on a split, and the validation audit of the trained model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairslm.training._data import Rows
from fairslm.training._model import TrainableModel

__all__ = ["audit_proba", "criterion_ratios", "predict_proba", "validation_audit"]

# Forward-only batches can be larger than training ones; 64 keeps padding waste low once sorted.
EVAL_BATCH = 64


def predict_proba(tm: TrainableModel, ids: list[list[int]]) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` in eval mode, batched by length."""
    import torch

    was_training = tm.model.training
    tm.model.eval()
    order = np.argsort([len(x) for x in ids], kind="stable")
    out = np.zeros((len(ids), len(tm.classes)), dtype=np.float64)
    try:
        with torch.no_grad():
            for s in range(0, len(order), EVAL_BATCH):
                idx = order[s : s + EVAL_BATCH]
                input_ids, mask = tm.collate([ids[i] for i in idx])
                logits, _ = tm.forward(input_ids, mask)
                out[idx] = torch.softmax(logits.double(), dim=-1).cpu().numpy()
    finally:
        tm.model.train(was_training)
    return out


def validation_audit(rows: Rows, proba: np.ndarray, *, threshold: float, min_group_size: int,
                     provenance: dict[str, Any]) -> Any:
    """The fairslm audit of the model's validation decisions (an ``AuditResult``)."""
    return audit_proba(rows.y, proba, rows.sensitive, classes=rows.classes, pos_index=rows.pos_index,
                       threshold=threshold, min_group_size=min_group_size, provenance=provenance)


def audit_proba(y: np.ndarray, proba: np.ndarray, sensitive: Any, *, classes: Sequence[str],
                pos_index: int, threshold: float | None = None, min_group_size: int | None = None,
                provenance: dict[str, Any] | None = None) -> Any:
    """The audit of decisions ``proba.argmax(1)`` against class indices ``y`` (an ``AuditResult``);
    the audit's defaults for ``threshold`` and ``min_group_size`` when not given."""
    from fairslm.audit import audit_predictions

    names = np.asarray(classes, dtype=object)
    options: dict[str, Any] = {}
    if threshold is not None:
        options["threshold"] = threshold
    if min_group_size is not None:
        options["min_group_size"] = min_group_size
    return audit_predictions(
        names[y], names[proba.argmax(1)], sensitive_features=sensitive, y_score=proba[:, pos_index],
        sample_weight=None, pos_label=names[pos_index], provenance=provenance, **options,
    )


def criterion_ratios(audit: Any) -> dict[str, float]:
    """Each criterion's ratio in the first (full-intersection) view of an audit."""
    view = audit.views[0]
    return {c.name: float(c.ratio) for c in view.criteria}
