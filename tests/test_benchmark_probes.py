"""benchmarks/mitigation_probes.py: weight interpolation, the classification head's input, the
kept-model check and the validation rules of its probes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
pytest.importorskip("fairlearn")
pytest.importorskip("transformers")
probes = pytest.importorskip("mitigation_probes")

from fairslm.models._testing import make_tiny_bert_classifier  # noqa: E402

LABELS = {0: "nurse", 1: "surgeon"}
TEXTS = ["she is a surgeon at the hospital", "he works as a nurse", "a doctor", "the nurse said she"]


@pytest.fixture(scope="module")
def two_models(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("probes")
    return (make_tiny_bert_classifier(root / "a", id2label=LABELS, seed=0),
            make_tiny_bert_classifier(root / "b", id2label=LABELS, seed=1))


def test_interpolated_weights_are_the_weighted_mean(two_models, tmp_path) -> None:
    from safetensors.torch import load_file

    a, b = two_models
    out = probes.interpolate_weights(a, b, 0.25, tmp_path / "mix")
    wa, wb, wm = (load_file(str(p / "model.safetensors")) for p in (a, b, out))
    assert wm.keys() == wa.keys()
    for k, v in wm.items():
        if v.is_floating_point():
            np.testing.assert_allclose(v.numpy(), 0.75 * wa[k].numpy() + 0.25 * wb[k].numpy(), atol=1e-6)
    assert (out / "config.json").read_text() == (a / "config.json").read_text()
    # The end points are the two models themselves.
    texts = {"test": TEXTS}
    end = probes.model_scores(probes.interpolate_weights(a, b, 1.0, tmp_path / "end"), texts)["test"]
    np.testing.assert_allclose(end, probes.model_scores(b, texts)["test"], atol=1e-6)
    assert not np.allclose(probes.model_scores(out, texts)["test"], end)


def test_models_of_different_shapes_are_not_interpolated(two_models, tmp_path) -> None:
    other = make_tiny_bert_classifier(tmp_path / "three", num_labels=3, id2label={0: "a", 1: "b", 2: "c"})
    with pytest.raises(probes.KeptModelError, match="different architectures"):
        probes.interpolate_weights(two_models[0], other, 0.5, tmp_path / "mix")


def test_pooled_features_are_the_input_of_the_classification_head(two_models) -> None:
    import torch
    import transformers

    a = two_models[0]
    feats, score = probes.pooled_features(a, TEXTS)
    np.testing.assert_allclose(score, probes.model_scores(a, {"t": TEXTS})["t"], atol=1e-6)
    head = transformers.AutoModelForSequenceClassification.from_pretrained(a).classifier
    with torch.no_grad():
        again = torch.softmax(head(torch.tensor(feats, dtype=torch.float32)), -1)[:, 1].numpy()
    np.testing.assert_allclose(again, score, atol=1e-5)
    assert feats.shape == (len(TEXTS), 32)


def test_a_kept_model_must_reproduce_its_cached_scores(tmp_path) -> None:
    s = np.array([0.1, 0.9])
    probes.check_kept(tmp_path, s, s + 1e-6)
    with pytest.raises(probes.KeptModelError, match="does not reproduce"):
        probes.check_kept(tmp_path, s, s[::-1])
    with pytest.raises(probes.KeptModelError, match="--keep-models"):
        probes._weights(tmp_path)


def _frames(leaning_scores):
    yv, gv, fair_v, base_v = leaning_scores(seed=0)
    yt, gt, fair_t, base_t = leaning_scores(seed=1)

    def split(y, g):
        return pd.DataFrame({"text": [f"bio {i}" for i in range(len(y))],
                             "profession": np.where(y == 1, "surgeon", "nurse"), "gender": g})

    D = {"validation": split(yv, gv), "test": split(yt, gt)}
    base = {"validation": base_v, "test": base_t, "swap": base_t}
    fair = {"validation": fair_v, "test": fair_t, "swap": fair_t}
    return D, base, fair


def test_rows_are_read_against_the_same_seed_baseline(leaning_scores) -> None:
    D, base, fair = _frames(leaning_scores)
    rd = probes.Reader(D, base)
    yt, gt = (D["test"].profession == "surgeon").to_numpy().astype(int), D["test"].gender.to_numpy()
    acc0, gap0 = ((base["test"] >= 0.5) == yt).mean(), probes.gap_rms(yt, gt, (base["test"] >= 0.5).astype(int))
    r = rd.row("fair", fair["test"], swap=fair["test"], validation=fair["validation"])
    pred = (fair["test"] >= 0.5).astype(int)
    assert r["cut"] == pytest.approx(100 * (1 - probes.gap_rms(yt, gt, pred) / gap0))
    assert r["dacc"] == pytest.approx(100 * ((pred == yt).mean() - acc0))
    assert r["flip"] == 0.0 and r["cut"] > 50 and r["dacc"] < 0
    # Test-time counterfactual averaging: the mean of the two scores, and no flip rate.
    tta = probes.tta_rows(rd, {**fair, "swap": base["test"]})[1]
    mean = (fair["test"] + base["test"]) / 2
    assert tta["cut"] == pytest.approx(rd.row("x", mean)["cut"]) and np.isnan(tta["flip"])
    ref = probes.reference_rows(rd, fair)
    assert ref[1]["note"].startswith("w = ") and ref[0]["cut"] == pytest.approx(r["cut"])


def test_wise_keeps_the_most_accurate_alpha_meeting_the_cut_on_validation(leaning_scores, monkeypatch,
                                                                       tmp_path) -> None:
    D, base, fair = _frames(leaning_scores)
    rd = probes.Reader(D, base)
    # Interpolated models scored as the score blend with the same weight (the models are fakes).
    monkeypatch.setattr(probes, "interpolate_weights", lambda a, b, alpha, out: out.mkdir(parents=True) or alpha)
    monkeypatch.setattr(probes, "model_scores",
                        lambda alpha, texts: {k: alpha * fair[k] + (1 - alpha) * base[k] for k in fair})
    alphas = tuple(np.round(np.arange(0.05, 1.0, 0.05), 2))
    rows = probes.wise_rows(rd, Path("a"), Path("b"), fair, {}, alphas, tmp_path)
    chosen = float(rows[0]["note"].split("= ")[1])
    limit = (1 - probes.BLEND_CUT) * rd.vgap0
    met = [a for a in alphas if rd.figures(a * fair["validation"] + (1 - a) * base["validation"],
                                           "validation")[1] <= limit]
    assert met and chosen in met
    best = max(rd.figures(a * fair["validation"] + (1 - a) * base["validation"], "validation")[0] for a in met)
    assert rd.figures(chosen * fair["validation"] + (1 - chosen) * base["validation"], "validation")[0] == best
    assert len(rows) == 1 + 2 * len(alphas)
    # Each alpha's row sits next to the score blend with the same weight (here the same scores).
    assert [r["cut"] for r in rows[1::2]] == pytest.approx([r["cut"] for r in rows[2::2]])
    assert rows[2]["name"] == "score blend: w = 0.05"
    # When no weight meets the cut, the fair model alone (alpha = 1), as the score blends do.
    monkeypatch.setattr(probes, "model_scores", lambda alpha, texts: base)
    rows = probes.wise_rows(rd, Path("a"), Path("b"), base, {}, (0.5,), tmp_path / "none")
    assert rows[0]["note"] == "alpha = 1.00 (none met)"


def test_one_cut_off_keeps_half_among_equally_accurate_cut_offs(leaning_scores) -> None:
    D, base, fair = _frames(leaning_scores)
    rd = probes.Reader(D, base)
    yv = (D["validation"].profession == "surgeon").to_numpy()
    # A fair model that separates the validation rows perfectly: every cut-off in (0.1, 0.9]
    # is as accurate as every other, and the model's own 0.5 is kept.
    sure = {**fair, "validation": np.where(yv, 0.9, 0.1)}
    row = probes.cutoff_rows(rd, sure)[0]
    assert row["note"] == "cut-off 0.50 (met)" and row["val_cut"] == 100.0
    assert row["cut"] == pytest.approx(rd.row("x", fair["test"])["cut"])
    # Shifted scores: the cut-off follows them (0.5 + 0.2, within the grid's step).
    shifted = {k: np.clip(v + 0.2, 0, 1) for k, v in fair.items()}
    t = float(probes.cutoff_rows(rd, shifted)[0]["note"].split()[1])
    assert 0.6 <= t <= 0.8
