"""Backbone + projection head of fercl pretraining: torchvision ResNet from scratch, SimCLR MLP head.

ResNet-18 (F = 512) or ResNet-50 (F = 2048, paper default), built with ``weights=None`` (never
downloads), its ``fc`` replaced by the identity; head Linear(F, F)–ReLU–Linear(F, 128).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ARCHS: dict[str, int] = {"resnet18": 512, "resnet50": 2048}
PROJECTION_DIM = 128


def build_backbone(arch: str) -> tuple[nn.Module, int]:
    """A randomly initialised ResNet without ``fc`` and its feature size F: images [B,3,H,W] → [B,F]."""
    from torchvision import models

    if arch not in ARCHS:
        raise ValueError(f"unknown backbone {arch!r}; choose one of {sorted(ARCHS)}")
    backbone = getattr(models, arch)(weights=None)
    backbone.fc = nn.Identity()
    return backbone, ARCHS[arch]


class ContrastiveModel(nn.Module):
    """``forward(x)`` with x float [B,3,H,W] (normalised images) → ``(features [B,F], z [B,P])``.

    ``features`` are the backbone's pooled features (what evaluation uses); ``z`` the L2-normalised
    projections the losses take.
    """

    def __init__(self, arch: str, projection_dim: int = PROJECTION_DIM) -> None:
        super().__init__()
        if projection_dim < 1:
            raise ValueError(f"projection_dim must be a positive size, got {projection_dim}")
        self.arch = arch
        self.backbone, self.feature_dim = build_backbone(arch)
        self.head = nn.Sequential(
            nn.Linear(self.feature_dim, self.feature_dim),
            nn.ReLU(inplace=True),
            nn.Linear(self.feature_dim, projection_dim),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected images [B, 3, H, W], got {tuple(x.shape)}")
        features = self.backbone(x)
        return features, F.normalize(self.head(features), dim=1)


def build_model(arch: str, projection_dim: int = PROJECTION_DIM) -> ContrastiveModel:
    """Backbone ``arch`` (``resnet18`` | ``resnet50``) with the projection head, randomly initialised."""
    return ContrastiveModel(arch, projection_dim)


def backbone_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The backbone's weights (keys as in ``build_backbone(arch)[0].state_dict()``), head excluded.

    Unwraps DDP/``torch.compile`` wrappers (``.module`` / ``._orig_mod``) if given one.
    """
    inner: nn.Module = model
    while not isinstance(inner, ContrastiveModel):
        wrapped = getattr(inner, "module", None)
        wrapped = getattr(inner, "_orig_mod", None) if wrapped is None else wrapped
        if not isinstance(wrapped, nn.Module):
            raise TypeError(
                f"expected a ContrastiveModel (or a DDP/compiled wrapper of one), got {type(model).__name__}"
            )
        inner = wrapped
    return {name: tensor.detach().clone() for name, tensor in inner.backbone.state_dict().items()}
