"""Clean-image preprocessing and batched feature extraction from a frozen backbone.

Evaluation images are never augmented: each stored crop (uint8 [S, S, 3] RGB, S = 128 by default) is
centre-cropped to the network's input size (112 by default, as the pretraining views' random crop),
scaled to [0, 1] and normalised with the ImageNet mean and standard deviation, exactly as the
pretraining views are normalised.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.choices import DEVICES, choice_error
from fercl_cli.errors import FerclError
from fercl_cli.evaluate.progress import ProgressFn, no_progress

if TYPE_CHECKING:
    import torch
INPUT_SIZE = 112
STORED_SIZE = 128


def stored_size(input_size: int) -> int:
    """Side of the cached crops for a network input of ``input_size`` px (128 for 112, the pretraining ratio)."""
    if input_size < 16:
        raise ValueError(f"input size must be at least 16 px, got {input_size}")
    return round(input_size * STORED_SIZE / INPUT_SIZE)


def network_input_size(trained: object, requested: int | None) -> tuple[int, str]:
    """The network input side and why: ``requested`` (``--size``), else ``trained`` (the ``size`` in a fercl
    checkpoint's config) when it is a usable size, else :data:`INPUT_SIZE`."""
    if requested is not None:
        return requested, "--size"
    if isinstance(trained, int) and trained >= 16:
        return trained, "the size the checkpoint was trained at"
    return INPUT_SIZE, "the default"


def preprocessing_note(stored: int, input_size: int) -> str:
    """The line the output prints about what the network sees."""
    return (
        f"clean images only: centre crop {input_size}×{input_size} of the {stored}×{stored} crops, scaled to "
        "[0, 1], ImageNet mean/std normalisation (as the pretraining views); no augmentation"
    )


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when available), ``cpu`` or ``cuda`` → ``torch.device``; CUDA asked for but absent is
    an error."""
    import torch

    if name not in DEVICES:
        raise FerclError(choice_error("--device", DEVICES, name))
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise FerclError("--device cuda: no CUDA device is available here; use --device cpu")
    return torch.device(name)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The mixed-precision dtype used on ``device``: bfloat16 on CUDA when supported, else float16; None on
    the CPU (full float32)."""
    import torch

    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def precision_name(device: torch.device) -> str:
    """``bf16``, ``fp16`` or ``fp32``: what :func:`autocast_dtype` gives on ``device``."""
    import torch

    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[autocast_dtype(device)]


def clean_inputs(batch: np.ndarray, input_size: int, device: torch.device | str) -> torch.Tensor:
    """uint8 [B, S, S, 3] RGB crops → float32 [B, 3, input_size, input_size] on ``device``: centre crop,
    [0, 1], ImageNet normalisation."""
    import torch

    from fercl_cli.train.views import IMAGENET_MEAN, IMAGENET_STD

    batch = np.asarray(batch)
    if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[3] != 3 or batch.shape[1] != batch.shape[2]:
        raise ValueError(f"expected uint8 [B, S, S, 3] crops, got {batch.dtype} {batch.shape}")
    side = batch.shape[1]
    if input_size > side:
        raise ValueError(f"input size {input_size} is larger than the {side} px crops")
    top = (side - input_size) // 2
    x = torch.from_numpy(np.ascontiguousarray(batch)).to(device, non_blocking=True)
    x = x[:, top : top + input_size, top : top + input_size].permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return (x - mean) / std


def batches(images: Sequence, batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
    """Contiguous slices ``(start, images[start:start + batch_size])`` of an array or HDF5 dataset."""
    if batch_size < 1:
        raise ValueError(f"batch size must be positive, got {batch_size}")
    for start in range(0, len(images), batch_size):
        yield start, np.asarray(images[start : start + batch_size])


def extract_features(
    module: torch.nn.Module,
    images: Sequence,
    *,
    input_size: int = INPUT_SIZE,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
    progress: ProgressFn = no_progress,
    stage: str = "extracting features",
) -> np.ndarray:
    """Pooled backbone features of every image, in order.

    Args:
        module: the backbone (``torch.nn.Module``), images [B, 3, H, W] → features [B, F]; it is moved to
            ``device`` and put in eval mode.
        images: uint8 [N, S, S, 3] RGB crops (NumPy array or HDF5 dataset, read in contiguous slices).
        input_size: centre-crop side fed to the network.
        device: ``torch.device`` or its name; CUDA runs under autocast (bf16, or fp16 without bf16 support).
        batch_size: images per forward pass.

    Returns:
        float32 [N, F].
    """
    import torch

    if len(images) == 0:
        raise ValueError("no images to extract features from")
    device = torch.device(device)
    module = module.to(device).eval()
    dtype = autocast_dtype(device)
    out: np.ndarray | None = None
    progress(stage, 0, len(images))
    with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        for start, batch in batches(images, batch_size):
            features = module(clean_inputs(batch, input_size, device)).float().cpu().numpy()
            if out is None:
                out = np.empty((len(images), features.shape[1]), dtype=np.float32)
            out[start : start + len(batch)] = features
            progress(stage, start + len(batch), len(images))
    return out
