"""Counterfactual augmentation (CDA) and substitution (CDS) with a stand-in perturbation engine."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from fairslm import ConfigError
from fairslm.mitigation import CounterfactualAugmenter

_PAIRS = {"he": "she", "she": "he", "his": "her", "her": "his", "him": "her"}


@dataclass
class _Result:
    texts: list[str]
    changed: np.ndarray


class _SwapPronouns:
    """A minimal engine: swaps English pronouns word by word."""

    def __init__(self) -> None:
        self.calls = 0

    def perturb(self, texts):
        self.calls += 1
        pattern = re.compile(r"\b(" + "|".join(_PAIRS) + r")\b")
        out = [pattern.sub(lambda m: _PAIRS[m.group(1)], t) for t in texts]
        return _Result(out, np.array([a != b for a, b in zip(texts, out, strict=True)]))


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": ["she is a surgeon", "he is a nurse", "a nurse of note", "his ward"],
            "label": ["surgeon", "nurse", "nurse", "nurse"],
            "gender": ["F", "M", "F", "M"],
        }
    )


def test_cda_appends_swapped_copies_marked_with_their_source() -> None:
    df = _frame()
    snapshot = df.copy()
    aug = CounterfactualAugmenter(perturber=_SwapPronouns())
    out = aug.fit_resample(df, "label", sensitive_features="gender", text="text")
    pd.testing.assert_frame_equal(df, snapshot)
    assert len(out) == 7  # 3 texts change, so 3 copies
    assert list(out["text"][4:]) == ["he is a surgeon", "she is a nurse", "her ward"]
    assert list(out["label"]) == list(df["label"]) + ["surgeon", "nurse", "nurse"]
    assert list(out["fairslm_augmented"]) == [False] * 4 + [True] * 3
    assert list(out["augmented_from"]) == [-1, -1, -1, -1, 0, 1, 3]
    # the copies describe the other gender
    assert list(out["gender"]) == ["F", "M", "F", "M", "M", "F", "F"]
    assert (aug.n_changed_, aug.n_unchanged_, aug.n_added_) == (3, 1, 3)
    assert list(aug.sensitive_features_["gender"]) == list(out["gender"])


def test_cda_without_swapping_sensitive_values() -> None:
    aug = CounterfactualAugmenter(perturber=_SwapPronouns(), swap_sensitive=None)
    out = aug.fit_resample(_frame(), "label", sensitive_features="gender", text="text")
    assert list(out["gender"][4:]) == ["F", "M", "M"]
    aug = CounterfactualAugmenter(perturber=_SwapPronouns(), swap_sensitive={"F": "X"})
    out = aug.fit_resample(_frame(), "label", sensitive_features="gender", text="text")
    assert list(out["gender"][4:]) == ["X", "M", "M"]


@pytest.mark.parametrize(("p", "expected"), [(1.0, 3), (0.0, 0)])
def test_cds_substitutes_with_probability_p(p: float, expected: int) -> None:
    aug = CounterfactualAugmenter(mode="cds", p=p, perturber=_SwapPronouns())
    out = aug.fit_resample(_frame(), "label", sensitive_features="gender", text="text")
    assert len(out) == 4
    assert int(out["fairslm_augmented"].sum()) == expected
    assert list(out["label"]) == list(_frame()["label"])
    if p == 1.0:
        assert list(out["text"]) == ["he is a surgeon", "she is a nurse", "a nurse of note", "her ward"]
        assert list(out["augmented_from"]) == [0, 1, -1, 3]
        assert list(out["gender"]) == ["M", "F", "F", "F"]


def test_cds_share_follows_p_and_seed() -> None:
    texts = [f"she wrote note {i}" for i in range(2000)]
    y = np.zeros(2000, int)
    g = ["F"] * 2000
    runs = []
    for seed in (0, 0, 1):
        aug = CounterfactualAugmenter(mode="cds", p=0.3, seed=seed, perturber=_SwapPronouns())
        out_texts, out_y = aug.fit_resample(texts, y, sensitive_features=g)
        runs.append(aug.augmented_.copy())
        np.testing.assert_array_equal(out_y, y)
        assert sum(t.startswith("he ") for t in out_texts) == aug.n_added_
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])
    # binomial(2000, 0.3): sd ~ 20.5, so 4.5 sd either side of 600
    assert 510 < runs[0].sum() < 690


def test_warns_with_count_when_terms_match_nothing() -> None:
    texts = ["a nurse of note", "the ward", "surgery today"]
    aug = CounterfactualAugmenter(perturber=_SwapPronouns())
    with pytest.warns(UserWarning, match=r"gender term list matched nothing in the 3 texts"):
        out_texts, out_y = aug.fit_resample(texts, [0, 1, 0], sensitive_features=["F", "M", "F"])
    assert out_texts == texts and list(out_y) == [0, 1, 0]
    assert aug.n_added_ == 0


def test_bad_parameters() -> None:
    with pytest.raises(ConfigError, match="unknown augmentation mode 'swap'; use one of cda, cds"):
        CounterfactualAugmenter(mode="swap").fit_resample(["x"], [0], sensitive_features=["F"])
    with pytest.raises(ConfigError, match="p must be a probability between 0 and 1; got 1.5"):
        CounterfactualAugmenter(p=1.5).fit_resample(["x"], [0], sensitive_features=["F"])


def test_needs_texts() -> None:
    from fairslm import InvalidDataError

    with pytest.raises(InvalidDataError, match="needs the texts: pass text="):
        CounterfactualAugmenter(perturber=_SwapPronouns()).fit_resample(
            _frame(), "label", sensitive_features="gender"
        )


def test_user_term_list_matching_nothing_warns_with_count(tmp_path) -> None:
    terms = tmp_path / "religion.csv"
    terms.write_text("christian,muslim\nchurch,mosque\n")
    df = _frame()
    aug = CounterfactualAugmenter(attribute="religion", terms=str(terms))
    with pytest.warns(UserWarning, match=r"religion term list matched nothing in the 4 texts"):
        out = aug.fit_resample(df, "label", sensitive_features="gender", text="text")
    pd.testing.assert_frame_equal(out.drop(columns=["fairslm_augmented", "augmented_from"]), df)


def test_default_engine_swaps_gender_terms() -> None:
    out = CounterfactualAugmenter().fit_resample(_frame(), "label", sensitive_features="gender",
                                                 text="text")
    assert list(out["text"][4:]) == ["he is a surgeon", "she is a nurse", "her ward"]
