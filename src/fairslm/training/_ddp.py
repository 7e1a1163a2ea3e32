"""Data parallelism for :func:`fairslm.train`: the ranks torchrun starts, shards and gathers.

``torchrun --nproc_per_node N -m fairslm train ...`` starts N processes with ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK`` in their environment; :func:`joined` opens the process group
(NCCL on GPUs, gloo on CPUs) unless the caller already did (Spark's ``TorchDistributor``, a
user's script). Every global batch is the batch one process would draw; each rank trains on
every ``N``-th row of it (:meth:`Ranks.shard`), and every statistic the objective reads is summed
over the ranks (:func:`~fairslm.mitigation.inprocessing.sum_across_ranks`).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairslm.exceptions import ConfigError

__all__ = ["Ranks", "check_backend", "check_world_size", "joined", "world_size_from_env"]

_BACKENDS = ("gloo", "nccl")


def world_size_from_env() -> int:
    """The number of processes of this job: the open process group's, else what torchrun (or a
    launcher like it) put in ``WORLD_SIZE``; 1 when neither."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return int(dist.get_world_size())
    raw = os.environ.get("WORLD_SIZE", "1")
    try:
        return max(1, int(raw))
    except ValueError:
        raise ConfigError(f"WORLD_SIZE={raw!r} in the environment is not a number of processes") from None


def check_world_size(world_size: int, *, batch_size: int, smallest_cell: int, cell: str) -> None:
    """Refuse a world size the batches or the smallest (group, label) cell cannot feed."""
    if world_size > batch_size:
        raise ConfigError(
            f"batch_size = {batch_size} is the global batch, shared by {world_size} processes; "
            f"each needs at least one row of it. Raise batch_size to {world_size} or more, or "
            "start fewer processes"
        )
    if world_size > smallest_cell:
        raise ConfigError(
            f"{world_size} processes but the smallest (group, label) cell, {cell}, has only "
            f"{smallest_cell} training rows, so some processes never see it; start at most "
            f"{smallest_cell} processes, merge that group with another, or add rows"
        )


def check_backend(backend: str | None, processes_per_node: int) -> str:
    """The backend to train with: ``backend``, or NCCL when GPUs are visible and gloo otherwise.

    Refuses an unknown backend, NCCL without GPUs, and NCCL with more processes on a node than
    it has GPUs (NCCL runs one process per GPU).
    """
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    chosen = backend or ("nccl" if gpus else "gloo")
    if chosen not in _BACKENDS:
        raise ConfigError(f"unknown backend {chosen!r}; use 'nccl' on GPUs or 'gloo' on CPUs")
    if chosen == "nccl" and gpus == 0:
        raise ConfigError("backend 'nccl' needs GPUs and none is visible; use --backend gloo to "
                          "train on CPUs")
    if chosen == "nccl" and processes_per_node > gpus:
        raise ConfigError(
            f"{processes_per_node} processes on this machine but {gpus} GPU(s): NCCL runs one "
            f"process per GPU. Start {gpus}, or use --backend gloo to train on CPUs"
        )
    return chosen


@dataclass(frozen=True)
class Ranks:
    """This process's place in the job: its rank, how many there are, the backend."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """Whether this process writes (logs, checkpoints, the model)."""
        return self.rank == 0

    def device(self) -> Any:
        """The device this rank trains on: its GPU under NCCL, else the CPU (one process: the
        GPU when there is one)."""
        import torch

        if self.backend == "nccl" or (not self.active and torch.cuda.is_available()):
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    def shard(self, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """This rank's rows of a global batch, and the factor on their weights.

        Rank r takes rows ``r, r + N, r + 2N, ...``. The batches interleave the (group, label)
        cells evenly, so every shard keeps each cell's share. A batch with fewer rows than
        ranks leaves some ranks none; they run one row with weight 0 (factor 0), so they take
        part in the step without adding to it.
        """
        mine = rows[self.rank :: self.world_size]
        if len(mine):
            return mine, 1.0
        return rows[:1], 0.0

    def gather(self, local: np.ndarray, n: int) -> np.ndarray:
        """Reassemble, on every rank, the ``n`` rows of which each rank computed its
        :meth:`shard` (rows ``rank::world_size``; here never padded)."""
        if not self.active:
            return local
        import torch

        per = math.ceil(n / self.world_size)
        buf = torch.zeros((per, *local.shape[1:]), dtype=torch.float64)
        buf[: len(local)] = torch.as_tensor(local, dtype=torch.float64)
        parts = self._all_gather(buf)
        out = np.empty((n, *local.shape[1:]), dtype=np.float64)
        for r, part in enumerate(parts):
            out[r :: self.world_size] = part[: len(range(r, n, self.world_size))].numpy()
        return out

    def rng_states(self) -> list[dict[str, Any]]:
        """Every rank's random generator states (index = rank), on every rank."""
        import torch

        local = {"torch": torch.get_rng_state()}
        if self.device().type == "cuda":
            local["cuda"] = torch.cuda.get_rng_state(self.device())
        if not self.active:
            return [local]
        gathered = {k: self._all_gather(v) for k, v in local.items()}
        return [{k: v[r] for k, v in gathered.items()} for r in range(self.world_size)]

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    def _all_gather(self, tensor: Any) -> list[Any]:
        import torch
        import torch.distributed as dist

        dev = torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")
        t = tensor.to(dev).contiguous()
        parts = [torch.empty_like(t) for _ in range(self.world_size)]
        dist.all_gather(parts, t)
        return [p.cpu() for p in parts]


@contextlib.contextmanager
def joined(backend: str | None = None) -> Iterator[Ranks]:
    """The ranks of this job; opens (and at the end closes) the process group torchrun asks for.

    A process group the caller already opened is used as it is and left open.
    """
    import torch
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        yield Ranks(dist.get_rank(), dist.get_world_size(),
                    int(os.environ.get("LOCAL_RANK", dist.get_rank())), dist.get_backend())
        return
    world = world_size_from_env()
    if world == 1:
        yield Ranks()
        return
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    backend = check_backend(backend, per_node)
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend)
    try:
        yield Ranks(dist.get_rank(), dist.get_world_size(), local_rank, backend)
    finally:
        dist.destroy_process_group()
