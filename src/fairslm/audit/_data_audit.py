"""Audit a data set before training: representation, labeling bias, proxies, aggregation bias.

The three forms of data bias follow Suresh & Guttag, "A Framework for Understanding Sources of
Harm throughout the Machine Learning Life Cycle" (EAAMO 2021): representation bias (who is in
the data, against a reference population), labeling (historical/measurement) bias in the
labels' base rates, and aggregation bias (groups whose label distribution differs from the
pooled one, so one model may fit them poorly).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fairslm._version import __version__
from fairslm.audit._data_audit_result import DATA_AUDIT_SCHEMA_VERSION, DataAuditResult
from fairslm.audit._data_counts import SPLIT_FEATURE, count_sections, sensitive_views
from fairslm.audit._proxy import log_odds_terms, probe_attribute
from fairslm.data import Dataset
from fairslm.engines import count_table_from_arrays
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import FOUR_FIFTHS, MIN_GROUP_SIZE, CountTable

__all__ = [
    "audit_data",
    "audit_data_file",
    "data_findings",
    "normalise_reference",
    "read_reference",
]

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


def normalise_reference(ref: Any, features: tuple[str, ...]) -> dict[str, dict[str, float]]:
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
    names = [n for n, _ in sensitive_views(features)]
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


def _count_table(ds: Dataset) -> CountTable:
    """The (group, label) table of a data set; the labels stand in for the decisions."""
    labels = ds.labels if ds.labels is not None else np.zeros(len(ds), dtype=np.int64)
    features: dict[str, Any] = {f: ds.frame[f] for f in ds.spec.sensitive}
    if ds.spec.split is not None:
        features[SPLIT_FEATURE] = ds.frame[ds.spec.split].astype(str).to_numpy(dtype=object)
    return count_table_from_arrays(labels, labels, features, sample_weight=ds.weights)


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


def data_findings(rep: dict[str, Any], lab: dict[str, Any], prox: dict[str, Any],
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
    min_group_size: int = MIN_GROUP_SIZE,
    threshold: float = FOUR_FIFTHS,
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
    reference = normalise_reference(reference_distribution, dataset.spec.sensitive)
    rep, lab, agg = count_sections(
        _count_table(dataset), sensitive=tuple(dataset.spec.sensitive),
        split=dataset.spec.split is not None, labeled=dataset.labels is not None,
        pos_label=dataset.pos_label, reference=reference,
        underrep_factor=float(underrep_factor), min_group_size=int(min_group_size),
        threshold=float(threshold), aggregation_threshold=float(aggregation_threshold),
        seed=int(seed),
    )
    prox = _proxies(dataset, probe, int(n_folds), int(seed), int(n_terms), probe_max_rows)
    findings = data_findings(rep, lab, prox, agg, float(underrep_factor))
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


def read_reference(ref: Any) -> Mapping[str, Any] | None:
    """A reference distribution from a mapping, a JSON/YAML file, or ``"F=0.5,M=0.5"``."""
    if ref is None or isinstance(ref, Mapping):
        return ref
    text = str(ref)
    from pathlib import Path

    path = Path(text)
    if path.suffix.lower() in (".json", ".yaml", ".yml"):
        import yaml

        try:
            from fairslm._userfiles import read_user_text

            data = yaml.safe_load(read_user_text(path, what="reference distribution"))
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
    return audit_data(ds, reference_distribution=read_reference(reference_distribution),
                      **options)
