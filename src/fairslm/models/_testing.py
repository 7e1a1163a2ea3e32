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

__all__ = ["TINY_WORDS", "make_tiny_bert_classifier", "make_tiny_causal_lm"]

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
