"""How much of a swap the colour correction bleached: the band between brows and eyes turned near-white
where neither the head nor the pasted face was.

Coordinates are head pixels (the swap's frame), x right, y down.
"""

from __future__ import annotations

import numpy as np

from fercl_cli.faces.landmarks import LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE

WHITE = 230  # grey level counted as white in the swap
NOT_WHITE = 200  # ... where both inputs were below this
PATCHY = 0.01  # a swap with more than this share of its brow band bleached has white patches


def brow_band(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """bool [H, W]: per side, the polygon from the brow to the eye's upper lid (``landmarks`` [68, 2])."""
    import cv2

    points = np.asarray(landmarks, dtype=np.float64)
    band = np.zeros(shape, dtype=np.uint8)
    for brow, eye in ((RIGHT_BROW, RIGHT_EYE), (LEFT_BROW, LEFT_EYE)):
        upper_lid = eye[[3, 2, 1, 0]]  # inner corner → outer corner along the upper lid
        polygon = np.concatenate([points[brow], points[upper_lid]])
        cv2.fillPoly(band, [np.round(polygon).astype(np.int32)], 1)
    return band.astype(bool)


def bleached_fraction(
    swapped: np.ndarray, head: np.ndarray, source: np.ndarray, head_landmarks: np.ndarray
) -> float:
    """Share of the brow band's pixels that are white (grey ≥ ``WHITE``) in ``swapped`` while grey <
    ``NOT_WHITE`` in both ``head`` and ``source`` (the expression face warped into the head's frame).
    All images uint8 [H, W, 3] RGB of one size; ``head_landmarks`` [68, 2] head px."""
    import cv2

    if not swapped.shape == head.shape == source.shape:
        raise ValueError(f"images must share one shape, got {swapped.shape}, {head.shape}, {source.shape}")

    def grey(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)

    band = brow_band(head.shape[:2], head_landmarks)
    if not band.any():
        return 0.0
    white = (grey(swapped) >= WHITE) & (grey(head) < NOT_WHITE) & (grey(source) < NOT_WHITE)
    return float(white[band].mean())
