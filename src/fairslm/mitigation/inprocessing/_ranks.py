"""Group statistics summed over the ranks of a distributed job.

Under data parallelism each rank sees a shard of the batch, and a small group may have no rows on
some ranks. A rate formed from one rank's rows is then a different number on every rank, and
none of them is the rate of the batch. So every fairness statistic is a *sum* (per group:
``sum w p``, ``sum w``, ...), summed over ranks before a rate is formed: each rank then holds the
rate of the whole batch, the same on all ranks.

The sum is differentiable. Its backward pass sums the incoming gradients over ranks, as the
backward of a sum of the ranks' inputs must: every rank holds the same global objective, so rank
r's statistics receive ``world_size`` times its gradient, and the averaging of gradients that
``DistributedDataParallel`` performs divides that factor out again. N ranks thus take the step of
one process on the same global batch.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["ranks_active", "sum_across_ranks"]


def ranks_active() -> bool:
    """Whether a ``torch.distributed`` process group with more than one rank is running."""
    import torch.distributed as dist

    return bool(dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1)


@functools.lru_cache(maxsize=1)
def _sum_function() -> Any:
    import torch
    import torch.distributed as dist

    def _collective_device() -> Any:
        # NCCL only reduces tensors on the GPU; gloo reduces CPU tensors.
        if dist.get_backend() == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")

    class _SumAcrossRanks(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.device = x.device
            out = x.detach().to(_collective_device(), copy=True).contiguous()
            dist.all_reduce(out)
            return out.to(x.device)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            out = grad.to(_collective_device(), copy=True).contiguous()
            dist.all_reduce(out)
            return out.to(ctx.device)

    return _SumAcrossRanks


def sum_across_ranks(x: Any) -> Any:
    """``x`` summed element-wise over all ranks of the default process group (differentiable).

    Returns ``x`` itself when no process group with more than one rank is running, so code that
    calls it runs unchanged in a single process. Every rank must call it, in the same order.

    Examples
    --------
    >>> import torch
    >>> sum_across_ranks(torch.tensor([1.0, 2.0]))  # a single process: the tensor itself
    tensor([1., 2.])
    """
    if not ranks_active():
        return x
    return _sum_function().apply(x)
