"""Audit several models on the same test data and compare accuracy against disparity."""

from __future__ import annotations

import inspect
import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from fairslm._artifact import JsonArtifact, check_kind_version, float_or_nan
from fairslm._missing import missing_mask
from fairslm._version import __version__
from fairslm.audit import AuditResult, audit_predictions
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import CRITERIA, FOUR_FIFTHS, MIN_GROUP_SIZE
from fairslm.mitigation.comparison._paired import PairedDifference, paired_differences
from fairslm.mitigation.comparison._pareto import ModelSelection, pareto_front, select_most_accurate

__all__ = ["COMPARISON_KIND", "COMPARISON_SCHEMA_VERSION", "ComparisonResult", "ComparisonRow", "compare"]

COMPARISON_KIND = "fairslm.comparison"
COMPARISON_SCHEMA_VERSION = "1.1"  # 1.1: paired bootstrap against a baseline


@dataclass(frozen=True)
class ComparisonRow:
    """One model's numbers on the shared test data."""

    name: str
    accuracy: float
    ratio: float  # the criterion's ratio (1 = parity)
    difference: float  # the criterion's difference (0 = parity)
    verdict: str
    worst_group: str | None
    group_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComparisonResult(JsonArtifact):
    """Models compared on one test set: the table behind an accuracy-vs-disparity plot.

    ``paired[name]`` holds, for every model but the ``baseline``, the paired bootstrap
    difference (model minus baseline) of accuracy and of each criterion's ratio and difference,
    each with its interval and verdict ("better", "worse", "within noise").
    ``to_dict()``/``to_json()`` are the contract (``kind = "fairslm.comparison"``, versioned);
    ``plot_svg()`` renders the plot as an inline SVG string.
    """

    criterion: str
    threshold: float
    rows: tuple[ComparisonRow, ...]
    pareto: tuple[str, ...]
    n_rows: int
    provenance: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None
    paired: dict[str, tuple[PairedDifference, ...]] = field(default_factory=dict)
    audits: dict[str, AuditResult] = field(default_factory=dict, repr=False, compare=False)
    schema_version: str = COMPARISON_SCHEMA_VERSION
    kind: str = COMPARISON_KIND

    _kind: ClassVar[str] = COMPARISON_KIND
    _what: ClassVar[str] = "comparison"

    def row(self, name: str) -> ComparisonRow:
        """The row of model ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no model named {name!r}; models are: {', '.join(r.name for r in self.rows)}")

    def select(self, target: float | None = None, *, kind: str = "ratio") -> ModelSelection:
        """The most accurate model meeting the target (default: the audit threshold)."""
        t = self.threshold if target is None else target
        vals = [r.ratio if kind == "ratio" else r.difference for r in self.rows]
        return select_most_accurate(
            [r.name for r in self.rows], [r.accuracy for r in self.rows], vals,
            target=t, kind=kind, criterion=self.criterion,
        )

    def _json_form(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "schema_version": self.schema_version,
            "criterion": self.criterion,
            "threshold": self.threshold,
            "n_rows": self.n_rows,
            "rows": [asdict(r) for r in self.rows],
            "pareto": list(self.pareto),
            "baseline": self.baseline,
            "paired": {m: [d.to_dict() for d in ds] for m, ds in self.paired.items()},
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComparisonResult:
        """Rebuild from :meth:`to_dict` output (audits are not stored)."""
        check_kind_version(dict(data), kind=COMPARISON_KIND, version=COMPARISON_SCHEMA_VERSION,
                           what="comparison", written_by="fairslm compare")
        rows = tuple(
            ComparisonRow(
                name=r["name"], accuracy=float_or_nan(r["accuracy"]), ratio=float_or_nan(r["ratio"]),
                difference=float_or_nan(r["difference"]), verdict=r["verdict"], worst_group=r["worst_group"],
                group_metrics={g: {m: float_or_nan(v) for m, v in d.items()} for g, d in r["group_metrics"].items()},
                extra=dict(r.get("extra", {})),
            )
            for r in data["rows"]
        )
        paired = {
            m: tuple(
                PairedDifference(
                    statistic=d["statistic"], baseline=float_or_nan(d["baseline"]), model=float_or_nan(d["model"]),
                    difference=float_or_nan(d["difference"]),
                    interval=(float_or_nan(d["interval"][0]), float_or_nan(d["interval"][1])),
                    better=d["better"], verdict=d["verdict"], reading=d["reading"],
                )
                for d in ds
            )
            for m, ds in (data.get("paired") or {}).items()
        }
        return cls(
            criterion=data["criterion"], threshold=float(data["threshold"]), rows=rows,
            pareto=tuple(data["pareto"]), n_rows=int(data["n_rows"]),
            provenance=dict(data.get("provenance", {})), baseline=data.get("baseline"),
            paired=paired,
        )

    def to_frame(self) -> Any:
        """One row per model: accuracy, ratio, difference, verdict, on the Pareto front."""
        import pandas as pd

        return pd.DataFrame(
            [
                {"model": r.name, "accuracy": r.accuracy, "ratio": r.ratio,
                 "difference": r.difference, "verdict": r.verdict, "pareto": r.name in self.pareto,
                 **r.extra}
                for r in self.rows
            ]
        )

    def plot_svg(self, *, disparity: str = "difference") -> str:
        """Accuracy against disparity, one point per model, as an SVG string."""
        return _comparison_svg(self, disparity=disparity)


def _comparison_svg(result: ComparisonResult, *, disparity: str) -> str:
    """Scatter of accuracy (y) against the criterion's disparity (x), Pareto front joined.

    The layout follows Fairlearn's ``plot_model_comparison``: one point per model, fairer to
    the left, more accurate to the top.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    if disparity not in ("difference", "ratio"):
        raise ValueError("disparity must be 'difference' or 'ratio'")
    xs = [r.difference if disparity == "difference" else 1.0 - r.ratio for r in result.rows]
    ys = [r.accuracy for r in result.rows]
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.add_subplot()
    on_front = set(result.pareto)
    for r, x, y in zip(result.rows, xs, ys, strict=True):
        ax.scatter([x], [y], color="#1f6fb4" if r.name in on_front else "#8a8a8a", zorder=3)
        ax.annotate(r.name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    front = [(xs[i], ys[i]) for i, r in enumerate(result.rows) if r.name in on_front]
    if len(front) > 1:
        front.sort()
        ax.plot([p[0] for p in front], [p[1] for p in front], color="#1f6fb4", lw=1, zorder=2)
    crit = result.criterion.replace("_", " ")
    ax.set_xlabel(f"{crit} {'difference' if disparity == 'difference' else '1 - ratio'} (lower is fairer)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Model comparison on {result.n_rows} test rows")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buf = io.StringIO()
    # Text stays text (searchable, small) and ids are salted so the output is reproducible.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "fairslm"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def _predict(model: Any, texts: Sequence[str], sensitive_features: Any) -> Any:
    if not hasattr(model, "predict"):
        return model  # already predictions
    try:
        params = inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        params = {}
    if "sensitive_features" in params:
        return model.predict(texts, sensitive_features=sensitive_features)
    return model.predict(texts)


def compare(
    models: Mapping[str, Any] | Sequence[Any],
    data: Any = None,
    *,
    y_true: Any = None,
    sensitive_features: Any = None,
    text: str = "text",
    label: str = "label",
    sensitive: Sequence[str] | None = None,
    pos_label: object | None = None,
    criterion: str = "equal_opportunity",
    threshold: float = FOUR_FIFTHS,
    reference_group: Any = "min_max",
    min_group_size: int = MIN_GROUP_SIZE,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    baseline: str | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ComparisonResult:
    """Audit several models on the same test data, and test each one's change against a baseline.

    Parameters
    ----------
    models : mapping of name -> model or predictions, or a sequence of models
        A model has ``predict(texts)`` (or ``predict(texts, *, sensitive_features)``, as
        :class:`~fairslm.mitigation.postprocessing.ThresholdedModel` does); an array is taken as
        the model's decisions on the test rows.
    data : DataFrame or mapping of columns, optional
        Test data with the columns named by ``text``, ``label`` and ``sensitive``. Omit it and
        pass ``y_true``/``sensitive_features`` when every entry of ``models`` is predictions.
    text, label, sensitive : str, str, sequence of str
        Column names in ``data``, as in :func:`fairslm.data.load_dataset`.
    criterion : str, default "equal_opportunity"
        The disparity compared; one of the audit's criteria.
    threshold : float, default 0.8
        The audit's ratio threshold (verdicts, and the default selection target).
    extra : mapping of name -> mapping, optional
        More columns per model for the table (training time, flip rate, ...).
    baseline : str, optional
        The model the others are compared with in the paired bootstrap (default: the first).
    n_bootstrap : int, default 1000
        Replicates of the paired bootstrap (0: no paired comparison). Rows are resampled once
        from the joint count table of both models' decisions; see ``docs/compare.md``.
    confidence : float, default 0.95
        Coverage of the paired intervals.
    seed : int, default 0
        Seed of the paired bootstrap.

    Returns
    -------
    ComparisonResult

    Examples
    --------
    >>> res = compare({"a": [1, 1, 0, 0], "b": [1, 0, 0, 0]}, y_true=[1, 1, 0, 0],
    ...               sensitive_features={"g": ["x", "y", "x", "y"]}, min_group_size=1)
    >>> [(r.name, r.accuracy, r.ratio) for r in res.rows]
    [('a', 1.0, 1.0), ('b', 0.75, 0.0)]
    """
    if criterion not in CRITERIA:
        raise ConfigError(f"unknown criterion {criterion!r}; known criteria: {', '.join(CRITERIA)}")
    if not isinstance(models, Mapping):
        models = {str(getattr(m, "name", f"model_{i}")): m for i, m in enumerate(models)}
    if not models:
        raise InvalidDataError("no models to compare; pass at least one")
    texts: Sequence[str] = []
    if data is not None:
        cols = list(data.columns) if hasattr(data, "columns") else list(data.keys())
        sens = list(sensitive or [])
        if not sens:
            raise ConfigError("pass sensitive= naming the sensitive feature column(s) of data")
        needed = [label, *sens]
        if any(hasattr(m, "predict") for m in models.values()):
            needed.append(text)
        missing = [c for c in needed if c not in cols]
        if missing:
            raise InvalidDataError(
                f"column(s) {missing} not found in the test data; columns are: "
                f"{', '.join(map(str, cols))}"
            )
        n_missing = int(missing_mask(data[label]).sum())
        if n_missing:
            raise InvalidDataError(
                f"label column {label!r} of the test data has {n_missing} missing value(s); "
                "drop or label those rows (empty strings count as missing)"
            )
        y_true = np.asarray(data[label])
        sensitive_features = {c: np.asarray(data[c]) for c in sens}
        if text in cols:
            texts = [str(t) for t in data[text]]
    if y_true is None or sensitive_features is None:
        raise InvalidDataError("pass data=, or both y_true= and sensitive_features=")
    if baseline is not None and str(baseline) not in {str(k) for k in models}:
        raise ConfigError(
            f"baseline {baseline!r} is not among the models: {', '.join(str(k) for k in models)}"
        )
    rows = []
    audits: dict[str, AuditResult] = {}
    preds: dict[str, Any] = {}
    for name, model in models.items():
        if hasattr(model, "predict") and not texts:
            raise InvalidDataError(
                f"model {name!r} needs texts to predict; pass data= with a {text!r} column"
            )
        pred = _predict(model, texts, sensitive_features)
        preds[str(name)] = pred
        res = audit_predictions(
            y_true, pred, sensitive_features=sensitive_features, pos_label=pos_label,
            reference_group=reference_group, threshold=threshold, min_group_size=min_group_size,
            criteria=[criterion],
        )
        audits[str(name)] = res
        view = res.views[0]
        crit = view.criterion(criterion)
        metrics = CRITERIA[criterion][0]
        rows.append(
            ComparisonRow(
                name=str(name),
                accuracy=float(res.overall["accuracy"]),
                ratio=float(crit.ratio),
                difference=float(crit.difference),
                verdict=crit.verdict,
                worst_group=crit.worst_group,
                group_metrics={
                    g.label: {m: float(g.metrics[m]) for m in ("accuracy", "selection_rate", *metrics)}
                    for g in view.groups
                },
                extra=dict((extra or {}).get(str(name), {})),
            )
        )
    front = pareto_front([r.accuracy for r in rows], [r.difference for r in rows])
    base_name = str(baseline) if baseline is not None else rows[0].name
    paired: dict[str, tuple[PairedDifference, ...]] = {}
    if int(n_bootstrap) > 0 and len(rows) > 1:
        pos = audits[base_name].task["pos_label"]
        if isinstance(sensitive_features, Mapping):
            feats = dict(sensitive_features)
        elif hasattr(sensitive_features, "columns"):  # a DataFrame: one feature per column
            feats = {str(c): np.asarray(sensitive_features[c]) for c in sensitive_features.columns}
        else:
            feats = {str(getattr(sensitive_features, "name", None) or "group"): sensitive_features}
        for r in rows:
            if r.name == base_name:
                continue
            paired[r.name] = tuple(paired_differences(
                y_true, preds[base_name], preds[r.name], sensitive_features=feats,
                pos_label=pos, reference_group=reference_group, min_group_size=min_group_size,
                n_bootstrap=n_bootstrap, confidence=confidence, seed=seed,
            ))
    return ComparisonResult(
        criterion=criterion,
        threshold=float(threshold),
        rows=tuple(rows),
        pareto=tuple(rows[i].name for i in front),
        n_rows=len(np.asarray(y_true)),
        provenance={"fairslm_version": __version__, "pos_label": audits[rows[0].name].task["pos_label"],
                    "paired_bootstrap": {"n_replicates": int(n_bootstrap), "confidence": float(confidence),
                                         "seed": int(seed)}},
        baseline=base_name if paired else None,
        paired=paired,
        audits=audits,
    )
