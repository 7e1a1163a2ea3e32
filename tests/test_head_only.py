"""Head-only mode: cached embeddings, fairness losses on a head, Fairlearn and LEACE heads."""

from __future__ import annotations

import numpy as np
import pytest

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.head_only import (
    EmbeddingPipeline,
    ExponentiatedGradientHead,
    HeadOnlyClassifier,
    LeaceHead,
    embed_texts,
)

TEXTS = ["she is a nurse", "he is a surgeon at the hospital", "his hospital", "a"]


def test_embeddings_normalised_cached_and_padding_free(tiny_encoder, tmp_path):
    e = embed_texts(TEXTS, model_path=tiny_encoder, cache_dir=tmp_path, batch_size=3, max_length=32)
    assert e.shape == (4, 32) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-5)
    # Mean pooling ignores padding: a text alone embeds as it does inside a padded batch.
    alone = embed_texts([TEXTS[3]], model_path=tiny_encoder, max_length=32)
    np.testing.assert_allclose(alone[0], e[3], atol=1e-5)
    assert any(tmp_path.iterdir())  # the encoder's on-disk cache
    np.testing.assert_allclose(embed_texts(TEXTS, model_path=tiny_encoder, cache_dir=tmp_path, max_length=32), e)


def test_embedding_errors(tiny_encoder, tmp_path):
    with pytest.raises(InvalidDataError, match="1"):
        embed_texts(["a", None], model_path=tiny_encoder, max_length=32)
    from fairslm.exceptions import ModelLoadError

    with pytest.raises(ModelLoadError, match="no encoder found in"):
        embed_texts(["a"], model_path=tmp_path)


def test_pipeline_scores_texts(tiny_encoder):
    X = embed_texts(TEXTS, model_path=tiny_encoder, max_length=32)
    head = HeadOnlyClassifier(n_steps=20).fit(X, [0, 1, 1, 0], sensitive_features=["F", "M", "M", "F"])
    pipe = EmbeddingPipeline(head, model_path=tiny_encoder, max_length=32)
    np.testing.assert_allclose(pipe.predict_proba(TEXTS), head.predict_proba(X), rtol=1e-6)
    assert pipe.predict(TEXTS).tolist() == head.predict(X).tolist()


def _biased(seed=0, n=1200):
    """Group 1 is mostly negative; a 'group' direction leaks into the embeddings."""
    rng = np.random.default_rng(seed)
    g = rng.binomial(1, 0.5, n)
    y = rng.binomial(1, np.where(g == 1, 0.2, 0.8))
    X = np.column_stack([
        y + rng.normal(0, 0.9, n),  # the task signal
        g + rng.normal(0, 0.3, n),  # the group, a proxy for y in training
        rng.normal(0, 1, (n, 4)),
    ]).astype(np.float32)
    return X, y, np.where(g == 1, "F", "M")


def _tpr_gap(pred, y, g):
    t = [pred[(g == k) & (y == 1)].mean() for k in ("F", "M")]
    return abs(t[0] - t[1]), min(t) / max(t)


@pytest.mark.slow
def test_fairness_modes_reduce_the_gap_and_are_deterministic():
    X, y, g = _biased()
    base = HeadOnlyClassifier(seed=1).fit(X, y, sensitive_features=g)
    gap0, _ = _tpr_gap(base.predict(X), y, g)
    assert gap0 > 0.2  # the fixture is biased
    for kw in (
        {"fairness": "penalty", "penalty_weight": 5.0},
        {"fairness": "constraint", "target": 0.9},
        {"fairness": "adversary", "adversary_weight": 2.0},
    ):
        clf = HeadOnlyClassifier(seed=1, **kw).fit(X, y, sensitive_features=g)
        gap, ratio = _tpr_gap(clf.predict(X), y, g)
        assert gap < gap0 / 2, (kw, gap, gap0)
        again = HeadOnlyClassifier(seed=1, **kw).fit(X, y, sensitive_features=g)
        np.testing.assert_array_equal(clf.decision_function(X), again.decision_function(X))
    con = HeadOnlyClassifier(seed=1, fairness="constraint", target=0.9).fit(X, y, sensitive_features=g)
    assert _tpr_gap(con.predict(X), y, g)[1] >= 0.85
    assert sorted(con.multipliers_) == ["true_positive_rate:F/M", "true_positive_rate:M/F"]
    assert max(con.multipliers_.values()) > 0
    assert con.log_[-1]["step"] == con.n_steps - 1


def test_string_labels_and_equalized_odds_difference():
    X, y, g = _biased(seed=2)
    labels = np.where(y == 1, "surgeon", "nurse")
    clf = HeadOnlyClassifier(fairness="constraint", constraint="equalized_odds", max_difference=0.05,
                             pos_label="surgeon").fit(X, labels, sensitive_features=g)
    pred = clf.predict(X)
    assert set(pred) <= {"surgeon", "nurse"}
    base = HeadOnlyClassifier(pos_label="surgeon").fit(X, labels, sensitive_features=g).predict(X)

    def fpr_gap(p):
        fpr = [np.mean(p[(g == k) & (y == 0)] == "surgeon") for k in ("F", "M")]
        return abs(fpr[0] - fpr[1])

    assert fpr_gap(pred) < fpr_gap(base) / 2


def test_head_bad_input():
    X, y, g = _biased(n=200)
    with pytest.raises(ConfigError, match="unknown fairness mode 'fair'; choose one of None, penalty, constraint, adversary"):
        HeadOnlyClassifier(fairness="fair").fit(X, y, sensitive_features=g)
    with pytest.raises(ConfigError, match="unknown constraint 'accuracy'; the head supports statistical_parity"):
        HeadOnlyClassifier(constraint="accuracy").fit(X, y, sensitive_features=g)
    with pytest.raises(ConfigError, match=r"target must be a ratio in \(0, 1\]; got 0"):
        HeadOnlyClassifier(target=0).fit(X, y, sensitive_features=g)
    y2 = np.where(g == "F", 0, y)
    with pytest.raises(InvalidDataError, match="group 'F' has no rows with true label 1 in the training data"):
        HeadOnlyClassifier(fairness="penalty").fit(X, y2, sensitive_features=g)
    with pytest.raises(InvalidDataError, match="not 0/1; pass pos_label="):
        HeadOnlyClassifier().fit(X, np.where(y == 1, "a", "b"), sensitive_features=g)
    with pytest.raises(ConfigError, match="not fitted yet"):
        HeadOnlyClassifier().predict(X)


# concept_erasure decorates functions with torch.jit.script, which torch 2.13 deprecates.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_leace_erases_the_group():
    from sklearn.linear_model import LogisticRegression

    X, y, g = _biased(seed=3)
    lh = LeaceHead().fit(X, y, sensitive_features=g)
    Z = lh.transform(X)
    # After LEACE the class-conditional means of the group coincide: no linear signal left.
    np.testing.assert_allclose(Z[g == "F"].mean(0), Z[g == "M"].mean(0), atol=1e-4)
    acc_g = LogisticRegression().fit(Z, g).score(Z, g)
    assert acc_g < 0.6
    bal = LeaceHead(fit_eraser_on="label_balanced").fit(X, y, sensitive_features=g)
    assert (bal.predict(X) == y).mean() > (lh.predict(X) == y).mean()
    with pytest.raises(ConfigError, match="fit_eraser_on must be 'all' or 'label_balanced'"):
        LeaceHead(fit_eraser_on="x").fit(X, y, sensitive_features=g)


# Fairlearn 0.15 sets Series values in ways pandas 3 deprecates (.at on new keys, dtype upcasts).
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_exponentiated_gradient_head():
    X, y, g = _biased(seed=4)
    eg = ExponentiatedGradientHead(constraint="equal_opportunity", difference_bound=0.02).fit(
        X, y, sensitive_features=g
    )
    p = eg.predict_proba(X)
    assert p.shape == (len(y), 2)
    np.testing.assert_allclose(p.sum(1), 1.0)
    gap, _ = _tpr_gap(eg.predict(X), y, g)
    base_gap, _ = _tpr_gap(HeadOnlyClassifier().fit(X, y, sensitive_features=g).predict(X), y, g)
    assert gap < base_gap / 2
    with pytest.raises(ConfigError, match="unknown constraint 'x'; ExponentiatedGradient supports"):
        ExponentiatedGradientHead(constraint="x").fit(X, y, sensitive_features=g)
