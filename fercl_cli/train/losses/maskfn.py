"""MaskFN: false-negative cancellation with a frozen mouth-eye descriptor.

Shu et al., *Revisiting Self-Supervised Contrastive Learning for Facial Expression Recognition*,
BMVC 2022. Per anchor i with positive p(i), candidate negatives N_i = all k ≠ i, p(i), descriptor
cosine similarity c_ik between the views' source frames, τ = 0.07, λ = 0.8:

- ``top1`` (paper): j* = argmax_{k∈N_i} c_ik; N'_i = N_i \\ {j*};
  L1_i = −log( e^{s_ip} / (e^{s_ip} + Σ_{k∈N'_i} e^{s_ik}) ),
  L2_i = −log( e^{s_ij*} / (e^{s_ij*} + Σ_{k∈N'_i} e^{s_ik}) ),  s_ik = z_i·z_k/τ;
  L = mean_i L1_i + λ · mean_{i with a j*} L2_i.
- ``top1-other-clip``: as ``top1`` but j* is searched only among other clips' views, so the anchor's
  own HardNeg far frames are never cancelled (recommended with HardNeg; equals ``top1`` without it).
- ``threshold``: every k ∈ N_i with c_ik > threshold (0.5) is removed from the denominator (set to
  −inf, not to a logit of 0 as in the released code); L = mean_i L1_i, no attraction term.
- ``threshold-other-clip``: as ``threshold``, only other clips' views are removed (the released
  threshold code likewise kept the hard negatives).

Views whose descriptor is invalid (no landmarks) never match and never search. Ties go to the lowest
row. Works for any batch size and under DDP (candidates gathered across ranks).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from fercl_cli.choices import MASK_FN_MODES, MaskFNMode
from fercl_cli.train.losses.gather import gather_views, sum_over_ranks, world
from fercl_cli.train.losses.masks import check_views, contrast

MASKFN_MODES: tuple[MaskFNMode, ...] = tuple(mode for mode in MASK_FN_MODES if mode != "off")
"""The modes this loss computes: every ``--mask-fn`` value but ``off`` (plain InfoNCE)."""


class MaskFNTerms(NamedTuple):
    """Per-anchor terms, all [Q]: ``l1`` (false negatives out of the denominator), ``l2`` (attraction to
    j*, 0 where there is none and in threshold modes), ``matched`` bool (a false negative was found)."""

    l1: torch.Tensor
    l2: torch.Tensor
    matched: torch.Tensor


class MaskFNOutput(NamedTuple):
    """``loss`` (differentiable scalar) and, detached for logging over this rank's anchors, the mean
    ``l1``, the mean ``l2`` over matched anchors and the fraction of anchors that found a false negative."""

    loss: torch.Tensor
    l1: torch.Tensor
    l2: torch.Tensor
    matched: torch.Tensor


def _check_mode(mode: str, threshold: float) -> None:
    if mode not in MASKFN_MODES:
        raise ValueError(f"MaskFN mode must be one of {MASKFN_MODES}, got {mode!r}")
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold is a cosine similarity and must lie in [-1, 1], got {threshold}")


def false_negatives(
    descriptors: torch.Tensor,
    valid: torch.Tensor,
    clip: torch.Tensor,
    is_self: torch.Tensor,
    is_positive: torch.Tensor,
    anchors: torch.Tensor,
    mode: str,
    threshold: float = 0.5,
) -> torch.Tensor:
    """Bool [Q, M]: the candidates each anchor treats as false negatives under ``mode``.

    ``descriptors`` float [M, Dd] (any scale: cosine similarity, computed in float64, rounded to
    float32), ``valid`` bool [M], ``clip`` int [M]; ``is_self``/``is_positive`` [Q, M] and ``anchors``
    [Q] as in :func:`fercl_cli.train.losses.masks.contrast`.
    """
    _check_mode(mode, threshold)
    with torch.no_grad():
        # float64 product rounded to float32: identical descriptors tie exactly, so the lowest row wins.
        unit = F.normalize(descriptors.double(), dim=1)
        similarity = (unit[anchors] @ unit.T).float()
        candidate = ~is_self & ~is_positive & valid[None, :] & valid[anchors, None]
        if mode.endswith("other-clip"):
            candidate &= clip[anchors, None] != clip[None, :]
        if mode.startswith("threshold"):
            return candidate & (similarity > threshold)
        best = similarity.masked_fill(~candidate, float("-inf")).argmax(dim=1)
        found = candidate.any(dim=1)
        chosen = torch.zeros_like(candidate)
        rows = torch.arange(anchors.shape[0], device=anchors.device)
        chosen[rows[found], best[found]] = True
        return chosen


def _check_descriptors(
    z: torch.Tensor, clip: torch.Tensor, descriptors: torch.Tensor, valid: torch.Tensor
) -> None:
    m = z.shape[0]
    if clip.shape != (m,) or clip.is_floating_point():
        raise ValueError(f"clip must be integer ids of shape [{m}] (one per view), got {tuple(clip.shape)}")
    if descriptors.ndim != 2 or descriptors.shape[0] != m or not descriptors.is_floating_point():
        raise ValueError(
            f"descriptors must be float [{m}, Dd] (one per view), got {tuple(descriptors.shape)}"
        )
    if valid.shape != (m,) or valid.dtype != torch.bool:
        raise ValueError(f"valid must be bool of shape [{m}] (one flag per view), got {tuple(valid.shape)}")


def maskfn_terms(
    z: torch.Tensor,
    pair: torch.Tensor,
    clip: torch.Tensor,
    descriptors: torch.Tensor,
    valid: torch.Tensor,
    *,
    anchors: torch.Tensor | None = None,
    mode: str = "top1-other-clip",
    tau: float = 0.07,
    threshold: float = 0.5,
) -> MaskFNTerms:
    """Per-anchor MaskFN terms for the ``anchors`` rows of ``z`` (default all) against all rows.

    ``z`` float [M, D] L2-normalised; ``pair`` int [M] (two views per id); ``clip`` int [M] source clip
    per view; ``descriptors`` float [M, Dd] of each view's source frame; ``valid`` bool [M].
    """
    anchors = check_views(z, pair, anchors, tau)
    _check_descriptors(z, clip, descriptors, valid)
    c = contrast(z, pair, anchors, tau)
    fn = false_negatives(descriptors, valid, clip, c.is_self, c.is_positive, anchors, mode, threshold)
    rest = torch.logsumexp(c.logits.masked_fill(c.is_self | c.is_positive | fn, float("-inf")), dim=1)
    l1 = torch.logaddexp(c.positive_logit, rest) - c.positive_logit
    matched = fn.any(dim=1)
    if mode.startswith("threshold"):
        return MaskFNTerms(l1, torch.zeros_like(l1), matched)
    fn_logit = c.logits.masked_fill(~fn, 0).sum(dim=1)
    l2 = torch.where(matched, torch.logaddexp(fn_logit, rest) - fn_logit, torch.zeros_like(l1))
    return MaskFNTerms(l1, l2, matched)


def maskfn_loss(
    z: torch.Tensor,
    pair: torch.Tensor,
    clip: torch.Tensor,
    descriptors: torch.Tensor,
    valid: torch.Tensor,
    *,
    mode: str = "top1-other-clip",
    tau: float = 0.07,
    lam: float = 0.8,
    threshold: float = 0.5,
) -> torch.Tensor:
    """Single-process MaskFN loss over all views: mean L1 + λ · mean L2 over anchors with a j*."""
    terms = maskfn_terms(z, pair, clip, descriptors, valid, mode=mode, tau=tau, threshold=threshold)
    n_matched = terms.matched.sum().clamp(min=1)
    return terms.l1.mean() + lam * terms.l2.sum() / n_matched


class MaskFNLoss(nn.Module):
    """MaskFN loss module (τ = 0.07, λ = 0.8, threshold 0.5 in the paper/code), DDP-aware.

    ``forward(z, pair, clip, descriptors, valid)`` takes this rank's views: ``z`` [m, D] L2-normalised,
    batch-local ``pair``/``clip`` ids [m] (see :func:`view_index`), ``descriptors`` [m, Dd] of each
    view's source frame and ``valid`` bool [m]; returns :class:`MaskFNOutput`. With
    ``gather_distributed`` the candidates are every rank's views and the loss is scaled so that DDP's
    gradient averaging gives the gradient of the global-batch loss. Example::

        pair, clip = view_index(batch_size=128, hard_neg=True, device=z.device)   # z: [512, 128]
        out = MaskFNLoss(mode="top1-other-clip", gather_distributed=True)(z, pair, clip, desc, valid)
        out.loss.backward()
    """

    def __init__(
        self,
        mode: str = "top1-other-clip",
        tau: float = 0.07,
        lam: float = 0.8,
        threshold: float = 0.5,
        gather_distributed: bool = False,
    ) -> None:
        super().__init__()
        _check_mode(mode, threshold)
        if not tau > 0:
            raise ValueError(f"temperature tau must be positive, got {tau}")
        if lam < 0:
            raise ValueError(f"lam weights the attraction term and must be non-negative, got {lam}")
        self.mode = mode
        self.tau = tau
        self.lam = lam
        self.threshold = threshold
        self.gather_distributed = gather_distributed

    def forward(
        self,
        z: torch.Tensor,
        pair: torch.Tensor,
        clip: torch.Tensor,
        descriptors: torch.Tensor,
        valid: torch.Tensor,
    ) -> MaskFNOutput:
        size = world()[1] if self.gather_distributed else 1
        if size > 1:
            _check_descriptors(z, clip, descriptors, valid)
            z, pair, clip, descriptors, valid, anchors = gather_views(z, pair, clip, descriptors, valid)
        else:
            anchors = None
        terms = maskfn_terms(
            z,
            pair,
            clip,
            descriptors,
            valid,
            anchors=anchors,
            mode=self.mode,
            tau=self.tau,
            threshold=self.threshold,
        )
        local_matched = terms.matched.sum()
        n_matched = (sum_over_ranks(local_matched) if size > 1 else local_matched).clamp(min=1)
        loss = terms.l1.sum() * size / z.shape[0] + self.lam * terms.l2.sum() * size / n_matched
        return MaskFNOutput(
            loss=loss,
            l1=terms.l1.detach().mean(),
            l2=terms.l2.detach().sum() / local_matched.clamp(min=1),
            matched=local_matched.float() / terms.l1.shape[0],
        )
