"""Score blends: the adapter, the saved folder, and the weight chosen on validation data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.mitigation.postprocessing import choose_blend_weight, class_gap_rms
from fairslm.models import BlendAdapter, CallableAdapter, load_model, save_blend

TRAIN = ["good nurse", "bad surgeon", "good surgeon", "bad nurse", "great nurse", "poor surgeon"]
Y = [1, 0, 1, 0, 1, 0]


def _const(p: float, classes: list[object] | None = None) -> CallableAdapter:
    return CallableAdapter(lambda t: [[1 - p, p]] * len(t), classes=classes or [0, 1])


def test_the_blend_is_the_weighted_mean_of_its_models_probabilities() -> None:
    blend = BlendAdapter([_const(0.2), _const(0.8)], [3, 1])  # weights scaled to 0.75 / 0.25
    np.testing.assert_allclose(blend.predict_proba(["a", "b"]), [[0.65, 0.35]] * 2)
    assert blend.weights == [0.75, 0.25]
    assert blend.predict(["a"]).tolist() == [0]
    # The weights are part of what decides the scores, so of the fingerprint.
    a, b = _const(0.2), _const(0.8)
    assert BlendAdapter([a, b], [1, 1]).fingerprint() != BlendAdapter([a, b], [1, 2]).fingerprint()
    assert BlendAdapter([a, b], [1, 1]).fingerprint() == BlendAdapter([a, b], [2, 2]).fingerprint()


@pytest.mark.parametrize(("models", "weights", "error", "message"), [
    ([], [], ConfigError, "one weight per model"),
    (["a", "b"], [1.0], ConfigError, "one weight per model"),
    (["a", "b"], [1.0, -0.5], ConfigError, "finite numbers >= 0"),
    (["a", "b"], [0.0, 0.0], ConfigError, "at least one positive weight"),
    (["a", "b"], [1.0, float("nan")], ConfigError, "finite numbers >= 0"),
])
def test_bad_blends_are_refused(models, weights, error, message) -> None:
    adapters = [_const(0.5) for _ in models]
    with pytest.raises(error, match=message):
        BlendAdapter(adapters, weights)


def test_models_with_other_classes_cannot_be_blended() -> None:
    with pytest.raises(InvalidDataError, match="same classes in the same order"):
        BlendAdapter([_const(0.5, [0, 1]), _const(0.5, [1, 0])], [1, 1])


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from fairslm.models import save_sklearn_model

    root = tmp_path_factory.mktemp("blend-parts")
    paths = []
    for name, c in (("fair", 0.1), ("base", 10.0)):
        pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(C=c)).fit(TRAIN, Y)
        (root / name).mkdir()
        save_sklearn_model(pipe, root / name / "model.skops")
        paths.append(root / name)
    return paths


def test_a_saved_blend_loads_as_a_model_and_survives_a_move(two_models, tmp_path) -> None:
    import shutil

    fair, base = two_models
    folder = tmp_path / "runs" / "blend"
    save_blend(folder, {fair: 0.6, base: 0.4})
    meta = json.loads((folder / "fairslm.json").read_text())
    assert meta["kind"] == "blend" and [c["weight"] for c in meta["components"]] == [0.6, 0.4]
    model = load_model(folder)
    assert isinstance(model, BlendAdapter)
    want = 0.6 * load_model(fair).predict_proba(TRAIN) + 0.4 * load_model(base).predict_proba(TRAIN)
    np.testing.assert_allclose(model.predict_proba(TRAIN), want)
    # Paths are stored relative to the blend: the blend and its models move together.
    moved = tmp_path / "moved"
    shutil.copytree(fair.parent, moved / "parts")
    save_blend(moved / "blend", {moved / "parts" / "fair": 1.0, moved / "parts" / "base": 0.0})
    (moved / "elsewhere").mkdir()
    shutil.move(str(moved / "parts"), str(moved / "elsewhere" / "parts"))
    shutil.move(str(moved / "blend"), str(moved / "elsewhere" / "blend"))
    again = load_model(moved / "elsewhere" / "blend")
    assert len(again.models) == 1  # the weight-0 baseline was left out
    np.testing.assert_allclose(again.predict_proba(TRAIN), load_model(fair).predict_proba(TRAIN))


@pytest.mark.parametrize(("meta", "message"), [
    ({"kind": "blend"}, "no components"),
    ({"kind": "blend", "components": [{"model": "x"}]}, r"component 0 is .*expected"),
    ({"kind": "blend", "components": [{"model": "nowhere", "weight": 1}]}, "does not exist"),
    ({"kind": "blend", "components": [{"model": ".", "weight": 1}]}, "the blend itself"),
    ({"kind": "blend", "components": [{"model": "part", "weight": -1}]}, "finite numbers >= 0"),
])
def test_a_damaged_blend_folder_says_what_is_wrong(meta, message, tmp_path, two_models) -> None:
    import shutil

    shutil.copytree(two_models[0], tmp_path / "part")
    (tmp_path / "fairslm.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=message):
        load_model(tmp_path)


def test_a_blend_of_blends_is_the_flattened_weighted_mean(two_models, tmp_path) -> None:
    """An ensemble folder blended with a baseline: the weights multiply through."""
    fair, base = two_models
    save_blend(tmp_path / "ensemble", {fair: 1.0, base: 1.0})
    save_blend(tmp_path / "final", {tmp_path / "ensemble": 0.7, base: 0.3})
    p_fair, p_base = load_model(fair).predict_proba(TRAIN), load_model(base).predict_proba(TRAIN)
    np.testing.assert_allclose(load_model(tmp_path / "final").predict_proba(TRAIN),
                               0.35 * p_fair + 0.65 * p_base)


def test_blends_naming_each_other_in_a_loop_are_refused(two_models, tmp_path) -> None:
    fair, _ = two_models
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for me, other in (("a", "b"), ("b", "a")):
        meta = {"kind": "blend", "components": [{"model": "../" + other, "weight": 1},
                                                {"model": str(fair), "weight": 1}]}
        (tmp_path / me / "fairslm.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="name each other in a loop"):
        load_model(tmp_path / "a")
    # The failed load leaves nothing behind: an unrelated blend still loads.
    save_blend(tmp_path / "ok", {fair: 1.0})
    assert isinstance(load_model(tmp_path / "ok"), BlendAdapter)


# -- the weight ------------------------------------------------------------------------------
def _tpr_gap_rms(y, g, pred) -> float:
    """De-Arteaga et al.'s TPR-gap RMS for two groups, written out."""
    gaps = [np.mean(pred[(y == c) & (g == "M")] == c) - np.mean(pred[(y == c) & (g == "F")] == c)
            for c in (1, 0)]
    return float(np.sqrt(np.mean(np.square(gaps))))


def test_the_gap_is_the_tpr_gap_rms_for_two_groups(leaning_scores) -> None:
    y, g, fair, base = leaning_scores()
    for s in (fair, base):
        pred = (s >= 0.5).astype(int)
        assert class_gap_rms(y, pred, g) == pytest.approx(_tpr_gap_rms(y, g, pred), abs=1e-12)


def test_the_weight_is_the_most_accurate_one_that_removes_the_share_asked_for(leaning_scores) -> None:
    y, g, fair, base = leaning_scores()
    choice = choose_blend_weight(y, fair, base, g, cut=0.7)

    def decide(w: float) -> np.ndarray:
        return ((w * fair + (1 - w) * base) >= 0.5).astype(int)

    limit = 0.3 * _tpr_gap_rms(y, g, decide(0.0))
    meeting = [w for w in np.linspace(0, 1, 21) if _tpr_gap_rms(y, g, decide(w)) <= limit]
    assert choice.met and choice.weight in meeting
    assert choice.accuracy == max(np.mean(decide(w) == y) for w in meeting)
    assert 0.0 < choice.weight < 1.0  # the baseline's accuracy is worth some of its gap here
    assert choice.gap <= limit and choice.baseline_gap == pytest.approx(limit / 0.3)
    assert choice.accuracy > np.mean(decide(1.0) == y)  # more accurate than the fair model alone
    # Asking for more of the gap moves the weight towards the fair model.
    assert choose_blend_weight(y, fair, base, g, cut=0.9).weight >= choice.weight


def test_when_no_weight_removes_enough_the_fair_model_is_kept_and_says_so(leaning_scores) -> None:
    y, g, _, base = leaning_scores()
    choice = choose_blend_weight(y, base, base, g, cut=0.5)  # a model blended with itself
    assert not choice.met and choice.weight == 1.0


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"cut": 1.0}, ConfigError, "strictly between 0 and 1"),
    ({"weights": [0.5, 1.5]}, ConfigError, r"in \[0, 1\]"),
    ({"y": [1, 1, 1, 1]}, InvalidDataError, "both 0 and 1"),
    ({"y": [0, 1, 2, 1]}, InvalidDataError, "both 0 and 1"),
    ({"y": [0, 1, 0]}, InvalidDataError, "one value per row"),
])
def test_bad_weight_inputs_are_refused(kwargs, error, message) -> None:
    y = kwargs.pop("y", [0, 1, 0, 1])
    with pytest.raises(error, match=message):
        choose_blend_weight(y, [0.2, 0.8, 0.3, 0.7], [0.1, 0.9, 0.4, 0.6], ["a", "a", "b", "b"], **kwargs)
