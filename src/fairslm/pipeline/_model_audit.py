"""Audit a model on a data set: score the texts, decide, audit the decisions."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fairslm.audit import AuditResult, audit_predictions
from fairslm.exceptions import InvalidDataError
from fairslm.metrics import FOUR_FIFTHS, MIN_GROUP_SIZE

__all__ = ["ModelAudit", "audit_model", "audit_model_file"]


@dataclass(frozen=True)
class ModelAudit:
    """The audit of a model's decisions, against the data's labels and, when known, the truth."""

    audit: AuditResult
    scores: dict[str, float]
    truth_audit: AuditResult | None = None
    y_score: Any = field(default=None, repr=False)
    y_pred: Any = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.audit.passed


def audit_model(
    model: Any,
    data: Any,
    *,
    truth: Any = None,
    decision_threshold: float = 0.5,
    group_thresholds: dict[str, float] | None = None,
    threshold_column: str | None = None,
    reference_group: Any = "min_max",
    threshold: float = FOUR_FIFTHS,
    min_group_size: int = MIN_GROUP_SIZE,
    n_bootstrap: int = 500,
    seed: int = 0,
    provenance: dict[str, Any] | None = None,
) -> ModelAudit:
    """Score ``data``'s texts with ``model``, decide at ``decision_threshold`` and audit.

    Parameters
    ----------
    model : path or model adapter
        A model directory (loaded with :func:`fairslm.load_model`) or an object with
        ``predict_proba(texts)`` and ``classes_``.
    data : Dataset
        Texts, binary labels and sensitive features (:func:`fairslm.load_dataset`).
    truth : array-like, optional
        An unbiased label for each row, when one is known: adds an audit and an accuracy
        against it.
    decision_threshold : float, default 0.5
        Probability of the favourable class at or above which the decision is favourable.
    group_thresholds, threshold_column : optional
        Post-processing: one decision threshold per group of ``threshold_column`` (groups not
        listed keep ``decision_threshold``).
    n_bootstrap : int, default 500
        Bootstrap replicates for the confidence intervals (0: none).

    Returns
    -------
    ModelAudit
    """
    source = {"model": str(model)} if isinstance(model, (str, os.PathLike)) else {}
    if not hasattr(model, "predict_proba"):
        from fairslm.models import load_model

        model = load_model(model)
    pos = data.pos_label
    if pos is None:
        raise InvalidDataError(
            f"the labels have classes {list(data.classes)} and no favourable one is set; "
            "pass pos_label (--pos-label) naming it"
        )
    negatives = [c for c in data.classes if c != pos]
    if len(negatives) != 1:
        raise InvalidDataError(
            f"audit_model needs binary labels; the data has classes {list(data.classes)}"
        )
    classes = list(model.classes_)
    idx = [i for i, c in enumerate(classes) if c == pos or str(c) == str(pos)]
    if not idx:
        raise InvalidDataError(
            f"the model's classes {classes} do not include the favourable label {pos!r}"
        )
    score = np.asarray(model.predict_proba(list(data.texts)), dtype=float)[:, idx[0]]
    cut = np.full(len(score), float(decision_threshold))
    if group_thresholds:
        if threshold_column not in data.sensitive.columns:
            raise InvalidDataError(
                f"group thresholds are for column {threshold_column!r}, which is not a sensitive "
                f"column of the data ({', '.join(map(str, data.sensitive.columns))})"
            )
        groups = data.sensitive[threshold_column].astype(str).to_numpy()
        for g, t in group_thresholds.items():
            cut[groups == str(g)] = float(t)
    y_pred = np.where(score >= cut, pos, negatives[0])
    y_true = np.asarray(data.labels)
    prov = {"dataset_sha256": data.content_hash, "seed": seed, **source}
    if hasattr(model, "fingerprint"):
        prov["model_fingerprint"] = model.fingerprint()
    prov.update(provenance or {})
    kw: dict[str, Any] = dict(
        sensitive_features=data.sensitive, pos_label=pos, y_score=score,
        reference_group=reference_group, threshold=threshold, min_group_size=min_group_size,
        n_bootstrap=n_bootstrap, seed=seed, provenance=prov,
    )
    audit = audit_predictions(y_true, y_pred, **kw)
    scores = {"accuracy (labels)": float(np.mean(y_pred == y_true))}
    truth_audit = None
    if truth is not None:
        tv = np.asarray(truth)
        if len(tv) != len(y_true):
            raise InvalidDataError(f"truth has {len(tv)} values for {len(y_true)} rows")
        scores["accuracy (true label)"] = float(np.mean(y_pred == tv))
        truth_audit = audit_predictions(tv, y_pred, **kw)
    return ModelAudit(audit=audit, scores=scores, truth_audit=truth_audit, y_score=score,
                      y_pred=y_pred)


def audit_model_file(
    model: Any,
    data: Any,
    *,
    text: str = "text",
    label: str = "label",
    sensitive: Any = ("gender",),
    split: str | None = None,
    split_column: str | None = None,
    pos_label: Any = None,
    truth: str | None = None,
    **options: Any,
) -> ModelAudit:
    """:func:`audit_model` on a data file (or folder of split files) named by its columns.

    ``split`` keeps only that split (from ``split_column``, or the split files of a folder);
    ``truth`` names a column holding an unbiased label, when one is known.
    """
    from fairslm.data import load_dataset

    sens = tuple(s for s in ([sensitive] if isinstance(sensitive, str) else sensitive) if s)
    kw: dict[str, Any] = dict(text=text, sensitive=sens, split=split_column, pos_label=pos_label,
                              splits=None if split is None else [split])
    ds = load_dataset(data, label=label, **kw)
    truth_values = None
    if truth is not None:
        truth_values = load_dataset(data, label=truth, **kw).labels
    return audit_model(model, ds, truth=truth_values, **options)
