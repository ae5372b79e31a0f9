"""Histograms of oriented gradients (Dalal & Triggs) for a batch of same-sized grey patches, in numpy.

OpenCV 5 dropped ``cv2.HOGDescriptor`` and scikit-image is not a runtime dependency (and works one
patch at a time), so this computes the classic variant for a whole batch at once: central-difference
gradients, unsigned orientation in ``bins`` bins with linear interpolation between neighbouring bins,
square cells, non-overlapping blocks of 2×2 cells, L2-Hys block normalisation (clip at 0.2).
"""

from __future__ import annotations

import numpy as np

BLOCK_CELLS = 2
_HYS_CLIP = 0.2
_EPS = 1e-6


def hog_size(height: int, width: int, cell: int, bins: int) -> int:
    """Length of the HOG of one height×width patch."""
    blocks_y, blocks_x = height // (cell * BLOCK_CELLS), width // (cell * BLOCK_CELLS)
    return blocks_y * blocks_x * BLOCK_CELLS * BLOCK_CELLS * bins


def hog(patches: np.ndarray, cell: int = 8, bins: int = 9) -> np.ndarray:
    """HOG of each patch.

    Args:
        patches: [N, H, W] grey patches (any real dtype); H and W multiples of ``2 · cell``.
        cell: cell side in pixels.
        bins: orientation bins over [0°, 180°).

    Returns:
        float32 [N, hog_size(H, W, cell, bins)], blocks in row-major order, each block's 2×2 cells ×
        bins L2-Hys normalised.
    """
    patches = np.asarray(patches, dtype=np.float32)
    if patches.ndim != 3:
        raise ValueError(f"patches must be [N, H, W], got shape {patches.shape}")
    n, height, width = patches.shape
    if height % (cell * BLOCK_CELLS) or width % (cell * BLOCK_CELLS):
        raise ValueError(f"patch size {height}×{width} must be a multiple of {cell * BLOCK_CELLS} px")
    import cv2

    gx = np.zeros_like(patches)
    gy = np.zeros_like(patches)
    gx[:, :, 1:-1] = patches[:, :, 2:] - patches[:, :, :-2]
    gy[:, 1:-1, :] = patches[:, 2:, :] - patches[:, :-2, :]
    # OpenCV's vectorised polar conversion (angle error ~0.3°, far below a 20° bin).
    magnitude, angle = cv2.cartToPolar(gx.reshape(-1, width), gy.reshape(-1, width))
    magnitude = magnitude.reshape(patches.shape)
    position = np.mod(angle.reshape(patches.shape), np.float32(np.pi)) * np.float32(
        bins / np.pi
    ) - np.float32(0.5)
    lower = np.floor(position)
    upper_weight = position - lower
    lower = lower.astype(np.int32)
    lower[lower < 0] += bins  # only -1 occurs: position >= -0.5
    upper = lower + 1
    upper[upper == bins] = 0
    cells_y, cells_x = height // cell, width // cell
    cell_id = (np.arange(height)[:, None] // cell) * cells_x + (np.arange(width)[None, :] // cell)
    base = ((np.arange(n)[:, None, None] * (cells_y * cells_x) + cell_id[None]) * bins).astype(np.int64)
    total = n * cells_y * cells_x * bins
    hist = np.bincount((base + lower).ravel(), (magnitude * (1 - upper_weight)).ravel(), minlength=total)
    hist += np.bincount((base + upper).ravel(), (magnitude * upper_weight).ravel(), minlength=total)
    hist = hist.reshape(n, cells_y // BLOCK_CELLS, BLOCK_CELLS, cells_x // BLOCK_CELLS, BLOCK_CELLS, bins)
    blocks = hist.transpose(0, 1, 3, 2, 4, 5).reshape(n, -1, BLOCK_CELLS * BLOCK_CELLS * bins)
    blocks = _l2(np.minimum(_l2(blocks), _HYS_CLIP))
    return blocks.reshape(n, -1).astype(np.float32)


def _l2(blocks: np.ndarray) -> np.ndarray:
    return blocks / np.sqrt((blocks**2).sum(axis=-1, keepdims=True) + _EPS**2)
