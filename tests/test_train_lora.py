"""LoRA fine-tuning of a tiny random Llama used as a classifier through label words."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from fairslm.exceptions import ConfigError
from fairslm.training import train

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("test_train", HERE / "test_train.py")
tt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tt)

LABEL_WORDS = {"nurse": "nurse", "surgeon": "surgeon"}


def build_tiny_llama(path: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from fairslm.training._model import quiet_transformers

    vocab = {t: i for i, t in enumerate(["<pad>", "<unk>", "<s>", "</s>", "Answer", ":", *tt.WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                   bos_token="<s>", eos_token="</s>")
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                      max_position_embeddings=64, pad_token_id=0, bos_token_id=2, eos_token_id=3)
    with quiet_transformers():
        LlamaForCausalLM(cfg).save_pretrained(path)
        fast.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


def _cfg(model: Path, out: Path, **kw):
    return tt.base(model, out, lora={"label_words": LABEL_WORDS, "template": "{text} Answer:", "r": 4},
                   learning_rate=1e-2, **kw)


@pytest.mark.slow
def test_lora_label_words_with_penalty_and_constraint(tiny_llama, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from fairslm.training._model import quiet_transformers

    tr, va = tt.toy_rows(96, 0), tt.toy_rows(48, 1)
    res = train(_cfg(tiny_llama, tmp_path / "lora", epochs=3,
                     penalty={"criterion": "equal_opportunity", "weight": 1.0},
                     constraints={"targets": ["equal_opportunity ratio >= 0.8"], "update_every": 2}),
                train_data=tr, validation_data=va)
    assert res.validation["accuracy"] > 0.75  # chance is 0.5
    log = [json.loads(x) for x in res.log_path.read_text().splitlines()]
    steps = [r for r in log if "event" not in r]
    assert all(np.isfinite(r["penalty"]) and "multipliers" in r for r in steps)

    meta = json.loads((res.output_dir / "fairslm.json").read_text())
    assert meta["kind"] == "causal_lm_label_words" and meta["label_words"] == LABEL_WORDS
    # the merged model loads as a plain causal LM and ranks the label words like training did
    with quiet_transformers():
        model = AutoModelForCausalLM.from_pretrained(res.output_dir).eval()
        tok = AutoTokenizer.from_pretrained(res.output_dir)
    ids = [tok.convert_tokens_to_ids(w) for w in ("nurse", "surgeon")]
    correct = 0
    for text, label in zip(va["text"], va["label"], strict=True):
        enc = tok("<s> " + text + " Answer:", add_special_tokens=False, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits[0, -1, ids]
        correct += ["nurse", "surgeon"][int(logits.argmax())] == label
    assert correct / len(va["text"]) == pytest.approx(res.validation["accuracy"])


def test_lora_label_word_errors(tiny_llama, tmp_path):
    tr = tt.toy_rows(16, 0)
    with pytest.raises(ConfigError, match=r"no word for class\(es\) \['surgeon'\]"):
        train(tt.base(tiny_llama, tmp_path / "a", lora={"label_words": {"nurse": "nurse"}}), train_data=tr)
    with pytest.raises(ConfigError, match="label word 'nurse ward' for class 'nurse' is 2 tokens"):
        train(tt.base(tiny_llama, tmp_path / "b",
                      lora={"label_words": {"nurse": "nurse ward", "surgeon": "surgeon"}}), train_data=tr)
    with pytest.raises(ConfigError, match="must contain '\\{text\\}'"):
        train(tt.base(tiny_llama, tmp_path / "c", lora={"label_words": LABEL_WORDS, "template": "Answer:"}),
              train_data=tr)
