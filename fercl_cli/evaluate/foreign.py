"""ResNet backbones inside other libraries' checkpoints, mapped onto torchvision names.

A foreign file is a state dict, or a dict holding one under ``state_dict`` (PyTorch Lightning, hence
solo-learn and lightly; the SimCLR and MoCo ``checkpoint_XXXX.pth.tar`` files). Inside it the backbone
sits under one of the :data:`PREFIXES` (after any ``module.`` / ``_orig_mod.`` wrapper prefix), with
torchvision's names or as ``nn.Sequential(*list(resnet.children())[:-1])`` (lightly's examples:
``0.weight`` = ``conv1.weight``, ``4.0.conv1.weight`` = ``layer1.0.conv1.weight``). ``fc.*`` (a
classifier, or the SimCLR projection MLP kept there) is dropped; the architecture comes from the shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.resnet_names import infer_resnet_arch, shape_mismatch, strip_wrappers, without_fc

PREFIXES: tuple[tuple[str, str], ...] = (
    ("", "torchvision"),
    ("backbone.", "solo-learn, lightly or SimCLR (sthalles, SSL-FER)"),
    ("model.backbone.", "lightly in a Lightning module"),
    ("encoder_q.", "MoCo v1/v2 (query encoder)"),
    ("base_encoder.", "MoCo v3 (base encoder)"),
    ("encoder.", "SimCLR-style encoder (older solo-learn)"),
)
"""Where each convention keeps the backbone, tried in this order (the online encoder, never a momentum one)."""
CONTAINER = "state_dict"
SEQUENTIAL = {"0": "conv1", "1": "bn1", "4": "layer1", "5": "layer2", "6": "layer3", "7": "layer4"}
"""Children of a torchvision ResNet by position, as ``nn.Sequential(*list(resnet.children())[:-1])`` names them."""


@dataclass(frozen=True)
class Found:
    """A backbone found in a foreign file.

    Attributes:
        state: its tensors under torchvision names, ``fc`` dropped.
        arch: ``resnet18`` or ``resnet50``.
        where: ``"the file"`` or ``"'state_dict'"``: the dict it was found in.
        prefix: the key prefix it had (after wrapper prefixes), ``""`` for torchvision names.
        convention: the libraries that write it that way.
        sequential: whether the keys were positional (``nn.Sequential`` children).
    """

    state: dict[str, Any]
    arch: str
    where: str
    prefix: str
    convention: str
    sequential: bool

    def describe(self) -> str:
        """One phrase: where the weights were and how they were named."""
        keys = f"keys under '{self.prefix}'" if self.prefix else "torchvision keys"
        layout = ", nn.Sequential positions" if self.sequential else ""
        return f"{keys}{layout} in {self.where}; {self.convention} layout"


def _renamed(state: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``state`` with positional top-level names (``4.0.conv1.weight``) turned into torchvision's, when
    every key is positional; otherwise unchanged. Returns (state, whether it was renamed)."""
    heads = {key.split(".", 1)[0] for key in state}
    if not heads or not heads <= SEQUENTIAL.keys():
        return state, False
    return {f"{SEQUENTIAL[k.split('.', 1)[0]]}.{k.split('.', 1)[1]}": v for k, v in state.items()}, True


def _candidates(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    """The dicts a backbone may sit in, wrapper prefixes removed: the file itself and its ``state_dict``."""
    found = []
    if isinstance(payload, Mapping):
        found.append(("the file", strip_wrappers(payload)))
        inner = payload.get(CONTAINER)
        if isinstance(inner, Mapping):
            found.append((f"'{CONTAINER}'", strip_wrappers(inner)))
    return found


def find_backbone(payload: Any, path: Path) -> Found:
    """The ResNet-18/50 backbone in ``payload`` (what the file at ``path`` holds).

    Raises:
        FerclError: nothing under the known prefixes fits a ResNet-18/50; the message names the prefix
            whose keys fit but whose shapes do not (e.g. a CIFAR stem), or else a few keys of the file.
    """
    candidates = _candidates(payload)
    misfit = None
    for where, state in candidates:
        for prefix, convention in PREFIXES:
            sub = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            sub, sequential = _renamed(sub)
            sub = without_fc(sub)
            arch = infer_resnet_arch(sub)
            if arch is not None:
                return Found(sub, arch, where, prefix, convention, sequential)
            problem = shape_mismatch(sub)
            if problem is not None and misfit is None:
                misfit = (
                    f"the weights under '{prefix}' in {where} have ResNet names but other shapes ({problem})"
                )
    if misfit is not None:
        raise FerclError(
            f"{path}: {misfit}; fercl takes torchvision ResNet-18/50 backbones only (no CIFAR-style stem, "
            "no other depths or widths)"
        )
    if not candidates:
        raise FerclError(
            f"{path}: holds a {type(payload).__name__}, not a state dict; pass a fercl run directory or "
            "checkpoint, or a torchvision, solo-learn, lightly, SimCLR or MoCo ResNet-18/50 checkpoint"
        )
    where, state = candidates[-1]
    keys = ", ".join(list(state)[:3])
    prefixes = ", ".join(f"'{p}'" for p, _ in PREFIXES if p)
    raise FerclError(
        f"{path}: no ResNet-18/50 backbone found (torchvision names, bare or under {prefixes}); "
        f"unexpected keys in {where}: {keys} ({len(state)} in all); pass a fercl run directory or checkpoint, "
        "or a torchvision, solo-learn, lightly, SimCLR or MoCo ResNet-18/50 checkpoint"
    )
