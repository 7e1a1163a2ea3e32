"""Length-sorted, dynamically padded batches for transformer inference on CPU or GPU.

Sorting texts by token count before batching means each batch is padded only to the longest
text in it, not to the longest text of the whole input, which is where most of the speed over a
plain per-text loop (or unsorted batches) comes from. Results are scattered back to input order.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_MAX_BATCH_TOKENS",
    "PROGRESS_MIN_TEXTS",
    "encode_truncated",
    "length_batches",
    "pad_left",
    "pad_right",
    "progress",
    "report_truncation",
    "run_batches",
    "torch_threads",
]

logger = logging.getLogger("fairslm.models")

# Padded tokens per batch: caps the activation memory of a batch of long texts on CPU (16 rows
# of 256 tokens); a GPU can take far more.
DEFAULT_MAX_BATCH_TOKENS = 4096

# A progress bar is shown only for runs at least this long (about a minute of MiniLM on one
# CPU thread); shorter runs finish before a bar would be useful.
PROGRESS_MIN_TEXTS = 2000


def encode_truncated(
    tokenizer: Any, texts: Sequence[str], max_length: int
) -> tuple[list[list[int]], int]:
    """Token ids of each text (special tokens added, cut to ``max_length``), and how many were cut."""
    enc = tokenizer(
        list(texts), truncation=True, max_length=max_length, add_special_tokens=True, verbose=False
    )
    ids: list[list[int]] = enc["input_ids"]
    encodings = getattr(enc, "encodings", None)
    if encodings is not None:
        n_cut = sum(1 for e in encodings if e.overflowing)
    else:  # a slow (pure Python) tokenizer keeps no overflow record: count by re-encoding
        full = tokenizer(list(texts), add_special_tokens=True, verbose=False)["input_ids"]
        n_cut = sum(1 for a in full if len(a) > max_length)
    return ids, n_cut


def length_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int | None = None
) -> list[np.ndarray]:
    """Indices grouped into batches of similar length, longest first.

    A batch holds at most ``batch_size`` rows and, when ``max_tokens`` is set, at most that
    many padded tokens (rows x longest row), so batches of long texts get fewer rows. Longest
    first makes the largest allocation happen at the start, so a batch that does not fit in
    memory fails at once rather than at the end of a long run.

    Examples
    --------
    >>> [b.tolist() for b in length_batches([3, 9, 5, 9], batch_size=2)]
    [[1, 3], [2, 0]]
    >>> [b.tolist() for b in length_batches([3, 9, 5, 9], batch_size=4, max_tokens=18)]
    [[1, 3], [2, 0]]
    """
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    if max_tokens is None:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        width = max(int(lengths[order[start]]), 1)  # the first row is the longest
        rows = max(1, min(batch_size, max_tokens // width))
        batches.append(order[start : start + rows])
        start += rows
    return batches


def pad_right(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """``input_ids`` and ``attention_mask`` tensors, padded on the right to the longest row."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.as_tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask


def pad_left(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any, Any]:
    """``input_ids``, ``attention_mask`` and ``position_ids``, padded on the left.

    Left padding lines every row's last token up at the right edge, where a causal LM's next
    token is read; positions count real tokens only, so each row sees the positions it would
    see alone.
    """
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if len(r):
            ids[i, width - len(r) :] = torch.as_tensor(r, dtype=torch.long)
            mask[i, width - len(r) :] = 1
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    return ids, mask, positions


@contextlib.contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(num_threads)``, restoring the old value."""
    if num_threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(int(num_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def progress(items: Sequence[Any], *, total_texts: int, show: bool | None, desc: str) -> Any:
    """Wrap ``items`` in a tqdm bar when the run is long (or ``show`` is True)."""
    if show is False or (show is None and total_texts < PROGRESS_MIN_TEXTS):
        return items
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the bar is a nicety; scoring goes on without it
        return items
    return tqdm(items, desc=desc, unit="batch", leave=False)


def report_truncation(n_cut: int, n_texts: int, max_length: int) -> None:
    """Log how many texts were cut to ``max_length`` tokens (a logged warning, not a Python one)."""
    if n_cut:
        logger.warning(
            "%d of %d texts were longer than max_length=%d tokens and were truncated; their "
            "scores only see the first %d tokens. Raise max_length (up to the model's limit) "
            "to score them whole",
            n_cut,
            n_texts,
            max_length,
            max_length,
        )


def run_batches(
    lengths: Sequence[int],
    forward: Callable[[np.ndarray], np.ndarray],
    *,
    batch_size: int,
    max_tokens: int | None = None,
    show_progress: bool | None,
    desc: str,
) -> np.ndarray:
    """Call ``forward(indices)`` on length-sorted batches; its rows come back in input order."""
    batches = length_batches(lengths, batch_size, max_tokens)
    out: np.ndarray | None = None
    for idx in progress(batches, total_texts=len(lengths), show=show_progress, desc=desc):
        rows = forward(idx)
        if out is None:
            out = np.empty((len(lengths), *rows.shape[1:]), dtype=np.float64)
        out[idx] = rows
    if out is None:  # pragma: no cover - callers never pass an empty input
        raise ValueError("run_batches needs at least one row")
    return out
