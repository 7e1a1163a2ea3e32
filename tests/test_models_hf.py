"""Transformers adapters on tiny random models: equality with a plain forward pass, safety,
bad input."""

from __future__ import annotations

import json
import logging
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from fairslm import ConfigError, InvalidDataError, ModelLoadError, UnsafeModelError, load_model  # noqa: E402
from fairslm.models import HFCausalLMAdapter, HFClassifierAdapter, ScoreCache  # noqa: E402
from fairslm.models._testing import make_tiny_bert_classifier, make_tiny_causal_lm  # noqa: E402

TEXTS = [
    "she is a nurse",
    "a surgeon",
    "he worked in cardiac surgery at the london hospital for many years and leads the team",
    "nurse",
    "they love their patients and their family",
    "dr paris trained at medical school",
    "she is a nurse",  # a repeat: scored once, served twice
]
TEMPLATE = "Bio: {text}\nIs this person a surgeon? Answer:"


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return {
        "bert": make_tiny_bert_classifier(root / "bert", num_labels=3, seed=1),
        "bert2": make_tiny_bert_classifier(
            root / "bert2", id2label={0: "nurse", 1: "surgeon"}, seed=2
        ),
        "headless": make_tiny_bert_classifier(root / "headless", with_head=False),
        "llama": make_tiny_causal_lm(root / "llama", arch="llama"),
        "qwen2": make_tiny_causal_lm(root / "qwen2", arch="qwen2"),
    }


def _plain_classifier(path: Path, texts: list[str], max_length: int = 64) -> np.ndarray:
    tok = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(path).eval()
    rows = []
    with torch.no_grad():
        for t in texts:
            enc = tok(t, return_tensors="pt", truncation=True, max_length=max_length)
            rows.append(torch.softmax(model(**enc).logits, -1)[0].numpy())
    return np.array(rows)


def _plain_causal(path: Path, texts: list[str], words: dict[str, int]) -> np.ndarray:
    """Teacher-forced label-word log-probs from one unpadded forward pass per (text, word)."""
    tok = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForCausalLM.from_pretrained(path).eval()
    classes = sorted(words.values())
    word_of = {c: w for w, c in words.items()}
    out = []
    with torch.no_grad():
        for t in texts:
            prompt = tok(TEMPLATE.replace("{text}", t))["input_ids"]
            scores = []
            for c in classes:
                label = tok(word_of[c], add_special_tokens=False)["input_ids"]
                ids = torch.tensor([prompt + label])
                logp = torch.log_softmax(model(input_ids=ids).logits[0], -1)
                scores.append(
                    sum(float(logp[len(prompt) - 1 + j, tid]) for j, tid in enumerate(label))
                )
            s = np.array(scores)
            out.append(np.exp(s - s.max()) / np.exp(s - s.max()).sum())
    return np.array(out)


@pytest.mark.parametrize("batch_size", [1, 2, 64])
def test_classifier_matches_plain_forward_any_batch_and_order(model_dirs, batch_size):
    path = model_dirs["bert"]
    expected = _plain_classifier(path, TEXTS)
    # The token cap splits the largest batches by padded size rather than row count.
    cap = 24 if batch_size == 64 else None
    model = load_model(path, batch_size=batch_size, max_batch_tokens=cap, cache=False)
    assert model.classes_ == [0, 1, 2]
    np.testing.assert_allclose(model.predict_proba(TEXTS), expected, atol=1e-5, rtol=0)
    order = np.random.default_rng(batch_size).permutation(len(TEXTS))
    shuffled = model.predict_proba([TEXTS[i] for i in order])
    np.testing.assert_allclose(shuffled, expected[order], atol=1e-5, rtol=0)
    assert model.predict(TEXTS).tolist() == expected.argmax(axis=1).tolist()


def test_classifier_named_labels_and_metadata(model_dirs, tmp_path):
    path = tmp_path / "m"
    shutil.copytree(model_dirs["bert2"], path)
    (path / "fairslm.json").write_text(json.dumps({"thresholds": {"F": 0.4}}))
    model = load_model(path)
    assert isinstance(model, HFClassifierAdapter)
    assert model.classes_ == ["nurse", "surgeon"]
    assert model.metadata == {"thresholds": {"F": 0.4}}
    assert set(model.predict(TEXTS)) <= {"nurse", "surgeon"}


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
@pytest.mark.parametrize("words", [{" yes": 1, " no": 0}, {" surgeon yes": 1, " no": 0}])
def test_causal_lm_matches_plain_forward(model_dirs, arch, words):
    path = model_dirs[arch]
    expected = _plain_causal(path, TEXTS, words)
    for batch_size in (1, 3, 64):
        model = load_model(
            path, template=TEMPLATE, label_words=words, batch_size=batch_size, cache=False
        )
        assert isinstance(model, HFCausalLMAdapter)
        np.testing.assert_allclose(model.predict_proba(TEXTS), expected, atol=1e-5, rtol=0)
    order = np.random.default_rng(0).permutation(len(TEXTS))
    np.testing.assert_allclose(
        model.predict_proba([TEXTS[i] for i in order]), expected[order], atol=1e-5, rtol=0
    )


def test_causal_lm_settings_from_fairslm_json(model_dirs, tmp_path):
    path = tmp_path / "lm"
    shutil.copytree(model_dirs["qwen2"], path)
    (path / "fairslm.json").write_text(
        json.dumps({"template": TEMPLATE, "label_words": {" yes": "surgeon", " no": "nurse"}})
    )
    model = load_model(path)
    assert model.classes_ == ["nurse", "surgeon"]
    assert model.predict_proba(TEXTS[:2]).shape == (2, 2)


def test_causal_lm_needs_template(model_dirs):
    with pytest.raises(ConfigError, match="prompt template and label words"):
        load_model(model_dirs["llama"])


def test_label_word_split_unexpectedly(model_dirs):
    # Byte-level BPE writes the word after "Answer:" as "Ġno": with the space in the template,
    # "no" merges with it; without any space "no" is not the token the model writes next.
    with pytest.raises(ConfigError, match=r"label word 'no' is split unexpectedly") as err:
        load_model(model_dirs["qwen2"], template=TEMPLATE + " ", label_words={"yes": 1, "no": 0})
    assert "leading-space" in str(err.value)
    assert "without its trailing whitespace and use the word ' no'" in str(err.value)
    with pytest.raises(
        ConfigError, match=r"'no' is split unexpectedly into the tokens \['n', 'o'\]"
    ) as err:
        load_model(model_dirs["llama"], template=TEMPLATE, label_words={" yes": 1, "no": 0})
    assert "Use ' no' instead" in str(err.value)


def test_label_words_bad_mapping(model_dirs):
    with pytest.raises(ConfigError, match="one word per class"):
        load_model(model_dirs["llama"], template=TEMPLATE, label_words={" yes": 1, " no": 1})
    with pytest.raises(ConfigError, match=r"'\{text\}' placeholder"):
        load_model(model_dirs["llama"], template="Answer:", label_words={" yes": 1, " no": 0})


def test_no_classification_head(model_dirs):
    with pytest.raises(ModelLoadError, match="has no classification head") as err:
        load_model(model_dirs["headless"])
    assert "load_minilm_classifier" in str(err.value)


def test_unknown_kind_in_fairslm_json(model_dirs, tmp_path):
    path = tmp_path / "m"
    shutil.copytree(model_dirs["bert"], path)
    (path / "fairslm.json").write_text(json.dumps({"kind": "onnx"}))
    with pytest.raises(ConfigError, match="fairslm.json gives the unknown model kind 'onnx'"):
        load_model(path)
    with pytest.raises(
        ConfigError, match="unknown option 'template' for a model of kind 'hf-classifier'"
    ):
        load_model(model_dirs["bert"], template="{text}")


def test_dir_with_no_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelLoadError, match=r"no model found in .*found: notes.txt"):
        load_model(tmp_path)
    with pytest.raises(ModelLoadError, match="no model found"):
        load_model(tmp_path, kind="hf-classifier")


def test_missing_path_and_offline_hub_id():
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model("./no/such/dir")
    with pytest.raises(ModelLoadError, match="Pass a local directory") as err:
        load_model("fairslm-test-nobody/no-such-model-7f3a")
    assert "allow_download=True" in str(err.value)


def test_corrupt_safetensors(model_dirs, tmp_path):
    path = tmp_path / "corrupt"
    shutil.copytree(model_dirs["bert"], path)
    weights = path / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="not a valid safetensors file"):
        load_model(path)
    weights.write_bytes(b"\x00garbage")
    with pytest.raises(ModelLoadError, match="corrupt or truncated"):
        load_model(path)


class _Planted:
    """Unpickling this object creates a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_malicious_pickle_refused(model_dirs, tmp_path):
    path = tmp_path / "evil"
    shutil.copytree(model_dirs["bert"], path)
    (path / "model.safetensors").unlink()
    marker = tmp_path / "PWNED"
    (path / "pytorch_model.bin").write_bytes(pickle.dumps(_Planted(marker)))
    with pytest.raises(UnsafeModelError, match=r"pickle files \(pytorch_model.bin\)") as err:
        load_model(path)
    assert "allow_pickle=True" in str(err.value)
    assert not marker.exists()


def test_trusted_pickle_loads_with_flag(model_dirs, tmp_path):
    path = tmp_path / "bin"
    shutil.copytree(model_dirs["bert"], path)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(path)
    torch.save(model.state_dict(), path / "pytorch_model.bin")
    (path / "model.safetensors").unlink()
    loaded = load_model(path, allow_pickle=True, cache=False)
    expected = _plain_classifier(model_dirs["bert"], TEXTS)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, atol=1e-5, rtol=0)


def test_remote_code_refused(model_dirs, tmp_path):
    path = tmp_path / "remote"
    shutil.copytree(model_dirs["bert"], path)
    config = json.loads((path / "config.json").read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "modeling_evil.Evil"}
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(UnsafeModelError, match="trust_remote_code=True"):
        load_model(path)


def test_truncation_counted_and_logged(model_dirs, caplog):
    long = " ".join(["the surgeon works at the hospital"] * 10)
    model = load_model(model_dirs["bert"], max_length=16, cache=False)
    with caplog.at_level(logging.WARNING, logger="fairslm.models"):
        proba = model.predict_proba([long, "a nurse", long + " again"])
    assert model.last_run_["n_truncated"] == 2
    assert "2 of 3 texts were longer than max_length=16" in caplog.text
    expected = _plain_classifier(model_dirs["bert"], [long, "a nurse", long + " again"], 16)
    np.testing.assert_allclose(proba, expected, atol=1e-5, rtol=0)
    with pytest.raises(ConfigError, match="exceeds the model's limit of 64"):
        load_model(model_dirs["bert"], max_length=512)


def test_causal_truncation_keeps_the_question(model_dirs):
    long = " ".join(["she is a nurse at the hospital"] * 20)
    model = load_model(
        model_dirs["llama"], template=TEMPLATE, label_words={" yes": 1, " no": 0}, max_length=40
    )
    model.predict_proba([long, "a nurse"])
    assert model.last_run_["n_truncated"] == 1
    prompts = model._prompt_ids([long])
    assert len(prompts[0]) <= 40
    assert model.tokenizer.decode(prompts[0]).endswith("Is this person a surgeon? Answer:")


def test_cache_scores_each_text_once(model_dirs, tmp_path):
    model = load_model(model_dirs["bert"], cache_dir=tmp_path / "cache")
    first = model.predict_proba(TEXTS)
    assert model.last_run_["n_scored"] == len(set(TEXTS))
    again = model.predict_proba(TEXTS[::-1])
    assert model.last_run_["n_scored"] == 0 and model.last_run_["n_cached"] == len(TEXTS)
    np.testing.assert_array_equal(again, first[::-1])
    # A fresh process (here: a fresh adapter) finds the rows on disk.
    fresh = load_model(model_dirs["bert"], cache=ScoreCache(tmp_path / "cache"))
    np.testing.assert_array_equal(fresh.predict_proba(TEXTS), first)
    assert fresh.last_run_["n_scored"] == 0
    # A different model never sees them.
    other = load_model(model_dirs["bert2"], cache=ScoreCache(tmp_path / "cache"))
    other.predict_proba(TEXTS)
    assert other.last_run_["n_scored"] == len(set(TEXTS))


def test_fingerprint_stable_and_sensitive(model_dirs, tmp_path):
    a = load_model(model_dirs["bert"]).fingerprint()
    assert a == load_model(model_dirs["bert"]).fingerprint()
    assert a != load_model(model_dirs["bert"], max_length=32).fingerprint()
    assert a != load_model(model_dirs["bert2"]).fingerprint()
    other = make_tiny_bert_classifier(tmp_path / "seed9", num_labels=3, seed=9)
    assert a != load_model(other).fingerprint()
    kw = {"template": TEMPLATE, "label_words": {" yes": 1, " no": 0}}
    lm = load_model(model_dirs["llama"], **kw).fingerprint()
    assert (
        lm
        != load_model(model_dirs["llama"], **{**kw, "template": "x {text} Answer:"}).fingerprint()
    )


def test_in_memory_model_fingerprint_follows_training(model_dirs):
    tok = transformers.AutoTokenizer.from_pretrained(model_dirs["bert"])
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_dirs["bert"])
    model.train()
    adapter = HFClassifierAdapter(model, tok)
    before = adapter.predict_proba(TEXTS)
    assert model.training  # scoring switches to eval mode and back
    np.testing.assert_allclose(before, _plain_classifier(model_dirs["bert"], TEXTS), atol=1e-5)
    fp = adapter.fingerprint()
    with torch.no_grad():
        model.classifier.bias[0] += 1.0
    assert adapter.fingerprint() != fp
    after = adapter.predict_proba(TEXTS)
    assert adapter.last_run_["n_scored"] == len(set(TEXTS))
    assert not np.allclose(before, after)


def test_bad_texts(model_dirs):
    model = load_model(model_dirs["bert"])
    with pytest.raises(InvalidDataError, match="positions 1"):
        model.predict_proba(["a nurse", "   "])
    with pytest.raises(InvalidDataError, match="at position 1 is float nan"):
        model.predict_proba(["a nurse", float("nan")])
    with pytest.raises(InvalidDataError, match="single string"):
        model.predict_proba("a nurse")
    assert model.predict_proba([]).shape == (0, 3)
