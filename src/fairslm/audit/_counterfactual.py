"""Counterfactual text tests: does the decision change when only the group markers change?

Each text is rewritten by a :class:`~fairslm.data.CounterfactualPerturber` (pronouns, titles,
gendered nouns, names, user term lists) and scored again. Only texts with something to swap
are compared; the others are counted and reported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm._version import __version__
from fairslm.audit._counterfactual_result import COUNTERFACTUAL_SCHEMA_VERSION, CounterfactualResult
from fairslm.data import CounterfactualPerturber, Dataset, load_dataset
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = [
    "counterfactual_file",
    "counterfactual_test",
    "mcnemar_exact",
    "pairs_result",
    "resolve_score_class",
    "summarize_pairs",
]

DEFAULT_EXAMPLES = 10


def mcnemar_exact(b: int, c: int) -> dict[str, Any]:
    """Exact and mid-p McNemar tests for ``b`` and ``c`` discordant pairs.

    Under the null of no systematic change, ``b ~ Binomial(b + c, 1/2)``. The exact p-value is
    two-sided (twice the smaller tail, capped at 1); the mid-p value subtracts the probability
    of the observed split once, which keeps close to the nominal level with less conservatism
    (Fagerland, Lydersen & Laake, "The McNemar test for binary matched-pairs data: mid-p and
    asymptotic are better than exact conditional", BMC Medical Research Methodology 13, 2013).

    Examples
    --------
    >>> r = mcnemar_exact(0, 6)
    >>> round(r["p_exact"], 6), round(r["p_mid"], 6)
    (0.03125, 0.015625)
    """
    from scipy import stats

    n = int(b) + int(c)
    if n == 0:
        return {"b": int(b), "c": int(c), "p_exact": 1.0, "p_mid": 1.0}
    k = min(int(b), int(c))
    p_exact = min(1.0, 2.0 * float(stats.binom.cdf(k, n, 0.5)))
    p_mid = 2.0 * float(stats.binom.cdf(k, n, 0.5)) - float(stats.binom.pmf(k, n, 0.5))
    return {"b": int(b), "c": int(c), "p_exact": p_exact, "p_mid": max(0.0, min(1.0, p_mid))}


def _wilcoxon(delta: NDArray[np.float64]) -> dict[str, Any]:
    """Wilcoxon signed-rank test of paired score changes (zeros dropped, Wilcoxon 1945)."""
    from scipy import stats

    nz = delta[np.abs(delta) > 1e-12]
    if len(nz) == 0:
        return {"statistic": None, "p_value": None, "n_nonzero": 0,
                "reason": "no score changed"}
    res = stats.wilcoxon(nz, zero_method="wilcox")
    return {"statistic": float(res.statistic), "p_value": float(res.pvalue), "n_nonzero": int(len(nz))}


def _summary(flip: NDArray[np.bool_], delta: NDArray[np.float64], pos0: NDArray[np.bool_] | None,
             pos1: NDArray[np.bool_] | None, mcnemar_reason: str | None) -> dict[str, Any]:
    n = int(len(flip))
    out: dict[str, Any] = {"n": n, "n_flips": int(flip.sum())}
    if n == 0:
        out.update(flip_rate=None, mean_score_change=None, mean_abs_score_change=None,
                   max_abs_score_change=None, mcnemar={"reason": "no changed texts"},
                   wilcoxon={"reason": "no changed texts"})
        return out
    absd = np.abs(delta)
    out.update(
        flip_rate=float(flip.mean()),
        mean_score_change=float(delta.mean()),
        mean_abs_score_change=float(absd.mean()),
        max_abs_score_change=float(absd.max()),
    )
    if pos0 is not None and pos1 is not None:
        out["mcnemar"] = mcnemar_exact(int((pos0 & ~pos1).sum()), int((~pos0 & pos1).sum()))
    else:
        out["mcnemar"] = {"reason": mcnemar_reason}
    out["wilcoxon"] = _wilcoxon(delta)
    return out


def resolve_score_class(classes: list[Any], pos_label: Any) -> tuple[Any, str]:
    if pos_label is not None:
        if pos_label in classes:
            return pos_label, "probability of the positive class"
        matches = [c for c in classes if str(c) == str(pos_label)]
        if len(matches) == 1:
            return matches[0], "probability of the positive class"
        raise InvalidDataError(
            f"pos_label {pos_label!r} is not among the model's classes {classes}; pass one of them"
        )
    if len(classes) == 2:
        pos = 1 if set(classes) == {0, 1} else classes[1]
        return pos, "probability of the second class (scikit-learn's positive class)"
    return None, "probability of the class predicted for the original text"


def _predict(model: Any, texts: list[str], k: int) -> NDArray[np.float64]:
    proba = np.asarray(model.predict_proba(texts), dtype=np.float64)
    if proba.ndim != 2 or proba.shape != (len(texts), k):
        raise InvalidDataError(
            f"model.predict_proba returned shape {proba.shape}; expected ({len(texts)}, {k}) "
            "(one column per class in classes_)"
        )
    return proba


def _as_array(values: Any, n: int, name: str) -> NDArray[Any] | None:
    if values is None:
        return None
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1 or len(arr) != n:
        raise InvalidDataError(f"{name} has {arr.size} values but there are {n} texts")
    return arr


def counterfactual_test(
    model: Any,
    texts: Any,
    *,
    attribute: str = "gender",
    perturber: CounterfactualPerturber | None = None,
    labels: Any = None,
    groups: Any = None,
    pos_label: Any = None,
    seed: int = 0,
    target: str | None = None,
    n_examples: int = DEFAULT_EXAMPLES,
) -> CounterfactualResult:
    """Measure how often and how much a model's decisions change on counterfactual texts.

    Parameters
    ----------
    model : object with ``predict_proba(texts)`` and ``classes_``
        A fairslm model adapter, a scikit-learn text pipeline, or anything alike.
    texts : sequence of str or Dataset
        A :class:`~fairslm.data.Dataset` also supplies ``labels``, ``groups`` (its column
        named ``attribute``, else its first sensitive column) and ``pos_label``.
    attribute : str, default "gender"
    perturber : CounterfactualPerturber, optional
        Defaults to ``CounterfactualPerturber(attribute, seed=seed)``.
    labels, groups : array-like, optional
        True labels and group of each text, for per-group summaries and accuracy.
    pos_label : optional
        The favourable class; its probability is the score and McNemar's test counts moves
        into and out of it. Defaults to 1 for 0/1 classes and to ``classes_[1]`` otherwise for
        binary models; for multiclass models without it, the score is the probability of the
        originally predicted class and McNemar's test is not run.
    target : str, optional
        Rewrite every text toward this group (e.g. ``"female"``); default swaps both ways.
    n_examples : int, default 10
        How many of the largest score changes to keep.

    Returns
    -------
    CounterfactualResult

    Examples
    --------
    >>> class Keyword:  # decides "surgeon" whenever the text says "he"
    ...     classes_ = ["nurse", "surgeon"]
    ...     def predict_proba(self, texts):
    ...         p = [0.9 if " he " in f" {t.lower()} " else 0.2 for t in texts]
    ...         return [[1 - x, x] for x in p]
    >>> res = counterfactual_test(Keyword(), ["he operates", "she operates", "a nurse"])
    >>> res.counts["n_unchanged"], res.flip_rate, res.by_direction["male->female"]["n_flips"]
    (1, 1.0, 1)
    """
    if not (hasattr(model, "predict_proba") and hasattr(model, "classes_")):
        raise ConfigError(
            f"model must have predict_proba(texts) and classes_; got {type(model).__name__}. "
            "Load one with fairslm.load_model or pass a fitted scikit-learn text pipeline"
        )
    dataset_hash = None
    if isinstance(texts, Dataset):
        ds = texts
        texts = ds.texts
        dataset_hash = ds.content_hash
        if labels is None:
            labels = ds.labels
        if groups is None and len(ds.spec.sensitive):
            col = attribute if attribute in ds.spec.sensitive else ds.spec.sensitive[0]
            groups = ds.frame[col]
        if pos_label is None:
            pos_label = ds.pos_label
    if isinstance(texts, str):
        raise InvalidDataError("texts must be a sequence of strings, not one string")
    texts = list(texts)
    if not texts:
        raise InvalidDataError("texts is empty; pass at least one text")
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise InvalidDataError(
                f"texts must be non-empty strings; item {i} is {t!r}. Drop empty rows first"
            )
    if int(n_examples) < 0:
        raise ConfigError(f"n_examples must be >= 0; got {n_examples}")
    n = len(texts)
    labels_arr = _as_array(labels, n, "labels")
    groups_arr = _as_array(groups, n, "groups")
    perturber = perturber or CounterfactualPerturber(attribute, seed=seed)
    pert = perturber.perturb(texts, target=target)

    classes = list(model.classes_)
    score_class, score_definition = resolve_score_class(classes, pos_label)
    idx = np.flatnonzero(pert.changed)
    m = len(idx)
    k = len(classes)
    if m:
        both = _predict(model, [texts[i] for i in idx] + [pert.texts[i] for i in idx], k)
        p0, p1 = both[:m], both[m:]
    else:
        p0 = p1 = np.zeros((0, k))
    directions = [pert.direction[i] for i in idx]

    def example_texts(rows: Sequence[int]) -> list[dict[str, Any]]:
        return [{"original": texts[i], "counterfactual": pert.texts[i], "marked": pert.marked(i),
                 "edits": [list(e) for e in pert.edits[i]]} for i in (int(idx[r]) for r in rows)]

    sections = summarize_pairs(
        classes=classes, score_class=score_class, p0=p0, p1=p1, index=idx,
        directions=directions,
        groups=None if groups_arr is None else [str(v) for v in groups_arr[idx]],
        group_sizes=None if groups_arr is None else _sizes(groups_arr),
        labels=None if labels_arr is None else labels_arr[idx],
        n_examples=int(n_examples), example_texts=example_texts,
    )

    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass") + b"\x1f")
    fingerprint = model.fingerprint() if callable(getattr(model, "fingerprint", None)) else None
    return pairs_result(
        perturber, sections, classes=classes, score_class=score_class,
        score_definition=score_definition, n_texts=n, seed=seed, target=target,
        n_examples=n_examples,
        provenance={"model": type(model).__name__, "model_fingerprint": fingerprint,
                    "texts_sha256": h.hexdigest(), "dataset_sha256": dataset_hash},
    )


def pairs_result(
    perturber: CounterfactualPerturber,
    sections: dict[str, Any],
    *,
    classes: list[Any],
    score_class: Any,
    score_definition: str,
    n_texts: int,
    seed: int,
    target: str | None,
    n_examples: int,
    provenance: dict[str, Any],
) -> CounterfactualResult:
    """The result of a counterfactual test from :func:`summarize_pairs`' sections."""
    m = int(sections["overall"]["n"])
    return CounterfactualResult(
        schema_version=COUNTERFACTUAL_SCHEMA_VERSION,
        attribute=perturber.attribute,
        task={"classes": classes, "score_class": score_class, "score_definition": score_definition},
        counts={"n_texts": n_texts, "n_changed": m, "n_unchanged": n_texts - m},
        **sections,
        provenance={"fairslm_version": __version__, **provenance, "seed": int(seed),
                    "perturber": repr(perturber),
                    "term_sources": [Path(s).name for s in perturber.lexicon.sources]},
        options={"target": target, "n_examples": int(n_examples),
                 "groups": list(perturber.lexicon.groups)},
    )


def _sizes(groups: NDArray[Any]) -> dict[str, int]:
    values, counts = np.unique(np.array([str(v) for v in groups], dtype=object),
                               return_counts=True)
    return {str(v): int(c) for v, c in zip(values, counts, strict=True)}


def summarize_pairs(
    *,
    classes: list[Any],
    score_class: Any,
    p0: NDArray[np.float64],
    p1: NDArray[np.float64],
    index: NDArray[np.int64],
    directions: Sequence[str],
    groups: Sequence[str] | None,
    group_sizes: dict[str, int] | None,
    labels: NDArray[Any] | None,
    n_examples: int,
    example_texts: Callable[[Sequence[int]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """Flip rates, score changes and tests of scored (original, counterfactual) pairs.

    ``p0``/``p1`` hold the class probabilities of the changed texts and their counterfactuals,
    ``index`` each pair's row, ``directions``, ``groups`` and ``labels`` its swap direction,
    group and true label; ``group_sizes`` counts every text of each group (changed or not).
    ``example_texts(rows)`` gives the texts of those pairs, the examples with the largest
    changes. Returns the ``overall``, ``by_direction``, ``by_group`` and ``examples`` sections.
    """
    m = len(index)
    c0, c1 = p0.argmax(axis=1), p1.argmax(axis=1)
    flip = c0 != c1
    if score_class is not None:
        j = classes.index(score_class)
        s0, s1 = p0[:, j], p1[:, j]
        pos0, pos1 = c0 == j, c1 == j
        reason = None
    else:
        s0, s1 = p0[np.arange(m), c0], p1[np.arange(m), c0]
        pos0 = pos1 = None
        reason = "multiclass model without pos_label: pass pos_label for McNemar's test"
    delta = s1 - s0

    def summ(mask: NDArray[np.bool_]) -> dict[str, Any]:
        return _summary(flip[mask], delta[mask], None if pos0 is None else pos0[mask],
                        None if pos1 is None else pos1[mask], reason)

    dirs = np.array(list(directions), dtype=object)
    overall = summ(np.ones(m, dtype=bool))
    by_direction = {str(d): summ(dirs == d) for d in sorted(set(dirs.tolist()))}
    by_group: dict[str, dict[str, Any]] = {}
    if groups is not None and group_sizes is not None:
        g_changed = np.array(list(groups), dtype=object)
        for g in sorted(group_sizes):
            s = summ(g_changed == g)
            s["n_texts"] = int(group_sizes[g])
            by_group[g] = s
    if labels is not None and m:
        truth = np.array([str(v) for v in labels], dtype=object)
        pred0 = np.array([str(classes[c]) for c in c0], dtype=object)
        pred1 = np.array([str(classes[c]) for c in c1], dtype=object)
        overall["accuracy_original"] = float((truth == pred0).mean())
        overall["accuracy_counterfactual"] = float((truth == pred1).mean())

    order = np.lexsort((index, -np.abs(delta)))[: int(n_examples)]
    examples = []
    for r, texts in zip(order, example_texts([int(r) for r in order]), strict=True):
        examples.append({
            "index": int(index[r]),
            "direction": str(dirs[r]),
            "group": None if groups is None else str(g_changed[r]),
            "label": None if labels is None else _py(labels[r]),
            "original": texts["original"],
            "counterfactual": texts["counterfactual"],
            "marked": texts["marked"],
            "edits": texts["edits"],
            "score_original": float(s0[r]),
            "score_counterfactual": float(s1[r]),
            "score_change": float(delta[r]),
            "decision_original": classes[int(c0[r])],
            "decision_counterfactual": classes[int(c1[r])],
            "flipped": bool(flip[r]),
        })
    return {"overall": overall, "by_direction": by_direction, "by_group": by_group,
            "examples": tuple(examples)}


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def counterfactual_file(
    model: Any,
    data: Any,
    *,
    text: str = "text",
    label: str | None = None,
    sensitive: Sequence[str] = (),
    pos_label: Any = None,
    split: str | None = None,
    attribute: str = "gender",
    terms: Any = None,
    names: bool = True,
    target: str | None = None,
    seed: int = 0,
    n_examples: int = DEFAULT_EXAMPLES,
) -> CounterfactualResult:
    """Load a model (path or object) and a data file, then run :func:`counterfactual_test`.

    ``split`` picks one split of a folder of split files (``test`` for ``test.jsonl``).
    """
    if isinstance(model, (str, Path)):
        try:
            from fairslm.models import load_model  # type: ignore[attr-defined]
        except ImportError as exc:
            raise ConfigError(
                "loading a model from a path needs fairslm.models.load_model, which this "
                "installation lacks; pass a model object to counterfactual_test instead"
            ) from exc
        model = load_model(model)
    ds = load_dataset(data, text=text, label=label, sensitive=tuple(sensitive),
                      pos_label=pos_label, splits=None if split is None else [split])
    perturber = CounterfactualPerturber(attribute, seed=seed, terms=terms, names=names)
    return counterfactual_test(model, ds, attribute=attribute, perturber=perturber, seed=seed,
                               pos_label=pos_label, target=target, n_examples=n_examples)
