"""Backbone + projection head of fercl pretraining: a backbone from scratch, SimCLR MLP head.

Backbones (:data:`~fercl_cli.train.archs.ARCH_NAMES`), all with BatchNorm, images [B,3,H,W] → [B,F]:

- ``resnet18`` (F = 512) / ``resnet50`` (F = 2048, paper default): torchvision's, built with
  ``weights=None`` (never downloads), ``fc`` replaced by the identity;
- ``resnet18-cifar`` (F = 512): torchvision's resnet18 with a 3×3 stride-1 ``conv1`` and no max-pool,
  so 32–64 px inputs keep their resolution (layer4 runs at 1/8 of the input instead of 1/32);
- ``smallcnn`` (F = 256): :class:`SmallCNN`, four stages of 32, 64, 128, 256 channels, for CPU-sized runs.

Head Linear(F, F)–ReLU–Linear(F, 128).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from fercl_cli.train.archs import ARCH_NAMES, FEATURE_DIMS, TORCHVISION_ARCHS, Arch

__all__ = [
    "ARCHS",
    "ARCH_NAMES",
    "PROJECTION_DIM",
    "TORCHVISION_ARCHS",
    "Arch",
    "ContrastiveModel",
    "SmallCNN",
    "backbone_state_dict",
    "build_backbone",
    "build_model",
]

ARCHS: dict[str, int] = {name: FEATURE_DIMS[name] for name in ARCH_NAMES}
"""Architecture name → feature size F (the torchvision ResNets first)."""
PROJECTION_DIM = 128
SMALLCNN_WIDTHS = (32, 64, 128, 256)


def _init_conv(conv: nn.Conv2d) -> None:
    """torchvision's ResNet initialisation of a convolution (Kaiming normal, fan-out, ReLU)."""
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")


class SmallCNN(nn.Module):
    """Four stages of (conv3×3–BN–ReLU) × 2 with 32, 64, 128, 256 channels, then global average pooling.

    The first convolution of every stage has stride 2 (the downsampling; no pooling layers), so a 56 px
    input is seen at 28, 14, 7 and 4 px: about 44 M multiply-adds per image, against about 114 M for
    ResNet-18 at 56 px (convolving at full resolution before pooling would cost about 160 M). Features
    are [B, 256]; ``stages.<i>.conv<j>`` / ``stages.<i>.bn<j>`` name the layers.
    """

    def __init__(self, widths: tuple[int, ...] = SMALLCNN_WIDTHS) -> None:
        super().__init__()
        stages, before = [], 3
        for width in widths:
            layers = OrderedDict()
            for j, stride in ((1, 2), (2, 1)):
                layers[f"conv{j}"] = nn.Conv2d(before, width, 3, stride=stride, padding=1, bias=False)
                layers[f"bn{j}"] = nn.BatchNorm2d(width)
                layers[f"relu{j}"] = nn.ReLU(inplace=True)
                _init_conv(layers[f"conv{j}"])
                before = width
            stages.append(nn.Sequential(layers))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.feature_dim = before

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(self.stages(x)), 1)


def build_backbone(arch: str) -> tuple[nn.Module, int]:
    """A randomly initialised backbone ``arch`` (one of :data:`ARCH_NAMES`; ResNets without ``fc``) and
    its feature size F: images float [B,3,H,W] → features float [B,F]."""
    from torchvision import models

    if arch not in ARCHS:
        raise ValueError(f"unknown backbone {arch!r}; choose one of {', '.join(ARCH_NAMES)}")
    if arch == "smallcnn":
        return SmallCNN(), ARCHS[arch]
    backbone = getattr(models, arch.removesuffix("-cifar"))(weights=None)
    if arch == "resnet18-cifar":
        backbone.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        _init_conv(backbone.conv1)
        backbone.maxpool = nn.Identity()
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
    """Backbone ``arch`` (one of :data:`ARCH_NAMES`) with the projection head, randomly initialised."""
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
