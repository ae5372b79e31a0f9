"""Shared core of the contrastive losses: argument checks, anchor-vs-candidate logits, self/positive masks."""

from __future__ import annotations

from typing import NamedTuple

import torch

NORM_TOLERANCE = 1e-2  # loose enough for float16/bfloat16 projections


class Contrast(NamedTuple):
    """Anchor rows against all candidates: ``logits`` [Q, M] = z_anchor · z / τ (float32 or wider),
    ``is_self`` and ``is_positive`` bool [Q, M], ``positive_logit`` [Q]."""

    logits: torch.Tensor
    is_self: torch.Tensor
    is_positive: torch.Tensor
    positive_logit: torch.Tensor


def check_views(
    z: torch.Tensor, pair: torch.Tensor, anchors: torch.Tensor | None, tau: float
) -> torch.Tensor:
    """Validate the common arguments; returns ``anchors`` (all rows when None) as int64 [Q]."""
    if z.ndim != 2 or not z.is_floating_point():
        raise ValueError(f"z must be float [M, D] projections, got {tuple(z.shape)} {z.dtype}")
    if pair.shape != (z.shape[0],) or pair.is_floating_point():
        raise ValueError(
            f"pair must be integer ids of shape [{z.shape[0]}] (one per view), got {tuple(pair.shape)}"
        )
    if not tau > 0:
        raise ValueError(f"temperature tau must be positive, got {tau}")
    norms = z.detach().norm(dim=1)
    if not torch.allclose(norms, torch.ones_like(norms), atol=NORM_TOLERANCE):
        raise ValueError("z must be L2-normalised per row (the model's projections are); normalise first")
    if anchors is None:
        return torch.arange(z.shape[0], device=z.device)
    if anchors.ndim != 1 or anchors.is_floating_point():
        raise ValueError(f"anchors must be a 1-D integer index of rows of z, got {tuple(anchors.shape)}")
    if anchors.numel() and (anchors.min() < 0 or anchors.max() >= z.shape[0]):
        raise ValueError(f"anchors must index rows 0..{z.shape[0] - 1} of z")
    return anchors


def contrast(z: torch.Tensor, pair: torch.Tensor, anchors: torch.Tensor, tau: float) -> Contrast:
    """Logits and masks for ``anchors``; every anchor must have exactly one positive (same pair id)."""
    if z.dtype in (torch.float16, torch.bfloat16):
        z = z.float()
    logits = z[anchors] @ z.T / tau
    rows = torch.arange(anchors.shape[0], device=z.device)
    is_self = torch.zeros_like(logits, dtype=torch.bool)
    is_self[rows, anchors] = True
    is_positive = (pair[anchors, None] == pair[None, :]) & ~is_self
    if not bool((is_positive.sum(dim=1) == 1).all()):
        raise ValueError("every view's pair id must be shared with exactly one other view (its positive)")
    positive_logit = logits.masked_fill(~is_positive, 0).sum(dim=1)
    return Contrast(logits, is_self, is_positive, positive_logit)
