"""BatchNorm statistics of a randomly initialised backbone, calibrated on unlabelled evaluation images.

A fresh network's BatchNorm layers carry running statistics at their initial values (mean 0, variance 1),
so in eval mode every layer rescales activations that are nothing like unit variance; every pretrained
checkpoint instead carries statistics of real images. Scoring the raw random network as the floor
compares two different networks. Calibration only re-estimates the running mean and variance from
images (forward passes in train mode, no gradient, no weight change): the floor becomes the same kind of
network as the checkpoints it is compared with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.evaluate.features import clean_inputs

if TYPE_CHECKING:
    import torch

BN_IMAGES = 512
"""Images used to calibrate (at most): the training split's rows, evenly spread in file order."""


def calibration_rows(rows: np.ndarray, limit: int = BN_IMAGES) -> np.ndarray:
    """int64: at most ``limit`` of ``rows``, evenly spread (all of them when there are fewer)."""
    rows = np.asarray(rows, dtype=np.int64)
    if limit < 1:
        raise ValueError(f"the calibration needs at least one image, got a limit of {limit}")
    if len(rows) <= limit:
        return rows
    return rows[np.linspace(0, len(rows) - 1, limit).round().astype(np.int64)]


def calibrate_batchnorm(
    module: torch.nn.Module,
    images: Sequence,
    rows: np.ndarray,
    *,
    input_size: int,
    device: torch.device | str = "cpu",
    batch_size: int = 64,
) -> int:
    """Replace every BatchNorm layer's running mean and variance with their average over the batches of
    ``rows`` (PyTorch's cumulative average, ``momentum=None``).

    Args:
        module: the backbone; left in eval mode on ``device``, its weights unchanged.
        images: uint8 [N, S, S, 3] RGB crops (array or HDF5 dataset).
        rows: int64 indices of the images to use, ascending (e.g. :func:`calibration_rows`).
        input_size: centre-crop side fed to the network (as in feature extraction).

    Returns:
        The number of images used. Batches of one image are merged into the previous batch, since train-
        mode BatchNorm cannot normalise a single value per channel.
    """
    import torch

    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) < 2:
        raise ValueError(f"BatchNorm calibration needs at least 2 images, got {len(rows)}")
    device = torch.device(device)
    module = module.to(device)
    norms = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative moving average: the exact mean over all batches
    starts = list(range(0, len(rows), batch_size))
    if len(rows) - starts[-1] == 1 and len(starts) > 1:
        starts.pop()
    bounds = [*starts[1:], len(rows)]
    module.train()
    try:
        with torch.no_grad():
            for lo, hi in zip(starts, bounds, strict=True):
                batch = np.asarray(images[rows[lo:hi]])  # ascending indices: HDF5 reads them too
                module(clean_inputs(batch, input_size, device))
    finally:
        for norm, momentum in zip(norms, saved, strict=True):
            norm.momentum = momentum
        module.eval()
    return len(rows)
