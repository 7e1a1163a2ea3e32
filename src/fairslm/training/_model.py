"""The model being fine-tuned: a sequence classifier, or a causal LM scored through label words.

Both kinds expose the same step interface -- token ids in, class logits and a pooled
representation out -- so the loss, the penalties and the adversary do not care which one runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fairslm._optional import import_optional
from fairslm.exceptions import ConfigError, ModelLoadError
from fairslm.models import default_model_path, quiet_transformers

__all__ = ["TrainableModel", "class_logits", "default_model_path", "load_trainable", "model_fingerprint"]


def model_fingerprint(path: str | Path) -> str:
    """SHA-256 over the weight files of a model directory (names and bytes)."""
    root = Path(path)
    files = sorted(p for p in root.glob("*") if p.suffix in (".safetensors", ".bin") and p.is_file())
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode())
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


class TrainableModel:
    """A model plus its tokenizer and how to read class logits from it."""

    def __init__(self, model: Any, tokenizer: Any, kind: str, classes: Sequence[str],
                 max_length: int, label_token_ids: list[int] | None = None,
                 template: str | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.kind = kind
        self.classes = list(classes)
        self.max_length = max_length
        self.label_token_ids = label_token_ids
        self.template = template
        pad = tokenizer.pad_token_id
        if pad is None:
            pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        self.pad_id = int(pad)
        cfg = model.config
        self.hidden_size = int(getattr(cfg, "hidden_size", 0) or getattr(cfg, "d_model", 0))

    # -- tokens --------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, truncated to ``max_length`` (no padding)."""
        tok = self.tokenizer
        if self.kind == "sequence":
            enc = tok(list(texts), truncation=True, max_length=self.max_length)
            return [list(ids) for ids in enc["input_ids"]]
        assert self.template is not None
        # As fairslm's causal-LM adapter scores: the rendered prompt tokenized whole (special
        # tokens included); an over-long prompt loses the end of its text, not the template.
        render = self.template.replace
        out = []
        for text in texts:
            ids = list(tok(render("{text}", text), add_special_tokens=True)["input_ids"])
            if len(ids) > self.max_length:
                body = tok(text, add_special_tokens=False)["input_ids"]
                keep = len(body) - (len(ids) - self.max_length)
                while keep > 0:
                    ids = list(tok(render("{text}", tok.decode(body[:keep])), add_special_tokens=True)["input_ids"])
                    if len(ids) <= self.max_length:
                        break
                    keep -= len(ids) - self.max_length
                if keep <= 0:
                    raise ConfigError(
                        f"the prompt template alone takes more than max_length={self.max_length} "
                        "tokens; shorten the template or raise max_length"
                    )
            out.append(ids)
        return out

    def collate(self, ids: Sequence[list[int]]) -> tuple[Any, Any]:
        """Right-padded ``input_ids`` and ``attention_mask`` for one batch (dynamic padding)."""
        import torch

        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = torch.tensor(x, dtype=torch.long)
            mask[i, : len(x)] = 1
        return input_ids, mask

    @property
    def device(self) -> Any:
        """Where the weights are (the batches are moved there)."""
        return next(self.model.parameters()).device

    # -- forward -------------------------------------------------------------------------
    def forward(self, input_ids: Any, attention_mask: Any, *, need_representation: bool = False) -> tuple[Any, Any]:
        """Class logits ``(n, n_classes)`` and, if asked, a pooled representation ``(n, d)``."""

        device = self.device
        input_ids, attention_mask = input_ids.to(device), attention_mask.to(device)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         output_hidden_states=need_representation)
        ids = self.label_token_ids if self.kind == "label_words" else None
        return class_logits(out, attention_mask, label_token_ids=ids, need_representation=need_representation)

    # -- state ---------------------------------------------------------------------------
    def trainable_state(self) -> dict[str, Any]:
        """Detached copies of the trainable parameters, by name (what a checkpoint stores)."""
        return {n: p.detach().cpu().clone().contiguous()
                for n, p in self.model.named_parameters() if p.requires_grad}

    def load_trainable_state(self, state: dict[str, Any]) -> None:
        import torch

        params = dict(self.model.named_parameters())
        missing = [n for n, p in params.items() if p.requires_grad and n not in state]
        if missing:
            raise ModelLoadError(f"checkpoint lacks parameters {missing[:3]}...; it belongs to another model")
        with torch.no_grad():
            for n, v in state.items():
                params[n].copy_(v)

    def save(self, directory: Path) -> None:
        """Save weights (safetensors) and tokenizer so ``from_pretrained`` loads the directory."""
        model = self.model
        if self.kind == "label_words" and hasattr(model, "merge_and_unload"):
            model = model.merge_and_unload()
            self.model = model
        with quiet_transformers():
            model.save_pretrained(directory)
            self.tokenizer.save_pretrained(directory)


def class_logits(out: Any, attention_mask: Any, *, label_token_ids: Sequence[int] | None = None,
                 need_representation: bool = False) -> tuple[Any, Any]:
    """Class logits ``(n, n_classes)`` and, if asked, a pooled representation from a model's output.

    A sequence classifier's logits are its own, its representation the mean of the last hidden
    states over real tokens. A causal LM's class scores are the next-token log-probabilities of
    the label words (``label_token_ids``) at the last real token, wherever the padding is; the
    softmax over them (in the loss) renormalises to the label words alone.
    """
    import torch

    if label_token_ids is None:
        rep = None
        if need_representation:
            h = out.hidden_states[-1]
            m = (attention_mask if attention_mask is not None
                 else torch.ones(h.shape[:2], device=h.device)).unsqueeze(-1).to(h.dtype)
            rep = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
        return out.logits, rep
    logits = out.logits
    n, width = logits.shape[0], logits.shape[1]
    if attention_mask is None:
        last = torch.full((n,), width - 1, device=logits.device)
    else:
        last = width - 1 - attention_mask.flip(1).argmax(1)
    rows = torch.arange(n, device=logits.device)
    logp = torch.log_softmax(logits[rows, last].float(), dim=-1)
    rep = out.hidden_states[-1][rows, last] if need_representation else None
    return logp[:, list(label_token_ids)], rep


def load_trainable(model_path: str | None, classes: Sequence[str], *, max_length: int,
                   lora: Any = None, seed: int = 0) -> tuple[TrainableModel, str]:
    """Load the base model for training; returns it and the base directory used."""
    import torch

    transformers = import_optional("transformers", purpose="fine-tuning")
    path = model_path or str(default_model_path())
    if not Path(path).is_dir():
        raise ModelLoadError(
            f"model directory {path} not found; pass a local Hugging Face model directory "
            "(nothing is downloaded)"
        )
    torch.manual_seed(seed)  # the new head's initialisation depends on it
    classes = list(classes)
    try:
        with quiet_transformers():
            tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            if lora is None:
                model = transformers.AutoModelForSequenceClassification.from_pretrained(
                    path, num_labels=len(classes), id2label=dict(enumerate(classes)),
                    label2id={c: i for i, c in enumerate(classes)}, ignore_mismatched_sizes=True,
                )
            else:
                model = transformers.AutoModelForCausalLM.from_pretrained(path)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"could not load a model from {path}: {exc}") from exc
    if lora is None:
        return TrainableModel(model, tokenizer, "sequence", classes, max_length), path
    missing = [c for c in classes if c not in lora.label_words]
    if missing:
        raise ConfigError(
            f"lora.label_words has no word for class(es) {missing}; give one word per class, "
            f"e.g. label_words = {{ {', '.join(f'{c} = {c!r}' for c in classes)} }}"
        )
    ids = []
    for c in classes:
        word = lora.label_words[c]
        toks = tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(toks) != 1:
            raise ConfigError(
                f"label word {word!r} for class {c!r} is {len(toks)} tokens for this tokenizer; "
                "label words must be single tokens (try a leading space or a shorter word)"
            )
        ids.append(int(toks[0]))
    if len(set(ids)) != len(ids):
        raise ConfigError(f"label words {lora.label_words} map to the same token; choose distinct words")
    if "{text}" not in lora.template:
        raise ConfigError(f"lora.template must contain '{{text}}'; got {lora.template!r}")
    peft = import_optional("peft", purpose="LoRA fine-tuning")
    targets = lora.target_modules
    if targets is None:
        names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
        targets = [t for t in ("q_proj", "v_proj") if t in names] or None
    peft_cfg = peft.LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                               target_modules=targets, task_type="CAUSAL_LM")
    import warnings

    with warnings.catch_warnings():
        # peft 0.x reads transformers' deprecated `is_gradient_checkpointing`; harmless here.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        model = peft.get_peft_model(model, peft_cfg)
    return TrainableModel(model, tokenizer, "label_words", classes, max_length, ids, lora.template), path
