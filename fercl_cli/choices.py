"""The closed sets of names fercl accepts, one typed source each, importable without torch.

Each choice is a ``Literal`` (for type checkers and signatures) and the tuple of its values (for the
CLI's help and checks, config validation and construction). Architectures have theirs beside the
feature sizes in :mod:`fercl_cli.train.archs`.
"""

from __future__ import annotations

from typing import Literal, get_args

MaskFNMode = Literal["off", "top1", "top1-other-clip", "threshold", "threshold-other-clip"]
MASK_FN_MODES: tuple[MaskFNMode, ...] = get_args(MaskFNMode)
"""``--mask-fn`` values; ``off`` trains with plain InfoNCE, the others are :mod:`~fercl_cli.train.losses.maskfn` modes."""

DescriptorKind = Literal["geometry", "resnet18"]
DESCRIPTOR_KINDS: tuple[DescriptorKind, ...] = get_args(DescriptorKind)
"""Mouth-eye descriptor kinds ``fercl describe`` computes and MaskFN reads."""

Task = Literal["affectnet", "affectnet-va", "fer2013", "rafdb", "lfw"]
TASK_NAMES: tuple[Task, ...] = get_args(Task)
"""``fercl evaluate --task`` values (their titles and protocols: :data:`fercl_cli.evaluate.request.TASKS`)."""

Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[Device, ...] = get_args(Device)
"""``--device`` values: ``auto`` is CUDA when PyTorch sees a GPU, else the CPU."""

Optimizer = Literal["adam", "adamw"]
OPTIMIZERS: tuple[Optimizer, ...] = get_args(Optimizer)


def choice_help(values: tuple[str, ...]) -> str:
    """``"a | b | c"``: how ``--help`` lists a choice."""
    return " | ".join(values)


def choice_error(option: str, values: tuple[str, ...], given: object) -> str:
    """``"--mask-fn must be one of off, top1, ..., got 'x'"``: the one wording of a bad choice."""
    return f"{option} must be one of {', '.join(values)}, got {given!r}"
