"""Causal (decoder) language models used as classifiers through a prompt and label words.

For a text ``x`` the prompt ``template.format(text=x)`` is followed by each class's label word
``w_c = (t_1, ..., t_m)``; the class score is the teacher-forced log-probability
``log p(w_c | prompt) = sum_j log p(t_j | prompt, t_1..t_{j-1})`` and the class probabilities
are the softmax of these scores over the classes. This is the verbaliser scoring of
Schick & Schütze (2021, "Exploiting Cloze Questions for Few Shot Text Classification", EACL),
with multi-token words scored by the chain rule.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fairslm.exceptions import ConfigError, ModelLoadError
from fairslm.models._base import ModelAdapter, read_metadata
from fairslm.models._batching import (
    DEFAULT_MAX_BATCH_TOKENS,
    pad_left,
    report_truncation,
    run_batches,
    torch_threads,
)
from fairslm.models._cache import ScoreCache
from fairslm.models._hf_common import (
    load_pretrained,
    model_max_length,
    state_digest,
    tokenizer_digest,
)
from fairslm.models._source import files_digest

__all__ = ["HFCausalLMAdapter"]

# Decoder SLMs are larger than encoder classifiers; 16 prompts per pass keeps CPU memory modest.
DEFAULT_BATCH_SIZE = 16
_PROBE_TEXT = "An example text."


def _sorted_classes(values: list[Any]) -> list[Any]:
    try:
        return sorted(set(values))
    except TypeError:  # mixed label types keep the order given
        return list(dict.fromkeys(values))


class HFCausalLMAdapter(ModelAdapter):
    """A transformers ``AutoModelForCausalLM`` scored through label words.

    Parameters
    ----------
    model, tokenizer
        A transformers causal LM and its tokenizer.
    template : str
        Prompt with a ``{text}`` placeholder, ending where the label word follows, e.g.
        ``"Bio: {text}\\nIs this person a surgeon? Answer:"``. Other braces are kept as written.
    label_words : mapping
        One label word per class, ``{word: class}``, e.g. ``{" yes": 1, " no": 0}``. Mind the
        leading space: byte-level BPE tokenizers (Llama 3, Qwen, SmolLM) write the word after
        ``"Answer:"`` as ``" yes"``. A word that tokenizes differently after the prompt than on
        its own is refused with a hint.
    batch_size, max_length, num_threads, show_progress, cache, cache_dir, metadata
        As for :class:`~fairslm.models.HFClassifierAdapter`. Texts too long for ``max_length``
        are cut at the end of the text (the prompt's instructions are kept) and counted.
    """

    kind = "hf-causal-lm"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        template: str,
        label_words: Mapping[str, Any],
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_length: int | None = None,
        max_batch_tokens: int | None = DEFAULT_MAX_BATCH_TOKENS,
        num_threads: int | None = None,
        show_progress: bool | None = None,
        cache: bool | ScoreCache = True,
        cache_dir: str | Path | None = None,
        metadata: dict[str, Any] | None = None,
        model_dir: Path | None = None,
    ) -> None:
        if not isinstance(template, str) or "{text}" not in template:
            raise ConfigError(
                f"template must be a string with a '{{text}}' placeholder, got {template!r}; "
                "e.g. 'Bio: {text}\\nIs this person a surgeon? Answer:'"
            )
        if not isinstance(label_words, Mapping) or len(label_words) < 2:
            raise ConfigError(
                "label_words must map one word to each class, at least two, e.g. "
                f"{{' yes': 1, ' no': 0}}; got {label_words!r}"
            )
        values = list(label_words.values())
        if len(set(map(repr, values))) != len(values):
            raise ConfigError(
                f"label_words maps several words to the same class ({label_words!r}); give "
                "exactly one word per class"
            )
        if batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size}")
        classes = _sorted_classes(values)
        super().__init__(classes, metadata=metadata, cache=cache, cache_dir=cache_dir)
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.label_words = dict(label_words)
        self.batch_size = int(batch_size)
        self.max_length = model_max_length(tokenizer, model.config, max_length)
        self.max_batch_tokens = max_batch_tokens
        self.num_threads = num_threads
        self.show_progress = show_progress
        self.model_dir = model_dir
        self.static_fingerprint = model_dir is not None
        self._pad_id = tokenizer.pad_token_id
        if self._pad_id is None:  # pad tokens are masked, so any id will do
            self._pad_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        word_of = {repr(v): w for w, v in self.label_words.items()}
        self.label_token_ids: list[list[int]] = [
            self._check_label_word(word_of[repr(c)]) for c in self.classes_
        ]
        if len({tuple(t) for t in self.label_token_ids}) != len(self.label_token_ids):
            raise ConfigError(
                f"two label words tokenize to the same tokens ({self.label_words!r}); choose "
                "distinct words"
            )
        self._keep_arg = "logits_to_keep" in inspect.signature(model.forward).parameters

    # -- label words --------------------------------------------------------------------------
    def _encode(self, text: str, special: bool) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    def _split_ok(self, word: str, template: str | None = None) -> bool:
        prompt = (template if template is not None else self.template).replace(
            "{text}", _PROBE_TEXT
        )
        alone = self._encode(word, False)
        joint = self._encode(prompt + word, True)
        return bool(alone) and joint == self._encode(prompt, True) + alone

    def _check_label_word(self, word: str) -> list[int]:
        if not isinstance(word, str) or not word:
            raise ConfigError(f"label words must be non-empty strings, got {word!r}")
        alone = self._encode(word, False)
        if self._split_ok(word):
            spaced_ids = self._encode(" " + word, False)
            if (
                word[0].isspace()
                or self.template[-1].isspace()
                or len(spaced_ids) >= len(alone)
                or not self._split_ok(" " + word)
            ):
                return alone
            raise ConfigError(
                f"label word {word!r} is split unexpectedly into the tokens "
                f"{self.tokenizer.convert_ids_to_tokens(alone)}, while {' ' + word!r} is "
                f"{self.tokenizer.convert_ids_to_tokens(spaced_ids)}: after the prompt a model "
                "writes the word with its leading space, so the word without it is scored as "
                f"an unlikely spelling (a leading-space issue). Use {' ' + word!r} instead"
            )
        prompt = self.render(_PROBE_TEXT)
        joint = self._encode(prompt + word, True)
        tail = self.tokenizer.convert_ids_to_tokens(joint[len(self._encode(prompt, True)) - 1 :])
        spaced = " " + word.lstrip()
        trimmed = self.template.rstrip()
        if trimmed != self.template and self._split_ok(spaced, trimmed):
            hint = (
                f" End the template without its trailing whitespace and use the word "
                f"{spaced!r}: this tokenizer writes the space as part of the word's token."
            )
        elif self._split_ok(alt := word[1:] if word.startswith(" ") else spaced):
            hint = f" The word {alt!r} tokenizes cleanly after this prompt: use it instead."
        else:
            hint = " Change the word, or end the template differently."
        raise ConfigError(
            f"label word {word!r} is split unexpectedly: on its own it is the tokens "
            f"{self.tokenizer.convert_ids_to_tokens(alone)}, but after the prompt the tokenizer "
            f"merges it with the prompt's end into {tail}, so its probability would not be the "
            f"probability of the word the model writes next (often a leading-space issue).{hint}"
        )

    def render(self, text: str) -> str:
        """The prompt for ``text`` (only ``{text}`` is replaced; other braces stay as written)."""
        return self.template.replace("{text}", text)

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | Path,
        *,
        template: str | None = None,
        label_words: Mapping[str, Any] | None = None,
        allow_pickle: bool = False,
        trust_remote_code: bool = False,
        device: str | None = None,
        **kwargs: Any,
    ) -> HFCausalLMAdapter:
        """Load a causal LM saved with ``save_pretrained``.

        ``template`` and ``label_words`` default to those in the directory's ``fairslm.json``.
        """
        model_dir = Path(model_dir)
        metadata = read_metadata(model_dir) if model_dir.is_dir() else {}
        template = template if template is not None else metadata.get("template")
        label_words = label_words if label_words is not None else metadata.get("label_words")
        if template is None or label_words is None:
            raise ConfigError(
                "a causal LM is used as a classifier through a prompt template and label "
                "words; pass template='...{text}... Answer:' and label_words={' yes': 1, "
                "' no': 0} (or store them as 'template' and 'label_words' in fairslm.json)"
            )
        model, tokenizer, _config, _info = load_pretrained(
            model_dir,
            "AutoModelForCausalLM",
            allow_pickle=allow_pickle,
            trust_remote_code=trust_remote_code,
            device=device,
        )
        if not hasattr(model, "get_output_embeddings") or model.get_output_embeddings() is None:
            raise ModelLoadError(f"the model in {model_dir} has no language-model head")
        kwargs.setdefault("metadata", metadata)
        return cls(
            model,
            tokenizer,
            template=template,
            label_words=label_words,
            model_dir=model_dir,
            **kwargs,
        )

    def _fingerprint(self) -> str:
        if self.model_dir is not None:
            weights = sorted(p.name for p in self.model_dir.glob("*.safetensors"))
            model_part = files_digest(self.model_dir, ["config.json", *weights])
        else:
            model_part = state_digest(self.model)
        parts = [
            model_part,
            tokenizer_digest(self.model_dir, self.tokenizer),
            self.template,
            repr(sorted((w, repr(c)) for w, c in self.label_words.items())),
            f"max_length={self.max_length}",
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    # -- scoring ------------------------------------------------------------------------------
    def _prompt_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each prompt, cutting the end of the text when it is too long."""
        budget = self.max_length - (max(len(t) for t in self.label_token_ids) - 1)
        out = list(
            self.tokenizer([self.render(t) for t in texts], add_special_tokens=True)["input_ids"]
        )
        n_cut = 0
        for i, ids in enumerate(out):
            if len(ids) <= budget:
                continue
            n_cut += 1
            text_ids = self._encode(texts[i], False)
            keep = len(text_ids) - (len(ids) - budget)
            while True:
                if keep <= 0:
                    raise ConfigError(
                        f"the prompt template alone takes more than max_length={self.max_length} "
                        "tokens; shorten the template or raise max_length"
                    )
                short = self.tokenizer.decode(text_ids[:keep])
                ids = self._encode(self.render(short), True)
                if len(ids) <= budget:
                    break
                keep -= len(ids) - budget
            out[i] = ids
        self._n_truncated = n_cut
        report_truncation(n_cut, len(texts), self.max_length)
        return out

    def _forward(self, rows: list[list[int]], keep: int) -> Any:
        """Log-softmax over the vocabulary at the last ``keep`` positions of each row."""
        import torch

        ids, mask, pos = pad_left(rows, int(self._pad_id))
        device = next(self.model.parameters()).device
        kwargs: dict[str, Any] = {}
        if self._keep_arg:
            kwargs["logits_to_keep"] = keep
        logits = self.model(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=pos.to(device),
            use_cache=False,
            **kwargs,
        ).logits[:, -keep:, :]
        return torch.log_softmax(logits.float(), dim=-1)

    def _score(self, texts: list[str]) -> np.ndarray:
        import torch

        prompts = self._prompt_ids(texts)
        labels = self.label_token_ids
        single = all(len(t) == 1 for t in labels)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch_threads(self.num_threads), torch.inference_mode():
                if single:
                    first = torch.tensor([t[0] for t in labels])

                    def forward_single(idx: np.ndarray) -> np.ndarray:
                        logp = self._forward([prompts[i] for i in idx], 1)[:, -1, :]
                        return logp[:, first.to(logp.device)].cpu().numpy()

                    scores = run_batches(
                        [len(p) for p in prompts],
                        forward_single,
                        batch_size=self.batch_size,
                        max_tokens=self.max_batch_tokens,
                        show_progress=self.show_progress,
                        desc="scoring",
                    )
                else:
                    scores = self._score_multi(prompts)
        finally:
            self.model.train(was_training)
        scores = scores - scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        return proba / proba.sum(axis=1, keepdims=True)

    def _score_multi(self, prompts: list[list[int]]) -> np.ndarray:
        """Teacher-forced sum of label-token log-probs, one sequence per (text, class)."""
        import torch

        k = len(self.label_token_ids)
        seqs = [p + t[:-1] for p in prompts for t in self.label_token_ids]

        def forward_multi(idx: np.ndarray) -> np.ndarray:
            targets = [self.label_token_ids[j % k] for j in idx]
            keep = max(len(t) for t in targets)
            logp = self._forward([seqs[j] for j in idx], keep)
            out = np.empty(len(idx))
            for r, t in enumerate(targets):
                rows = logp[r, keep - len(t) :, :]
                out[r] = float(rows[torch.arange(len(t)), torch.tensor(t)].sum())
            return out

        flat = run_batches(
            [len(s) for s in seqs],
            lambda idx: forward_multi(idx)[:, None],
            batch_size=self.batch_size,
            max_tokens=self.max_batch_tokens,
            show_progress=self.show_progress,
            desc="scoring",
        )
        return flat.reshape(len(prompts), k)
