"""Decoding settings and a cache of generated texts keyed by (model, prompt, settings)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fairslm.exceptions import ConfigError
from fairslm.models._cache import DiskBackedCache, open_cache_db

__all__ = ["DEFAULT_MAX_NEW_TOKENS", "DecodingSettings", "GenerationCache", "generation_key"]

# One or two sentences (a summary, an explanation, a triage note) fit in 64 tokens of a
# byte-level BPE vocabulary; longer outputs are cut there and counted.
DEFAULT_MAX_NEW_TOKENS = 64
_DB_NAME = "fairslm-generations.sqlite"


@dataclass(frozen=True)
class DecodingSettings:
    """How texts are generated: fixed, recorded with every result.

    Parameters
    ----------
    max_new_tokens : int, default 64
        Tokens generated at most per output; outputs that reach it are cut and counted.
    temperature : float, default 0.0
        0 is greedy decoding (the most probable token at each step, one output per prompt).
        A positive value samples from the softmax of the logits divided by it (1.0 is the
        model's own distribution).
    top_p : float, default 1.0
        Nucleus sampling: draw from the smallest set of tokens whose probabilities sum to at
        least ``top_p`` (Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration",
        ICLR); 1.0 keeps every token.
    top_k : int, default 0
        Draw from the ``top_k`` most probable tokens only; 0 keeps every token.
    n_samples : int, default 1
        Outputs per prompt (sampling only).
    seed : int, default 0
        Seeds the random stream of each sample (see :class:`~fairslm.models.HFTextGenerator`).

    Examples
    --------
    >>> DecodingSettings().greedy
    True
    >>> DecodingSettings(temperature=0.7, n_samples=5).to_dict()["n_samples"]
    5
    """

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    n_samples: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be a positive integer, got {self.max_new_tokens!r}")
        if not self.temperature >= 0:
            raise ConfigError(
                f"temperature must be >= 0 (0: greedy decoding), got {self.temperature!r}"
            )
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p!r}")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise ConfigError(f"top_k must be an integer >= 0 (0: no limit), got {self.top_k!r}")
        if not isinstance(self.n_samples, int) or self.n_samples < 1:
            raise ConfigError(f"n_samples must be a positive integer, got {self.n_samples!r}")
        if self.greedy and self.n_samples > 1:
            raise ConfigError(
                f"n_samples={self.n_samples} with greedy decoding (temperature=0) would give "
                f"{self.n_samples} identical outputs; pass a temperature > 0 to sample, e.g. "
                "temperature=1.0 (the model's own distribution)"
            )

    @property
    def greedy(self) -> bool:
        """True for greedy decoding (temperature 0)."""
        return self.temperature == 0

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict, with the decoding method named."""
        return {"method": "greedy" if self.greedy else "sampling", **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecodingSettings:
        return cls(**{k: v for k, v in data.items() if k != "method"})

    def key(self) -> str:
        """A hash of everything that decides the outputs (the seed only when sampling)."""
        fields = asdict(self)
        if self.greedy:  # greedy outputs do not depend on the seed or the sampling filters
            fields = {"max_new_tokens": self.max_new_tokens, "greedy": True}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def generation_key(fingerprint: str, settings: DecodingSettings, prompt: str, stream: str) -> str:
    """Cache key of one prompt's outputs: model, settings, prompt and (sampling) stream."""
    parts = [fingerprint, settings.key(), prompt, "" if settings.greedy else stream]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class GenerationCache(DiskBackedCache):
    """Generated outputs (any JSON value per prompt) kept in memory and, optionally, on disk.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Directory for a SQLite file that keeps the outputs across runs; ``None`` keeps them in
        memory only.

    Examples
    --------
    >>> cache = GenerationCache()
    >>> cache.put({"k1": {"texts": ["A surgeon with ten years of experience."]}})
    >>> cache.get(["k1", "k2"])
    {'k1': {'texts': ['A surgeon with ten years of experience.']}}
    """

    def __init__(self, cache_dir: str | Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._memory: dict[str, str] = {}  # JSON text: callers get fresh copies
        self._lock = threading.Lock()
        self._db = open_cache_db(
            cache_dir, _DB_NAME,
            "CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, outputs TEXT NOT NULL)",
        )

    def __len__(self) -> int:
        return len(self._memory)

    def get(self, keys: Sequence[str]) -> dict[str, Any]:
        """The cached outputs of those ``keys`` that are known."""
        with self._lock:
            found = {k: json.loads(self._memory[k]) for k in keys if k in self._memory}
            missing = [k for k in keys if k not in found]
            if self._db is not None:
                for start in range(0, len(missing), 500):  # SQLite caps bound parameters
                    chunk = missing[start : start + 500]
                    rows = self._db.execute(
                        f"SELECT key, outputs FROM generations WHERE key IN "
                        f"({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                    for key, text in rows:
                        self._memory[key] = text
                        found[key] = json.loads(text)
        return found

    def put(self, outputs: Mapping[str, Any]) -> None:
        """Store the outputs of each key."""
        rows = [(k, json.dumps(v)) for k, v in outputs.items()]
        with self._lock:
            self._memory.update(rows)
            if self._db is not None:
                self._db.executemany("INSERT OR REPLACE INTO generations VALUES (?, ?)", rows)
                self._db.commit()
