"""Audit a data set before training: representation, labeling bias, proxies, aggregation bias.

The three forms of data bias follow Suresh & Guttag, "A Framework for Understanding Sources of
Harm throughout the Machine Learning Life Cycle" (EAAMO 2021): representation bias (who is in
the data, against a reference population), labeling (historical/measurement) bias in the
labels' base rates, and aggregation bias (groups whose label distribution differs from the
pooled one, so one model may fit them poorly).
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fairslm._version import __version__
from fairslm.audit._data_audit_result import DATA_AUDIT_SCHEMA_VERSION, DataAuditResult
from fairslm.audit._model_audit import DEFAULT_MIN_GROUP_SIZE, DEFAULT_THRESHOLD, audit_predictions
from fairslm.audit._proxy import log_odds_terms, probe_attribute
from fairslm.data import Dataset
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = ["audit_data", "audit_data_file"]

# A group is under-represented when its share is below expected / factor. 1.25 mirrors the
# four-fifths rule: a share under 80% of the reference share is flagged.
DEFAULT_UNDERREP_FACTOR = 1.25
# A group's label distribution is flagged for aggregation bias when its total variation
# distance to the pooled distribution is at least this: 10 points of label share moved.
DEFAULT_AGGREGATION_TVD = 0.1
# The probe answers "is the attribute recoverable from the text?"; 50,000 rows pin its AUC to
# about +/-0.005 while keeping 5-fold TF-IDF + logistic regression to a minute or so.
DEFAULT_PROBE_MAX_ROWS = 50_000
# Tolerance on reference shares summing to one (rounded published figures).
_SHARE_TOLERANCE = 0.01
_Z95 = 1.959963984540054


def _wilson(rate: float, n: float) -> list[float] | None:
    """Wilson score interval for a proportion (Wilson, JASA 1927)."""
    if n <= 0 or not math.isfinite(rate):
        return None
    z2 = _Z95**2
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _katz(r1: float, n1: float, r2: float, n2: float) -> list[float] | None:
    """Katz log interval for the ratio of two proportions r1/r2 (Katz et al., Biometrics 1978)."""
    a, c = r1 * n1, r2 * n2
    if a <= 0 or c <= 0 or n1 <= 0 or n2 <= 0:
        return None
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    ratio = r1 / r2
    return [ratio * math.exp(-_Z95 * se), ratio * math.exp(_Z95 * se)]


def _labels_of(frame: pd.DataFrame, features: tuple[str, ...]) -> pd.Series:
    out = frame[features[0]].astype(str)
    for f in features[1:]:
        out = out + ", " + frame[f].astype(str)
    return out


def _views(features: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    views = [(f, (f,)) for f in features]
    if len(features) > 1:
        views.insert(0, (" & ".join(features), features))
    return views


def _normalise_reference(ref: Any, features: tuple[str, ...]) -> dict[str, dict[str, float]]:
    if ref is None:
        return {}
    if not isinstance(ref, Mapping) or not ref:
        raise ConfigError("reference_distribution must map group -> share (or feature -> "
                          "{group: share}); got " + repr(ref))
    if all(isinstance(v, Mapping) for v in ref.values()):
        per = {str(k): v for k, v in ref.items()}
    elif len(features) == 1:
        per = {features[0]: ref}
    else:
        raise ConfigError(
            f"with several sensitive features ({', '.join(features)}) give "
            "reference_distribution as {feature: {group: share}}"
        )
    out: dict[str, dict[str, float]] = {}
    names = [n for n, _ in _views(features)]
    for feat, shares in per.items():
        if feat not in names:
            raise ConfigError(f"reference_distribution names {feat!r}, which is not a sensitive "
                              f"feature; features are: {', '.join(names)}")
        try:
            vals = {str(g): float(s) for g, s in shares.items()}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"reference shares for {feat!r} must be numbers: {shares!r}") from exc
        if any(v < 0 for v in vals.values()) or abs(sum(vals.values()) - 1) > _SHARE_TOLERANCE:
            raise ConfigError(
                f"reference shares for {feat!r} must be non-negative and sum to 1; they sum to "
                f"{sum(vals.values()):.3f}. Give population shares such as {{'F': 0.5, 'M': 0.5}}"
            )
        out[feat] = vals
    return out


def _representation(ds: Dataset, reference: dict[str, dict[str, float]], factor: float,
                    min_group_size: int) -> dict[str, Any]:
    frame = ds.frame
    w = ds.weights
    split_col = ds.spec.split
    out: dict[str, Any] = {}
    for name, feats in _views(ds.spec.sensitive):
        lab = _labels_of(frame, feats)
        counts = lab.value_counts(sort=False)
        total_w = float(w.sum()) if w is not None else float(len(lab))
        wsum = (pd.Series(w, index=lab.index).groupby(lab).sum() if w is not None else counts)
        by_split = None
        if split_col is not None:
            by_split = pd.crosstab(lab, frame[split_col].astype(str))
            split_sizes = by_split.sum(axis=0)
        groups: dict[str, dict[str, Any]] = {}
        for g in sorted(counts.index):
            entry: dict[str, Any] = {"count": int(counts[g]), "share": float(wsum[g]) / total_w}
            if by_split is not None:
                entry["by_split"] = {
                    str(sp): {"count": int(by_split.loc[g, sp]),
                              "share": int(by_split.loc[g, sp]) / int(split_sizes[sp])}
                    for sp in by_split.columns
                }
            groups[g] = entry
        view: dict[str, Any] = {"features": list(feats), "groups": groups}
        if len(feats) > 1:
            levels = [sorted(frame[f].astype(str).unique()) for f in feats]
            combos = [", ".join(c) for c in itertools.product(*levels)]
            view["empty"] = [c for c in combos if c not in groups]
            view["tiny"] = [g for g, e in groups.items() if e["count"] < min_group_size]
        if name in reference:
            under = []
            for g, exp in reference[name].items():
                obs = groups.get(g, {}).get("share", 0.0)
                ratio = obs / exp if exp > 0 else float("nan")
                flag = bool(exp > 0 and ratio < 1.0 / factor)
                entry = groups.setdefault(g, {"count": 0, "share": 0.0})
                entry.update(reference_share=exp, representation_ratio=ratio,
                             under_represented=flag)
                if flag:
                    under.append(g)
            view["under_represented"] = under
            view["not_in_reference"] = [g for g in groups if g not in reference[name]]
        out[name] = view
    return out


def _audit_kwargs(seed: int) -> dict[str, Any]:
    """Interval options of the audit engine, where this version of it has them."""
    params = inspect.signature(audit_predictions).parameters
    kw: dict[str, Any] = {}
    for key in ("n_bootstrap", "n_boot"):
        if key in params:
            kw[key] = 1000
    for key in ("random_state", "seed"):
        if key in params:
            kw[key] = seed
    return kw


def _labeling(ds: Dataset, min_group_size: int, threshold: float, seed: int) -> dict[str, Any]:
    if ds.labels is None:
        return {"reason": "the data set has no label column"}
    targets = [ds.pos_label] if ds.pos_label is not None else list(ds.classes)
    out: dict[str, Any] = {}
    for c in targets:
        # Labels stand in for decisions, so every error rate is 0 or undefined (0/0) by
        # construction; only the selection rate is read below.
        with np.errstate(invalid="ignore", divide="ignore"):
            res = audit_predictions(
                ds.labels, ds.labels, sensitive_features=ds.sensitive, sample_weight=ds.weights,
                pos_label=c, min_group_size=min_group_size, threshold=threshold,
                criteria=["statistical_parity"], **_audit_kwargs(seed),
            )
        views: dict[str, Any] = {}
        for v in res.views:
            if v.label is not None and str(v.label) != str(c):
                continue  # a multiclass audit also holds one view per other class
            groups = {}
            for g in v.groups:
                rate = g.metrics["selection_rate"]
                ci = g.intervals.get("selection_rate")
                groups[g.label] = {
                    "count": g.count, "rate": rate, "sufficient": g.sufficient,
                    "ci": list(ci) if ci is not None else _wilson(rate, g.count),
                }
            d = v.disparities["selection_rate"]
            crit = v.criterion("statistical_parity")
            ratio_ci = list(d.ratio_interval) if d.ratio_interval is not None else None
            method = "audit engine bootstrap" if ratio_ci is not None else "Wilson / Katz log"
            if ratio_ci is None and d.worst_group in groups and d.reference in groups:
                lo, ref = groups[d.worst_group], groups[d.reference]
                ratio_ci = _katz(lo["rate"], lo["count"], ref["rate"], ref["count"])
            views[v.name] = {
                "groups": groups, "ratio": d.ratio, "difference": d.difference,
                "reference": d.reference, "worst_group": d.worst_group,
                "verdict": crit.verdict, "ratio_ci": ratio_ci,
                "interval_method": method,
            }
        out[str(c)] = views
    return out


def _aggregation(ds: Dataset, tvd_threshold: float, min_group_size: int) -> dict[str, Any]:
    from scipy.stats import chi2_contingency

    if ds.labels is None:
        return {"reason": "the data set has no label column"}
    labels = pd.Series([str(v) for v in ds.labels], index=ds.frame.index)
    w = pd.Series(ds.weights if ds.weights is not None else np.ones(len(ds)), index=ds.frame.index)
    out: dict[str, Any] = {}
    for feat in ds.spec.sensitive:
        g = ds.frame[feat].astype(str)
        table = w.groupby([g, labels]).sum().unstack(fill_value=0.0)
        counts = pd.crosstab(g, labels)
        pooled = table.sum(axis=0) / table.to_numpy().sum()
        groups = {}
        flagged = []
        for grp in table.index:
            dist = table.loc[grp] / table.loc[grp].sum()
            tvd = float(0.5 * np.abs(dist - pooled).sum())
            n = int(counts.loc[grp].sum())
            flag = bool(tvd >= tvd_threshold and n >= min_group_size)
            groups[str(grp)] = {"count": n, "distribution": {str(k): float(v) for k, v in dist.items()},
                                "tvd": tvd, "flagged": flag}
            if flag:
                flagged.append(str(grp))
        chi: dict[str, Any] = {"reason": "fewer than two labels or groups"}
        if counts.shape[0] > 1 and counts.shape[1] > 1:
            stat, p, dof, _ = chi2_contingency(counts.to_numpy())
            chi = {"statistic": float(stat), "p_value": float(p), "dof": int(dof)}
        out[feat] = {"pooled": {str(k): float(v) for k, v in pooled.items()}, "groups": groups,
                     "chi2": chi, "flagged": flagged}
    return out


def _proxies(ds: Dataset, probe: Any, n_folds: int, seed: int, n_terms: int,
             max_rows: int | None) -> dict[str, Any]:
    if probe is None:
        return {"reason": "probe=None: skipped"}
    embeddings = None
    if isinstance(probe, str):
        if probe != "tfidf":
            raise ConfigError(f"probe must be 'tfidf', an embeddings array or None; got {probe!r}")
    else:
        embeddings = np.asarray(probe, dtype=np.float64)
    if embeddings is not None and embeddings.shape[0] != len(ds):
        raise InvalidDataError(
            f"probe embeddings have {embeddings.shape[0]} rows but the data set has {len(ds)}; "
            "pass one embedding per row, in row order"
        )
    texts = ds.texts
    rows = np.arange(len(ds))
    if max_rows is not None and len(ds) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(ds), size=max_rows, replace=False))
    out: dict[str, Any] = {}
    for feat in ds.spec.sensitive:
        groups = ds.frame[feat].astype(str).to_numpy()
        res = probe_attribute(
            [texts[i] for i in rows], groups[rows],
            embeddings=None if embeddings is None else embeddings[rows],
            n_folds=n_folds, seed=seed,
        )
        res["n_rows_probed"] = int(len(rows))
        res["top_terms"] = log_odds_terms(texts, groups, n_terms=n_terms)
        out[feat] = res
    return out


def _findings(rep: dict[str, Any], lab: dict[str, Any], prox: dict[str, Any],
              agg: dict[str, Any], factor: float) -> list[str]:
    out = []
    for name, view in rep.items():
        for g in view.get("under_represented", []):
            e = view["groups"][g]
            out.append(f"Representation: {name}={g} makes up {e['share']:.1%} of the data against "
                       f"{e['reference_share']:.1%} in the reference (under-represented by more "
                       f"than a factor of {factor:g}).")
        if view.get("empty"):
            out.append(f"Representation: {len(view['empty'])} intersection(s) of {name} have no "
                       f"rows: {', '.join(view['empty'])}.")
        if view.get("tiny"):
            out.append(f"Representation: intersection(s) with few rows in {name}: "
                       f"{', '.join(view['tiny'])}; their rates are unreliable.")
    for c, views in lab.items():
        if not isinstance(views, dict):
            continue
        for name, v in views.items():
            if isinstance(v, dict) and v.get("verdict") == "fail":
                w, r = v["worst_group"], v["reference"]
                out.append(
                    f"Labeling: the share of label {c!r} is {v['groups'][w]['rate']:.1%} for "
                    f"{name}={w} against {v['groups'][r]['rate']:.1%} for {r} (ratio "
                    f"{v['ratio']:.2f}); a model trained on these labels learns this gap."
                )
    for feat, p in prox.items():
        if isinstance(p, dict) and p.get("ci") and p["ci"][0] > 0.6:
            terms = "; ".join(
                f"{g}: {', '.join(t['term'] for t in lst[:5])}" for g, lst in p["top_terms"].items()
            )
            out.append(f"Proxies: the text reveals {feat} (probe AUC {p['auc']:.3f}, 95% CI "
                       f"{p['ci'][0]:.3f}-{p['ci'][1]:.3f}, chance 0.5). Telling words: {terms}.")
    for feat, a in agg.items():
        if isinstance(a, dict) and a.get("flagged"):
            out.append(
                f"Aggregation: the label distribution of {feat}={', '.join(a['flagged'])} differs "
                "from the pooled one; check the model audit's per-group errors for these groups."
            )
    return out


def audit_data(
    dataset: Dataset,
    *,
    reference_distribution: Mapping[str, Any] | None = None,
    underrep_factor: float = DEFAULT_UNDERREP_FACTOR,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    threshold: float = DEFAULT_THRESHOLD,
    probe: Any = "tfidf",
    n_folds: int = 5,
    n_terms: int = 15,
    aggregation_threshold: float = DEFAULT_AGGREGATION_TVD,
    probe_max_rows: int | None = DEFAULT_PROBE_MAX_ROWS,
    seed: int = 0,
) -> DataAuditResult:
    """Audit a data set for representation bias, labeling bias, proxies and aggregation bias.

    Parameters
    ----------
    dataset : Dataset
        From :func:`fairslm.load_dataset`.
    reference_distribution : mapping, optional
        Expected population shares, ``{group: share}`` for one sensitive feature or
        ``{feature: {group: share}}`` (e.g. labour-force shares).
    underrep_factor : float, default 1.25
        Flag a group whose share is below its reference share divided by this.
    min_group_size : int, default 30
        Intersections with fewer rows are listed as tiny; smaller groups never drive a verdict.
    threshold : float, default 0.8
        Four-fifths rule on the statistical parity of the labels.
    probe : "tfidf", array of shape (n_rows, dim), or None
        The proxy probe: TF-IDF + logistic regression, logistic regression on the given
        embeddings (e.g. a model's sentence embeddings), or no probe.
    n_folds : int, default 5
        Cross-validation folds of the probe.
    n_terms : int, default 15
        Top terms listed per group.
    aggregation_threshold : float, default 0.1
        Total variation distance between a group's and the pooled label distribution above
        which the group is pointed out.
    probe_max_rows : int or None, default 50000
        The probe is fitted on a random sample of this many rows (None: all rows).
    seed : int, default 0

    Returns
    -------
    DataAuditResult

    Examples
    --------
    >>> import pandas as pd
    >>> from fairslm import load_dataset
    >>> df = pd.DataFrame({"text": ["she nurses", "he operates", "he nurses", "she operates"] * 5,
    ...                    "label": [0, 1, 0, 1] * 5, "gender": ["F", "M", "M", "F"] * 5})
    >>> res = audit_data(load_dataset(df), probe=None, min_group_size=1)
    >>> res.representation["gender"]["groups"]["F"]["share"]
    0.5
    >>> res.labeling["1"]["gender"]["ratio"]
    1.0
    """
    if not isinstance(dataset, Dataset):
        raise InvalidDataError(
            f"audit_data needs a fairslm Dataset; got {type(dataset).__name__}. "
            "Build one with fairslm.load_dataset(...)"
        )
    if not len(dataset.spec.sensitive):
        raise ConfigError("the data set names no sensitive column; pass sensitive= to load_dataset")
    if not float(underrep_factor) >= 1:
        raise ConfigError(f"underrep_factor must be >= 1 (e.g. 1.25); got {underrep_factor}")
    reference = _normalise_reference(reference_distribution, dataset.spec.sensitive)
    rep = _representation(dataset, reference, float(underrep_factor), int(min_group_size))
    lab = _labeling(dataset, int(min_group_size), float(threshold), int(seed))
    prox = _proxies(dataset, probe, int(n_folds), int(seed), int(n_terms), probe_max_rows)
    agg = _aggregation(dataset, float(aggregation_threshold), int(min_group_size))
    findings = _findings(rep, lab, prox, agg, float(underrep_factor))
    spec = dataset.spec
    return DataAuditResult(
        schema_version=DATA_AUDIT_SCHEMA_VERSION,
        dataset={
            "n_rows": len(dataset), "content_hash": dataset.content_hash, "source": dataset.source,
            "spec": spec.model_dump(), "classes": list(dataset.classes),
            "pos_label": dataset.pos_label, "splits": list(dataset.split_names),
            "weighted": dataset.weights is not None,
        },
        representation=rep,
        labeling=lab,
        proxies=prox,
        aggregation=agg,
        findings=tuple(findings),
        provenance={"fairslm_version": __version__, "dataset_sha256": dataset.content_hash,
                    "seed": int(seed)},
        options={
            "underrep_factor": float(underrep_factor), "min_group_size": int(min_group_size),
            "threshold": float(threshold), "n_folds": int(n_folds), "n_terms": int(n_terms),
            "aggregation_threshold": float(aggregation_threshold),
            "probe_max_rows": probe_max_rows,
            "probe": probe if isinstance(probe, str) or probe is None else "embeddings",
            "reference_distribution": reference,
        },
    )


def _read_reference(ref: Any) -> Mapping[str, Any] | None:
    """A reference distribution from a mapping, a JSON/YAML file, or ``"F=0.5,M=0.5"``."""
    if ref is None or isinstance(ref, Mapping):
        return ref
    text = str(ref)
    from pathlib import Path

    path = Path(text)
    if path.suffix.lower() in (".json", ".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the reference distribution {path}: {exc}") from exc
        if not isinstance(data, Mapping):
            raise ConfigError(f"reference distribution {path} must hold a mapping group -> share")
        return data
    shares: dict[str, float] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError(part)
            shares[key.strip()] = float(value)
        except ValueError as exc:
            raise ConfigError(
                f"cannot parse reference distribution {text!r}: expected GROUP=SHARE pairs "
                "separated by commas (e.g. 'F=0.5,M=0.5') or a .json/.yaml file"
            ) from exc
    return shares


def audit_data_file(
    source: Any,
    *,
    text: str = "text",
    label: str | None = "label",
    sensitive: Any = ("gender",),
    pos_label: Any = None,
    weight: str | None = None,
    split: str | None = None,
    splits: Any = None,
    reference_distribution: Any = None,
    embeddings: Any = None,
    **options: Any,
) -> DataAuditResult:
    """Load a data set with :func:`fairslm.load_dataset` and run :func:`audit_data` on it.

    ``reference_distribution`` may also be a JSON/YAML file or ``"F=0.5,M=0.5"``;
    ``embeddings`` a ``.npy`` file of shape ``(n_rows, dim)`` used as the probe.
    """
    from fairslm.data import load_dataset

    ds = load_dataset(source, text=text, label=label, sensitive=sensitive, pos_label=pos_label,
                      weight=weight, split=split, splits=splits)
    if embeddings is not None and not hasattr(embeddings, "shape"):
        try:
            embeddings = np.load(str(embeddings), allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InvalidDataError(f"cannot read embeddings {embeddings}: {exc}; expected a "
                                   ".npy array of shape (n_rows, dim)") from exc
    if embeddings is not None:
        options["probe"] = embeddings
    return audit_data(ds, reference_distribution=_read_reference(reference_distribution),
                      **options)
