"""torchvision ResNet-18/50 parameter names and shapes: which architecture a state dict is.

Names are those of ``torchvision.models.resnet18()`` / ``resnet50()`` without ``fc`` (``conv1.weight``,
``bn1.running_mean``, ``layer1.0.conv1.weight``, …). BatchNorm's ``num_batches_tracked`` counters are
optional: older checkpoints lack them, and loading fills them with 0 (they never change eval outputs).

:func:`infer_arch` matches a state dict against any fercl architecture (the backbone of a fercl
checkpoint: also ``resnet18-cifar`` and ``smallcnn``); :func:`infer_resnet_arch` and
:func:`shape_mismatch`, used for other libraries' files, know the torchvision ResNets only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from fercl_cli.train.archs import ARCH_NAMES, TORCHVISION_ARCHS

WRAPPER_PREFIXES = ("module.", "_orig_mod.")
"""Prefixes added by DataParallel/DDP (``module.``) and ``torch.compile`` (``_orig_mod.``)."""
_COUNTER = "num_batches_tracked"


def strip_wrappers(state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` with every leading ``module.`` / ``_orig_mod.`` removed from its keys."""
    out = {}
    for key, value in state.items():
        name = str(key)
        while name.startswith(WRAPPER_PREFIXES):
            name = name.split(".", 1)[1]
        out[name] = value
    return out


def without_fc(state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` without the classifier (``fc.*``, also a projection MLP kept there, e.g. ``fc.0.weight``)."""
    return {k: v for k, v in state.items() if not k.startswith("fc.")}


@cache
def reference_shapes(arch: str) -> dict[str, tuple[int, ...]]:
    """Parameter and buffer shapes of ``arch`` without ``fc`` (built on the meta device: no memory, instant)."""
    import torch

    from fercl_cli.train.model import build_backbone

    with torch.device("meta"):
        backbone, _ = build_backbone(arch)
    return {name: tuple(tensor.shape) for name, tensor in backbone.state_dict().items()}


def _shapes(state: Mapping[str, Any]) -> dict[str, tuple[int, ...]] | None:
    """Shapes of the entries that must be present (counters left out), None unless all are tensors."""
    import torch

    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        return None
    return {k: tuple(v.shape) for k, v in state.items() if not k.endswith(_COUNTER)}


def _required(arch: str) -> dict[str, tuple[int, ...]]:
    return {k: v for k, v in reference_shapes(arch).items() if not k.endswith(_COUNTER)}


def infer_arch(state: Mapping[str, Any], archs: Iterable[str] = ARCH_NAMES) -> str | None:
    """The first of ``archs`` (default: every fercl architecture) whose keys and shapes ``state``
    matches exactly, ``fc.*`` and DDP/compile prefixes ignored; None when it matches none."""
    state = without_fc(strip_wrappers(state))
    shapes = _shapes(state)
    if shapes is None:
        return None
    counters = {k for k in state if k.endswith(_COUNTER)}
    for arch in archs:
        if shapes == _required(arch) and counters <= reference_shapes(arch).keys():
            return arch
    return None


def infer_resnet_arch(state: Mapping[str, Any]) -> str | None:
    """The torchvision architecture (``resnet18`` | ``resnet50``) whose keys and shapes ``state``
    matches, ``fc.*`` and DDP/compile prefixes ignored; None when it matches neither."""
    return infer_arch(state, TORCHVISION_ARCHS)


def shape_mismatch(state: Mapping[str, Any]) -> str | None:
    """For ``state`` (torchvision names, no ``fc``) that has exactly one architecture's keys but other
    shapes: ``"conv1.weight is [64, 3, 3, 3] where resnet18 has [64, 3, 7, 7]"``; otherwise None."""
    shapes = _shapes(state)
    if shapes is None:
        return None
    for arch in TORCHVISION_ARCHS:
        expected = _required(arch)
        wrong = [k for k in expected if shapes.keys() == expected.keys() and shapes[k] != expected[k]]
        if wrong:
            return f"{wrong[0]} is {list(shapes[wrong[0]])} where {arch} has {list(expected[wrong[0]])}"
    return None
