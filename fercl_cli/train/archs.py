"""The backbone architectures fercl builds: the one list of names, importable without torch.

Config validation, the ``--arch`` help of ``pretrain`` / ``evaluate`` / ``export``, evaluate's request
check and the backbone resolver all read :data:`ARCH_NAMES`; :mod:`fercl_cli.train.model` builds them.
"""

from __future__ import annotations

from typing import Literal, get_args

Arch = Literal["resnet18", "resnet50", "resnet18-cifar", "smallcnn"]
ARCH_NAMES: tuple[Arch, ...] = get_args(Arch)
"""Every architecture name, in the order help texts and errors list them."""
FEATURE_DIMS: dict[str, int] = {"resnet18": 512, "resnet50": 2048, "resnet18-cifar": 512, "smallcnn": 256}
"""Pooled feature size F of each architecture."""
TORCHVISION_ARCHS: tuple[Arch, ...] = ("resnet18", "resnet50")
"""Architectures that are exactly a torchvision (and timm) model: the only ones another library's
checkpoint is matched against, and the only ones ``fercl export --format torchvision|timm`` writes."""
ARCH_HELP = " | ".join(ARCH_NAMES)


def arch_error(option: str, given: object) -> str:
    """``"--arch must be one of resnet18, resnet50, resnet18-cifar, smallcnn, got 'vgg16'"``."""
    return f"{option} must be one of {', '.join(ARCH_NAMES)}, got {given!r}"


assert set(FEATURE_DIMS) == set(ARCH_NAMES) and set(TORCHVISION_ARCHS) <= set(ARCH_NAMES)
