"""How much the text reveals a sensitive attribute: a cross-validated probe and telling terms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = ["log_odds_terms", "probe_attribute"]

# Bootstrap replicates for the probe AUC interval: 200 percentile replicates give interval ends
# stable to about 0.01 at the sample sizes of text data sets, at a cost of 200 AUCs.
_N_BOOT = 200
# Words seen in fewer documents than this carry no reliable association with a group.
_MIN_DF = 3
# TF-IDF vocabulary cap: keeps the probe's memory bounded on large corpora.
_MAX_FEATURES = 50_000


def _auc(y: NDArray[np.bool_], s: NDArray[np.float64]) -> float:
    """Area under the ROC curve from ranks (Mann-Whitney U / (n1 n0)), ties averaged."""
    from scipy.stats import rankdata

    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _auc_many(y: NDArray[np.bool_], s: NDArray[np.float64], idx: NDArray[np.int64]) -> NDArray[np.float64]:
    return np.array([_auc(y[i], s[i]) for i in idx])


def probe_attribute(
    texts: Sequence[str] | None,
    groups: Sequence[Any],
    *,
    embeddings: NDArray[np.float64] | None = None,
    n_folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Cross-validated probe predicting the group of each row from its text or embedding.

    The default probe is TF-IDF + logistic regression, fitted inside each fold (no vocabulary
    leaks across folds); with ``embeddings`` it is standardised embeddings + logistic
    regression. The out-of-fold probabilities give the AUC (one-vs-rest per group, macro mean
    for more than two groups), a percentile bootstrap interval over rows, and a one-sided
    Mann-Whitney test of the AUC against chance (0.5); for more than two groups the p-value is
    the Bonferroni-adjusted smallest one-vs-rest p-value (some group is identifiable).
    """
    from scipy.stats import mannwhitneyu
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    g = np.array([str(v) for v in groups], dtype=object)
    levels, counts = np.unique(g, return_counts=True)
    if len(levels) < 2:
        return {"reason": "fewer than two groups"}
    folds = min(int(n_folds), int(counts.min()))
    if int(n_folds) < 2:
        raise ConfigError(f"n_folds must be at least 2; got {n_folds}")
    if folds < 2:
        return {"reason": f"the smallest group has {int(counts.min())} row(s); the probe needs "
                          "at least 2 per group"}
    if embeddings is not None:
        X: Any = np.asarray(embeddings, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != len(g):
            raise InvalidDataError(
                f"embeddings must have shape (n_rows, dim) = ({len(g)}, d); got {X.shape}"
            )
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        kind = "embeddings + logistic regression"
    else:
        X = list(texts or [])
        model = make_pipeline(
            TfidfVectorizer(min_df=2, sublinear_tf=True, max_features=_MAX_FEATURES),
            LogisticRegression(max_iter=2000),
        )
        kind = "tfidf + logistic regression"
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(model, X, g, cv=cv, method="predict_proba")
    rng = np.random.default_rng(seed)
    boot = rng.integers(0, len(g), size=(_N_BOOT, len(g)))
    per_group: dict[str, dict[str, Any]] = {}
    aucs, boots = [], []
    for j, lev in enumerate(levels):
        y = g == lev
        s = proba[:, j]
        a = _auc(y, s)
        b = _auc_many(y, s, boot)
        aucs.append(a)
        boots.append(b)
        p = float(mannwhitneyu(s[y], s[~y], alternative="greater").pvalue)
        lo, hi = np.nanpercentile(b, [2.5, 97.5])
        per_group[str(lev)] = {"auc": a, "ci": [float(lo), float(hi)], "p_value": p,
                               "n": int(y.sum())}
        if len(levels) == 2:
            break  # the other group's AUC is the same
    if len(levels) == 2:
        first = per_group[str(levels[0])]
        auc, ci, p_value = first["auc"], first["ci"], first["p_value"]
    else:
        auc = float(np.mean(aucs))
        lo, hi = np.nanpercentile(np.nanmean(np.vstack(boots), axis=0), [2.5, 97.5])
        ci = [float(lo), float(hi)]
        # Some group is identifiable: Bonferroni-adjusted smallest one-vs-rest p-value.
        p_value = min(1.0, len(levels) * min(float(v["p_value"]) for v in per_group.values()))
    return {
        "probe": kind,
        "auc": float(auc),
        "ci": ci,
        "chance": 0.5,
        "p_value": p_value,
        "n_folds": folds,
        "n_bootstrap": _N_BOOT,
        "per_group": per_group if len(levels) > 2 else {},
    }


def log_odds_terms(
    texts: Sequence[str], groups: Sequence[Any], *, n_terms: int = 15
) -> dict[str, list[dict[str, Any]]]:
    """The words most associated with each group: log-odds ratios with an informative prior.

    For each group ``i`` against the rest ``j`` and word ``w`` with counts ``y``, the
    weighted log-odds ratio with an informative Dirichlet prior ``alpha`` (Monroe, Colaresi &
    Quinn, "Fightin' Words", Political Analysis 16(4), 2008, eq. 16-22) is

        delta_w = log((y_iw + a_w) / (n_i + a_0 - y_iw - a_w))
                - log((y_jw + a_w) / (n_j + a_0 - y_jw - a_w)),
        z_w = delta_w / sqrt(1 / (y_iw + a_w) + 1 / (y_jw + a_w)).

    The prior is the pooled corpus counts (``a_w = y_iw + y_jw``), which shrinks rare words'
    estimates strongly toward zero. Words are ranked by ``z``.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    g = np.array([str(v) for v in groups], dtype=object)
    levels = np.unique(g)
    vec = CountVectorizer(min_df=min(_MIN_DF, len(g)), token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b")
    try:
        X = vec.fit_transform(list(texts))
    except ValueError:  # no word occurs often enough
        return {str(lev): [] for lev in levels}
    vocab = vec.get_feature_names_out()
    per_group = np.vstack([np.asarray(X[g == lev].sum(axis=0)).ravel() for lev in levels])
    pooled = per_group.sum(axis=0).astype(np.float64)
    a = pooled
    a0 = a.sum()
    out: dict[str, list[dict[str, Any]]] = {}
    for i, lev in enumerate(levels):
        yi = per_group[i].astype(np.float64)
        yj = pooled - yi
        ni, nj = yi.sum(), yj.sum()
        delta = np.log((yi + a) / (ni + a0 - yi - a)) - np.log((yj + a) / (nj + a0 - yj - a))
        z = delta / np.sqrt(1.0 / (yi + a) + 1.0 / (yj + a))
        top = np.argsort(-z, kind="stable")[: int(n_terms)]
        out[str(lev)] = [
            {"term": str(vocab[k]), "z": float(z[k]), "log_odds_ratio": float(delta[k]),
             "count_in_group": int(yi[k]), "count_elsewhere": int(yj[k])}
            for k in top if z[k] > 0
        ]
    return out
