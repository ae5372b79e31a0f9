"""InfoNCE (NT-Xent) over the paper's pairs of views.

Shu et al., *Revisiting Self-Supervised Contrastive Learning for Facial Expression Recognition*,
BMVC 2022: B clips give views ``[A, NA, P, NP]``; InfoNCE runs over the 2·(2B) views with positive pairs
(A, P) and (NA, NP), so every anchor sees its own clip's far frames among its negatives (HardNeg). With
HardNeg off the views are ``[A, P]``. For anchor i with positive p(i) and τ = 0.07:

    ℓ_i = −log( e^{z_i·z_p(i)/τ} / Σ_{k≠i} e^{z_i·z_k/τ} )

Works for any batch size (short last batch, B = 1) and under DDP (negatives gathered across ranks).
"""

from __future__ import annotations

import torch
from torch import nn

from fercl_cli.train.losses.gather import gather_views, world
from fercl_cli.train.losses.masks import check_views, contrast

REDUCTIONS = ("mean", "sum", "none")


def info_nce(
    z: torch.Tensor,
    pair: torch.Tensor,
    *,
    anchors: torch.Tensor | None = None,
    tau: float = 0.07,
    reduction: str = "mean",
) -> torch.Tensor:
    """InfoNCE of the ``anchors`` rows of ``z`` against all rows.

    ``z`` float [M, D], L2-normalised; ``pair`` int [M]: views with equal ids are positives (exactly two
    per id); ``anchors`` int64 [Q] rows of ``z`` used as anchors (default: all). Returns the mean, sum
    or per-anchor losses [Q] (``reduction``).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    anchors = check_views(z, pair, anchors, tau)
    c = contrast(z, pair, anchors, tau)
    per_anchor = torch.logsumexp(c.logits.masked_fill(c.is_self, float("-inf")), dim=1) - c.positive_logit
    if reduction == "none":
        return per_anchor
    return per_anchor.sum() if reduction == "sum" else per_anchor.mean()


class InfoNCELoss(nn.Module):
    """InfoNCE loss module (τ = 0.07 in the paper), DDP-aware.

    ``forward(z, pair)``: this rank's L2-normalised projections ``z`` [m, D] and batch-local pair ids
    [m]. With ``gather_distributed`` the candidates are every rank's views and the value is scaled so
    that DDP's gradient averaging gives the gradient of the loss over the global batch. Example::

        pair, _ = view_index(batch_size=128, hard_neg=True, device=z.device)  # z: [512, 128]
        loss = InfoNCELoss(tau=0.07, gather_distributed=True)(z, pair)
    """

    def __init__(self, tau: float = 0.07, gather_distributed: bool = False) -> None:
        super().__init__()
        if not tau > 0:
            raise ValueError(f"temperature tau must be positive, got {tau}")
        self.tau = tau
        self.gather_distributed = gather_distributed

    def forward(self, z: torch.Tensor, pair: torch.Tensor) -> torch.Tensor:
        if not self.gather_distributed:
            return info_nce(z, pair, tau=self.tau)
        views = gather_views(z, pair)
        per_anchor = info_nce(views.z, views.pair, anchors=views.anchors, tau=self.tau, reduction="none")
        return per_anchor.sum() * world()[1] / views.z.shape[0]
