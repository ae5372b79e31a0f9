"""The FaceSwap mask: convex hull of (eyes + brows) ∪ convex hull of (nose + mouth), feathered.

Coordinates are pixels of the image the mask is drawn for, x right, y down, pixel centres at integers.
"""

from __future__ import annotations

import numpy as np

from fercl_cli.faces.landmarks import SWAP_BROWS, SWAP_EYES, SWAP_MOUTH, SWAP_NOSE

MASK_GROUPS: tuple[np.ndarray, ...] = (
    np.concatenate([SWAP_EYES, SWAP_BROWS]),
    np.concatenate([SWAP_NOSE, SWAP_MOUTH]),
)


def hull_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """Hard mask uint8 [H, W] (1 inside, 0 outside) of the two convex hulls of ``landmarks`` [68, 2]."""
    import cv2

    mask = np.zeros(shape, dtype=np.uint8)
    for group in MASK_GROUPS:
        points = np.round(np.asarray(landmarks, dtype=np.float64)[group]).astype(np.int32)
        cv2.fillConvexPoly(mask, cv2.convexHull(points), 1, lineType=cv2.LINE_8)
    return mask


def feather(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """A hard 0/1 mask [H, W] softened by a Gaussian of standard deviation ``feather_px`` pixels.

    Returns float32 [H, W] in [0, 1]; ``feather_px = 0`` keeps the hard edge (the released code's).
    """
    import cv2

    if feather_px < 0:
        raise ValueError(f"feather_px must be >= 0, got {feather_px}")
    soft = np.asarray(mask, dtype=np.float32)
    if feather_px == 0:
        return soft
    return np.clip(cv2.GaussianBlur(soft, (0, 0), sigmaX=float(feather_px)), 0.0, 1.0)
