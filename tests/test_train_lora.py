"""LoRA fine-tuning of a tiny random Llama used as a classifier through label words."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import fairslm
from fairslm.training import train

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("test_train", HERE / "test_train.py")
tt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tt)

LABEL_WORDS = {"nurse": "nurse", "surgeon": "surgeon"}
# Every word of the toy rows is one token, so each label word is a single token.
WORDS = ("he she operates surgery doctor cares nurse ward hospital patients team years works "
         "in the with").split()


def build_tiny_llama(path: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from fairslm.training._model import quiet_transformers

    vocab = {t: i for i, t in enumerate(["<pad>", "<unk>", "<s>", "</s>", "Answer", ":", *WORDS])}
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
    from transformers import AutoModelForCausalLM

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
    assert meta["kind"] == "hf-causal-lm" and meta["label_words"] == {"nurse": "nurse", "surgeon": "surgeon"}
    # the merged model loads as a plain causal LM, and fairslm's label-word adapter scores it
    # exactly as training did
    with quiet_transformers():
        model = AutoModelForCausalLM.from_pretrained(res.output_dir)
    assert model.config.architectures == ["LlamaForCausalLM"]
    adapter = fairslm.load_model(res.output_dir)
    proba = adapter.predict_proba(va["text"])
    pred = np.asarray(adapter.classes_)[proba.argmax(1)]
    assert np.mean(pred == np.asarray(va["label"])) == pytest.approx(res.validation["accuracy"])
