"""All-gather of per-view tensors across DDP ranks, with gradients flowing back to each rank's own part.

Losses take the local views as anchors and every rank's views as candidates. Each rank's loss is
normalised by the global anchor count times the world size, so DDP's gradient averaging over ranks
yields exactly the gradient of the single-process loss over the global batch. Ranks may hold different
numbers of views (rows are padded for the collective and trimmed after). Without an initialised process
group (or with one rank) everything is the identity.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.distributed as dist
from torch.autograd.function import FunctionCtx


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` when none is initialised."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _sizes(n: int, device: torch.device) -> list[int]:
    _, size = world()
    mine = torch.tensor([n], dtype=torch.int64, device=device)
    everyone = [torch.zeros_like(mine) for _ in range(size)]
    dist.all_gather(everyone, mine)
    return [int(s.item()) for s in everyone]


def _gather_rows(x: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    padded = x.new_zeros((max(sizes), *x.shape[1:]))
    padded[: x.shape[0]] = x
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    return torch.cat([part[:n] for part, n in zip(parts, sizes, strict=True)])


class _GatherWithGrad(torch.autograd.Function):
    """Forward: concatenate every rank's rows. Backward: sum the gradient over ranks, keep own rows."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor, sizes: list[int], rank: int) -> torch.Tensor:
        ctx.start = sum(sizes[:rank])
        ctx.n = sizes[rank]
        return _gather_rows(x, sizes)

    @staticmethod
    def backward(ctx: FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.start : ctx.start + ctx.n], None, None


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` [n_r, ...] from all ranks, concatenated in rank order; differentiable w.r.t. ``x``."""
    rank, size = world()
    if size == 1:
        return x
    return _GatherWithGrad.apply(x, _sizes(x.shape[0], x.device), rank)


def gather_no_grad(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` from all ranks, concatenated in rank order, detached (ids, descriptors, flags)."""
    _, size = world()
    if size == 1:
        return x
    x = x.detach()
    return _gather_rows(x, _sizes(x.shape[0], x.device))


def sum_over_ranks(x: torch.Tensor) -> torch.Tensor:
    """Sum of ``x`` over all ranks (detached; e.g. a count that normalises a loss)."""
    _, size = world()
    if size == 1:
        return x.detach()
    total = x.detach().clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


class GatheredViews(NamedTuple):
    """Global candidates and where this rank's views sit among them.

    ``z`` [M, D] (differentiable), ``pair``/``clip`` int64 [M] made unique across ranks as
    ``id · world_size + rank`` (``clip`` may be None), ``descriptors`` [M, Dd] and ``valid`` bool [M]
    (or None),
    ``anchors`` int64 [m]: rows of this rank's views in the global tensors.
    """

    z: torch.Tensor
    pair: torch.Tensor
    clip: torch.Tensor | None
    descriptors: torch.Tensor | None
    valid: torch.Tensor | None
    anchors: torch.Tensor


def gather_views(
    z: torch.Tensor,
    pair: torch.Tensor,
    clip: torch.Tensor | None = None,
    descriptors: torch.Tensor | None = None,
    valid: torch.Tensor | None = None,
) -> GatheredViews:
    """Gather this rank's views (``z`` [m, D], batch-local ``pair``/``clip`` ids [m]) from every rank.

    ``clip``, ``descriptors`` and ``valid`` are optional and come back as None when not given.
    """
    rank, size = world()
    if size == 1:
        return GatheredViews(z, pair, clip, descriptors, valid, torch.arange(z.shape[0], device=z.device))
    sizes = _sizes(z.shape[0], z.device)
    start = sum(sizes[:rank])
    return GatheredViews(
        z=_GatherWithGrad.apply(z, sizes, rank),
        pair=_gather_rows(pair * size + rank, sizes),
        clip=None if clip is None else _gather_rows(clip * size + rank, sizes),
        descriptors=None if descriptors is None else _gather_rows(descriptors.detach(), sizes),
        valid=None if valid is None else _gather_rows(valid.to(torch.uint8), sizes).bool(),
        anchors=torch.arange(start, start + z.shape[0], device=z.device),
    )
