"""Validation of descriptor inputs and the "usable landmarks" rule shared by every kind."""

from __future__ import annotations

import numpy as np

from fercl_cli.descriptors import Descriptors
from fercl_cli.faces.landmarks import EYES, MOUTH, N_LANDMARKS, inter_ocular

MIN_INTER_OCULAR_PX = 4.0


def check_batch(
    images: np.ndarray, landmarks: np.ndarray, valid: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``(images uint8 [N, S, S, 3], landmarks float64 [N, 68, 2], valid bool [N])``;
    ``valid = None`` means every row has landmarks."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
        raise ValueError(f"images must be uint8 [N, H, W, 3] RGB, got {images.dtype} {images.shape}")
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (len(images), N_LANDMARKS, 2):
        raise ValueError(f"landmarks must be [{len(images)}, 68, 2] (one per image), got {landmarks.shape}")
    valid = np.ones(len(images), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    if valid.shape != (len(images),):
        raise ValueError(f"valid must be bool [{len(images)}], got shape {valid.shape}")
    return images, landmarks, valid & usable_landmarks(landmarks, images.shape[2], images.shape[1])


def usable_landmarks(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bool [N]: landmarks [N, 68, 2] (pixels of a width×height image) that give meaningful eye and
    mouth crops: all finite, eyes at least 4 px apart, eye and mouth boxes with positive size and their
    centres inside the image."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    finite = np.isfinite(landmarks).all(axis=(1, 2))
    safe = np.where(finite[:, None, None], landmarks, 0.0)
    ok = finite & (inter_ocular(safe) >= MIN_INTER_OCULAR_PX)
    for group in (EYES, MOUTH):
        lo, hi = safe[:, group].min(axis=1), safe[:, group].max(axis=1)
        centre = (lo + hi) / 2
        ok &= (hi - lo > 1.0).all(axis=1)
        ok &= (
            (centre[:, 0] >= 0)
            & (centre[:, 0] <= width - 1)
            & (centre[:, 1] >= 0)
            & (centre[:, 1] <= height - 1)
        )
    return ok


def normalised(values: np.ndarray, valid: np.ndarray) -> Descriptors:
    """Rows of ``values`` [N, D] scaled to unit L2 norm where ``valid``; invalid or all-zero rows become
    zero vectors flagged invalid."""
    values = np.asarray(values, dtype=np.float32)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    valid = np.asarray(valid, dtype=bool) & (norms[:, 0] > 0)
    out = np.where(valid[:, None], values / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
    return Descriptors(values=out, valid=valid)
