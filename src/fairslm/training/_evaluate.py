"""Predictions on a split, and the validation audit of the trained model."""

from __future__ import annotations

from typing import Any

import numpy as np

from fairslm.training._data import Rows
from fairslm.training._model import TrainableModel

__all__ = ["criterion_ratios", "predict_proba", "validation_audit"]

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
    from fairslm.audit import audit_predictions

    pred = proba.argmax(1)
    classes = np.asarray(rows.classes, dtype=object)
    return audit_predictions(
        classes[rows.y], classes[pred], sensitive_features=rows.sensitive,
        y_score=proba[:, rows.pos_index], sample_weight=None, pos_label=rows.classes[rows.pos_index],
        threshold=threshold, min_group_size=min_group_size, provenance=provenance,
    )


def criterion_ratios(audit: Any) -> dict[str, float]:
    """Each criterion's ratio in the first (full-intersection) view of an audit."""
    view = audit.views[0]
    return {c.name: float(c.ratio) for c in view.criteria}
