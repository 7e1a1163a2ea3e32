"""Tiny randomly initialised transformers, built offline, for tests and examples.

Each builder writes a complete ``save_pretrained`` directory (safetensors weights, config,
tokenizer) of a 2-layer model in a few hundred milliseconds, with a tokenizer made from a small
fixed vocabulary, so tests of anything that loads a model need no download.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fairslm.models._source import quiet_transformers

__all__ = ["TINY_WORDS", "make_tiny_bert_classifier", "make_tiny_causal_lm", "write_tiny_gguf"]

TINY_WORDS = (
    "a an the he she they his her their is was has had and or of in at to for with on by "
    "surgeon nurse doctor hospital patient patients care clinic ward team work works worked "
    "years year experience trained training school medical medicine university degree "
    "cardiac heart surgery general practice emergency department senior staff lead leads "
    "yes no answer bio text person this that good bad long short very many new old "
    "london paris new york city born lives live loves love family children husband wife "
    "mr ms dr his hers him"
).split()


def _bert_tokenizer(words: list[str]) -> Any:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = sorted(set(words)) + ["##s", "##ed", "##ing", "##er", "##ly"]
    vocab = {tok: i for i, tok in enumerate(specials + pieces)}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )


def make_tiny_bert_classifier(
    path: str | os.PathLike[str],
    *,
    num_labels: int = 2,
    id2label: dict[int, Any] | None = None,
    seed: int = 0,
    max_position_embeddings: int = 64,
    with_head: bool = True,
) -> Path:
    """Write a 2-layer BERT sequence classifier (or, ``with_head=False``, a bare encoder)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    path = Path(path)
    tokenizer = _bert_tokenizer(list(TINY_WORDS))
    kwargs: dict[str, Any] = {"num_labels": num_labels}
    if id2label is not None:
        kwargs["id2label"] = id2label
        kwargs["label2id"] = {str(v): k for k, v in id2label.items()}
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        **kwargs,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config) if with_head else BertModel(config)
    model.eval()
    with quiet_transformers():
        model.save_pretrained(path)
        tokenizer.save_pretrained(path)
    return path


def _bpe_tokenizer(bos: str | None) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<s>", "<pad>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = [" ".join(TINY_WORDS[i : i + 12]) for i in range(0, len(TINY_WORDS), 3)]
    corpus += ["Answer: yes", "Answer: no", "Is this person a surgeon? Answer: yes"] * 5
    tok.train_from_iterator(corpus, trainer=trainer)
    if bos is not None:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", special_tokens=[(bos, tok.token_to_id(bos))]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="<|endoftext|>",
        pad_token="<pad>",
        model_max_length=128,
    )


def make_tiny_causal_lm(
    path: str | os.PathLike[str], *, arch: str = "llama", seed: int = 0
) -> Path:
    """Write a 2-layer causal LM, ``arch`` ``"llama"`` (adds BOS) or ``"qwen2"`` (no BOS)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    path = Path(path)
    tokenizer = _bpe_tokenizer("<s>" if arch == "llama" else None)
    common: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
        "tie_word_embeddings": False,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }
    torch.manual_seed(seed)
    if arch == "llama":
        model: Any = LlamaForCausalLM(LlamaConfig(**common))
    elif arch == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**common))
    else:
        raise ValueError(f"arch must be 'llama' or 'qwen2', got {arch!r}")
    model.eval()
    with quiet_transformers():
        model.save_pretrained(path)
        tokenizer.save_pretrained(path)
    return path


# transformers' names of a Llama decoder layer's weights -> GGUF's (llama.cpp's tensor names).
_GGUF_LAYER_NAMES = {
    "self_attn.q_proj.weight": "attn_q",
    "self_attn.k_proj.weight": "attn_k",
    "self_attn.v_proj.weight": "attn_v",
    "self_attn.o_proj.weight": "attn_output",
    "mlp.gate_proj.weight": "ffn_gate",
    "mlp.up_proj.weight": "ffn_up",
    "mlp.down_proj.weight": "ffn_down",
    "input_layernorm.weight": "attn_norm",
    "post_attention_layernorm.weight": "ffn_norm",
}
_GGUF_TOP_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}


def _rope_permute(weight: Any, n_head: int) -> Any:
    """llama.cpp's row order for a query/key projection (its rotary embedding pairs halves)."""
    rows = weight.shape[0]
    return (
        weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:])
        .swapaxes(1, 2)
        .reshape(weight.shape)
    )


def write_tiny_gguf(
    model_dir: str | os.PathLike[str], path: str | os.PathLike[str]
) -> Path:
    """Write a Llama model directory (from :func:`make_tiny_causal_lm`) as a float32 GGUF file.

    The file follows llama.cpp's conventions (tensor names, rotary row order of the query and
    key projections, a byte-level BPE tokenizer as ``gpt2``), so that reading it back through
    transformers' GGUF loader gives the original weights: a small, exact fixture for
    :func:`fairslm.models.import_gguf`.
    """
    import json

    import gguf
    import numpy as np
    from safetensors.numpy import load_file
    from transformers import AutoConfig, AutoTokenizer

    model_dir, path = Path(model_dir), Path(path)
    config = AutoConfig.from_pretrained(model_dir)
    if config.model_type != "llama":
        raise ValueError(f"write_tiny_gguf writes Llama models, got {config.model_type!r}")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(float(config.rope_parameters["rope_theta"]))
    model = json.loads(tokenizer.backend_tokenizer.to_str())["model"]
    tokens = sorted(model["vocab"], key=model["vocab"].__getitem__)
    special = set(tokenizer.all_special_tokens)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(
        [gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens]
    )
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in model["merges"]])
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_add_bos_token(True)
    for name, weight in sorted(load_file(model_dir / "model.safetensors").items()):
        if name in _GGUF_TOP_NAMES:
            writer.add_tensor(_GGUF_TOP_NAMES[name], weight)
            continue
        _, _, layer, rest = name.split(".", 3)
        if rest == "self_attn.q_proj.weight":
            weight = _rope_permute(weight, config.num_attention_heads)
        elif rest == "self_attn.k_proj.weight":
            weight = _rope_permute(weight, config.num_key_value_heads)
        writer.add_tensor(f"blk.{layer}.{_GGUF_LAYER_NAMES[rest]}.weight",
                          np.ascontiguousarray(weight))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
