"""Text generation with a transformers causal LM: batched, seeded per output, cached.

Prompts are left-padded into length-sorted batches and decoded step by step with the model's
key/value cache. Greedy decoding takes the most probable token; sampling draws each output's
tokens from its own random stream, seeded by (seed, stream, sample index), so an output never
depends on which other prompts shared its batch: batched and one-by-one generation agree, and
a rerun with the same seed writes the same texts.
"""

from __future__ import annotations

import hashlib
import inspect
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.models._base import read_metadata
from fairslm.models._batching import (
    DEFAULT_MAX_BATCH_TOKENS,
    length_batches,
    pad_left,
    torch_threads,
)
from fairslm.models._decoding import DecodingSettings, GenerationCache, generation_key
from fairslm.models._hf_common import (
    load_pretrained,
    model_max_length,
    state_digest,
    tokenizer_digest,
)
from fairslm.models._source import files_digest, read_config
from fairslm.models._texts import check_texts

__all__ = ["HFTextGenerator", "load_generator", "stream_seed"]

# Prompts per forward pass; decoder SLMs on CPU gain little beyond this and the key/value cache
# of a batch grows with it.
DEFAULT_BATCH_SIZE = 16


def stream_seed(seed: int, stream: str, sample: int) -> int:
    """The seed of one output's random stream (63 bits of a SHA-256).

    Examples
    --------
    >>> stream_seed(0, "a prompt", 0) == stream_seed(0, "a prompt", 0)
    True
    >>> stream_seed(0, "a prompt", 0) == stream_seed(0, "a prompt", 1)
    False
    """
    digest = hashlib.sha256(f"{int(seed)}\x1f{stream}\x1f{int(sample)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


class HFTextGenerator:
    """A transformers causal LM that writes texts for prompts.

    Parameters
    ----------
    model, tokenizer
        A transformers ``AutoModelForCausalLM`` and its tokenizer.
    chat : bool, optional
        Wrap each prompt as a user message in the tokenizer's chat template (instruction-tuned
        models expect it). Default: when the tokenizer has a chat template.
    system : str, optional
        A system message placed before the prompt (chat models only).
    batch_size : int, default 16
    max_length : int, optional
        Token limit of prompt plus output; default the model's own (``max_position_embeddings``).
    max_batch_tokens, num_threads
        As for the classifier adapters.
    cache : bool or GenerationCache, default True
        Keep outputs keyed by (model fingerprint, prompt, decoding settings, stream).
    cache_dir : path, optional
        Keep them on disk there, across runs.

    Examples
    --------
    >>> import tempfile
    >>> from fairslm.models._testing import make_tiny_causal_lm
    >>> gen = load_generator(make_tiny_causal_lm(tempfile.mkdtemp()))
    >>> out = gen.generate(["Bio: she is a surgeon. Summary:"], DecodingSettings(max_new_tokens=5))
    >>> len(out), len(out[0])
    (1, 1)
    """

    kind = "hf-causal-lm-generator"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        chat: bool | None = None,
        system: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_length: int | None = None,
        max_batch_tokens: int | None = DEFAULT_MAX_BATCH_TOKENS,
        num_threads: int | None = None,
        cache: bool | GenerationCache = True,
        cache_dir: str | Path | None = None,
        model_dir: Path | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size}")
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if chat and not has_template:
            raise ConfigError(
                "chat=True but the tokenizer has no chat template; pass chat=False (--no-chat) "
                "to feed the prompt as plain text"
            )
        if system is not None and not (chat or (chat is None and has_template)):
            raise ConfigError("a system message needs a chat model (a tokenizer chat template)")
        self.model = model
        self.tokenizer = tokenizer
        self.chat = has_template if chat is None else bool(chat)
        self.system = system
        self.batch_size = int(batch_size)
        self.max_length = model_max_length(tokenizer, model.config, max_length)
        self.max_batch_tokens = max_batch_tokens
        self.num_threads = num_threads
        self.model_dir = model_dir
        if isinstance(cache, GenerationCache):
            self.cache: GenerationCache | None = cache
        else:
            self.cache = GenerationCache(cache_dir) if (cache or cache_dir is not None) else None
        pad = tokenizer.pad_token_id
        self._pad_id = int(pad if pad is not None else (tokenizer.eos_token_id or 0))
        self.eos_ids = self._eos_ids()
        self.last_run_: dict[str, Any] = {}
        self._fingerprint: str | None = None
        # Only the last position's logits are needed: skipping the rest saves a
        # (prompt length x vocabulary) matrix per row on the first step.
        params = inspect.signature(model.forward).parameters
        self._keep_arg = "logits_to_keep" in params
        # transformers 5 renamed the key/value cache argument and output field to "cache".
        self._cache_name = "cache" if "cache" in params else "past_key_values"

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        gen_config = getattr(self.model, "generation_config", None)
        for source in (getattr(gen_config, "eos_token_id", None),
                       getattr(self.model.config, "eos_token_id", None),
                       self.tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif isinstance(source, (list, tuple)):
                ids.update(int(i) for i in source)
        return ids

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | Path,
        *,
        trust_remote_code: bool = False,
        device: str | None = None,
        **kwargs: Any,
    ) -> HFTextGenerator:
        """Load a causal LM saved with ``save_pretrained`` (or by :func:`import_gguf`)."""
        model_dir = Path(model_dir)
        if model_dir.is_dir() and (model_dir / "config.json").is_file():
            archs = read_config(model_dir).get("architectures") or []
            if archs and not any(a.endswith("ForCausalLM") for a in archs):
                raise ModelLoadError(
                    f"the model in {model_dir} is a {', '.join(archs)}, not a causal (decoder) "
                    "language model, so it cannot write texts. A generation audit needs a model "
                    "saved as ...ForCausalLM (Llama, Qwen2, SmolLM, ...); import a GGUF file "
                    "with `fairslm import-gguf`. To audit a classifier's decisions use "
                    "`fairslm counterfactual`"
                )
        model, tokenizer, _config, _info = load_pretrained(
            model_dir, "AutoModelForCausalLM", allow_pickle=False,
            trust_remote_code=trust_remote_code, device=device,
        )
        if not hasattr(model, "get_output_embeddings") or model.get_output_embeddings() is None:
            raise ModelLoadError(f"the model in {model_dir} has no language-model head")
        return cls(model, tokenizer, model_dir=model_dir, **kwargs)

    # -- identity -----------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """SHA-256 of the weights, config, tokenizer, chat wrapping and length limit."""
        if self._fingerprint is None:
            if self.model_dir is not None:
                weights = sorted(p.name for p in self.model_dir.glob("*.safetensors"))
                model_part = files_digest(self.model_dir, ["config.json", *weights])
            else:
                model_part = state_digest(self.model)
            parts = [self.kind, model_part, tokenizer_digest(self.model_dir, self.tokenizer),
                     f"chat={self.chat}", f"system={self.system!r}",
                     f"max_length={self.max_length}", f"eos={sorted(self.eos_ids)}"]
            self._fingerprint = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return self._fingerprint

    # -- prompts ------------------------------------------------------------------------------
    def prompt_text(self, prompt: str) -> str:
        """The exact text fed to the model: ``prompt``, or its chat-template wrapping."""
        if not self.chat:
            return prompt
        messages = [{"role": "user", "content": prompt}]
        if self.system is not None:
            messages.insert(0, {"role": "system", "content": self.system})
        return str(self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        ))

    def _prompt_ids(self, texts: list[str], settings: DecodingSettings) -> list[list[int]]:
        if settings.max_new_tokens >= self.max_length:
            raise ConfigError(
                f"max_new_tokens={settings.max_new_tokens} leaves no room for a prompt within "
                f"the model's limit of {self.max_length} tokens; pass fewer new tokens"
            )
        # A chat template writes its own special tokens; plain prompts get the tokenizer's.
        ids = list(self.tokenizer(texts, add_special_tokens=not self.chat)["input_ids"])
        over = [i for i, row in enumerate(ids) if len(row) + settings.max_new_tokens > self.max_length]
        if over:
            i = over[0]
            raise InvalidDataError(
                f"{len(over)} of {len(ids)} prompts are too long to generate from: prompt {i} "
                f"has {len(ids[i])} tokens, and with max_new_tokens={settings.max_new_tokens} "
                f"it would need {len(ids[i]) + settings.max_new_tokens}, past the model's limit "
                f"of {self.max_length} tokens. Shorten those texts (or the template), or lower "
                "max_new_tokens"
            )
        return ids

    # -- decoding -----------------------------------------------------------------------------
    def _pick(self, logits: Any, generators: list[Any] | None, settings: DecodingSettings) -> Any:
        import torch

        logits = logits.float().cpu()
        if generators is None:
            return logits.argmax(dim=-1)
        logits = logits / settings.temperature
        if settings.top_k and settings.top_k < logits.shape[-1]:
            kth = torch.topk(logits, settings.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        if settings.top_p < 1.0:
            sorted_p, order = probs.sort(dim=-1, descending=True)
            # keep a token while the mass of the tokens before it is below top_p
            drop = (sorted_p.cumsum(dim=-1) - sorted_p) >= settings.top_p
            sorted_p = sorted_p.masked_fill(drop, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        return torch.stack([
            torch.multinomial(probs[r], 1, generator=g)[0] for r, g in enumerate(generators)
        ])

    def _decode_batch(
        self, rows: list[list[int]], seeds: list[int] | None, settings: DecodingSettings
    ) -> list[tuple[list[int], bool]]:
        """Generate for each row; returns (new token ids without EOS, stopped by EOS).

        A row that ends leaves the batch (its key/value cache rows are dropped), so the rest
        of the batch does not pay for it until the longest output is done.
        """
        import torch

        device = next(self.model.parameters()).device
        ids, mask, pos = pad_left(rows, self._pad_id)
        ids, mask, pos = ids.to(device), mask.to(device), pos.to(device)
        generators = None
        if seeds is not None:
            generators = [torch.Generator().manual_seed(s) for s in seeds]
        tokens: list[list[int]] = [[] for _ in rows]
        done = [False] * len(rows)
        active = list(range(len(rows)))  # the input row of each batch row
        extra: dict[str, Any] = {"logits_to_keep": 1} if self._keep_arg else {}
        for _ in range(settings.max_new_tokens):
            out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos,
                             use_cache=True, **extra)
            cache = getattr(out, self._cache_name)
            extra[self._cache_name] = cache
            gens = None if generators is None else [generators[r] for r in active]
            picked = self._pick(out.logits[:, -1, :], gens, settings).tolist()
            keep: list[int] = []
            for b, (r, tok) in enumerate(zip(active, picked, strict=True)):
                if done[r]:
                    continue
                if tok in self.eos_ids:
                    done[r] = True
                else:
                    tokens[r].append(int(tok))
                    keep.append(b)
            if not keep:
                break
            kept = set(keep)
            nxt = [picked[b] if b in kept else self._pad_id for b in range(len(active))]
            if len(keep) < len(active) and hasattr(cache, "batch_select_indices"):
                index = torch.tensor(keep, dtype=torch.long, device=device)
                cache.batch_select_indices(index)
                mask, pos = mask[index], pos[index]
                nxt = [picked[b] for b in keep]
                active = [active[b] for b in keep]
            ids = torch.tensor(nxt, dtype=torch.long, device=device)[:, None]
            ones = torch.ones((len(nxt), 1), dtype=mask.dtype, device=device)
            mask = torch.cat([mask, ones], dim=1)
            pos = pos[:, -1:] + 1
        return list(zip(tokens, done, strict=True))

    def generate(
        self,
        prompts: Sequence[str],
        settings: DecodingSettings | None = None,
        *,
        streams: Sequence[str] | None = None,
    ) -> list[list[str]]:
        """Write ``settings.n_samples`` outputs for each prompt.

        Parameters
        ----------
        prompts : sequence of str
        settings : DecodingSettings, optional
            Default greedy, 64 new tokens.
        streams : sequence of str, optional
            Per prompt, the name of its random stream when sampling (default: the prompt
            itself). Prompts given the same stream draw the same random numbers: a prompt and
            its counterfactual share one, so that a model that ignores the swapped words writes
            the same texts for both (common random numbers).

        Returns
        -------
        list of list of str
            Per prompt, its outputs (special tokens removed, surrounding white space stripped).
            ``last_run_`` holds ``cut`` (per output: stopped by ``max_new_tokens`` rather than
            the end-of-sequence token), ``n_generated``, ``n_cached`` and ``seconds``.
        """
        import torch

        start = time.perf_counter()
        settings = settings or DecodingSettings()
        items = check_texts(prompts)
        if streams is not None and len(streams) != len(items):
            raise ConfigError(f"streams has {len(streams)} entries for {len(items)} prompts")
        texts = [self.prompt_text(p) for p in items]
        names = list(streams) if streams is not None else texts
        fp = self.fingerprint()
        keys = [generation_key(fp, settings, t, s) for t, s in zip(texts, names, strict=True)]
        found = self.cache.get(keys) if self.cache is not None else {}
        todo: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in found and k not in todo:
                todo[k] = i
        if todo:
            firsts = list(todo.values())
            ids = self._prompt_ids([texts[i] for i in firsts], settings)
            rows = [(j, s) for j in range(len(firsts)) for s in range(settings.n_samples)]
            results: dict[tuple[int, int], tuple[list[int], bool]] = {}
            left = dict.fromkeys(range(len(firsts)), settings.n_samples)
            new: dict[str, Any] = {}
            was_training = self.model.training
            self.model.eval()
            try:
                with torch_threads(self.num_threads), torch.inference_mode():
                    lengths = [len(ids[j]) + settings.max_new_tokens for j, _ in rows]
                    for batch in length_batches(lengths, self.batch_size, self.max_batch_tokens):
                        chosen = [rows[int(b)] for b in batch]
                        seeds = None if settings.greedy else [
                            stream_seed(settings.seed, names[firsts[j]], s) for j, s in chosen
                        ]
                        outs = self._decode_batch([ids[j] for j, _ in chosen], seeds, settings)
                        results.update(zip(chosen, outs, strict=True))
                        finished: dict[str, Any] = {}
                        for j, _ in chosen:
                            left[j] -= 1
                            if left[j] == 0:
                                finished[keys[firsts[j]]] = self._entry(results, j, settings)
                        # Cached as each prompt completes: an interrupted run keeps its work.
                        if finished and self.cache is not None:
                            self.cache.put(finished)
                        new.update(finished)
            finally:
                self.model.train(was_training)
            found = {**found, **new}
        self.last_run_ = {
            "n_prompts": len(items),
            "n_generated": len(todo),
            "n_cached": len(items) - sum(1 for k in keys if k in todo),
            "cut": [list(found[k]["cut"]) for k in keys],
            "seconds": time.perf_counter() - start,
        }
        return [list(found[k]["texts"]) for k in keys]

    def _entry(self, results: dict[tuple[int, int], tuple[list[int], bool]], j: int,
               settings: DecodingSettings) -> dict[str, Any]:
        """The cached form of prompt ``j``'s outputs: texts and whether the limit cut each."""
        samples = [results[(j, s)] for s in range(settings.n_samples)]
        return {
            "texts": [self.tokenizer.decode(t, skip_special_tokens=True).strip()
                      for t, _ in samples],
            "cut": [not stopped for _, stopped in samples],
        }

    def __repr__(self) -> str:
        where = f", model_dir={str(self.model_dir)!r}" if self.model_dir is not None else ""
        return f"HFTextGenerator(chat={self.chat}{where})"


def load_generator(source: Any, **kwargs: Any) -> Any:
    """A text generator from a model directory, or ``source`` itself when it already is one.

    Parameters
    ----------
    source : path or generator
        A directory holding a causal LM saved with ``save_pretrained`` (or written by
        :func:`import_gguf`), or any object with ``generate(prompts, settings, streams=...)``.
    **kwargs
        Passed to :class:`HFTextGenerator` (``chat``, ``system``, ``batch_size``,
        ``max_length``, ``num_threads``, ``cache``, ``cache_dir``, ``device``, ...).
    """
    if callable(getattr(source, "generate", None)) and not isinstance(source, (str, Path)):
        if kwargs:
            raise ConfigError(
                f"options {sorted(kwargs)} apply to a model loaded from a directory, not to a "
                f"{type(source).__name__} object"
            )
        return source
    if not isinstance(source, (str, Path)):
        raise ConfigError(
            f"cannot generate with a {type(source).__name__}; pass a model directory or an "
            "object with generate(prompts, settings)"
        )
    path = Path(source).expanduser()
    if not path.exists():
        raise ModelLoadError(
            f"model path {str(source)!r} does not exist; pass a directory holding a causal LM "
            "saved with save_pretrained (import a .gguf file with `fairslm import-gguf`)"
        )
    if path.is_file():
        hint = " (a GGUF file: import it first with `fairslm import-gguf`)" if path.suffix == ".gguf" else ""
        raise ModelLoadError(
            f"{path} is a file{hint}; a generation audit needs the model directory holding "
            "config.json and model.safetensors"
        )
    read_metadata(path)  # a broken fairslm.json is reported here, not deep in a load
    return HFTextGenerator.from_pretrained(path, **kwargs)

