"""The 68-point (iBUG 300-W / dlib) landmark scheme: index groups used everywhere in fercl.

Indices are 0-based. "Left"/"right" are the subject's own left and right; in an unmirrored image
the subject's right eye (36-41) appears on the image's left.
"""

from __future__ import annotations

import numpy as np

N_LANDMARKS = 68

JAW = np.arange(0, 17)
RIGHT_BROW = np.arange(17, 22)
LEFT_BROW = np.arange(22, 27)
NOSE_BRIDGE = np.arange(27, 31)
NOSE_LOWER = np.arange(31, 36)
RIGHT_EYE = np.arange(36, 42)
LEFT_EYE = np.arange(42, 48)
OUTER_MOUTH = np.arange(48, 60)
INNER_MOUTH = np.arange(60, 68)

EYES = np.arange(36, 48)
MOUTH = np.arange(48, 68)

# The point sets of the paper's FaceSwap (Procrustes alignment and masks).
SWAP_BROWS = np.arange(17, 27)
SWAP_EYES = np.arange(36, 48)
SWAP_NOSE = np.arange(27, 35)
SWAP_MOUTH = np.arange(48, 61)
SWAP_ALIGN_POINTS = np.concatenate([SWAP_BROWS, SWAP_EYES, SWAP_NOSE, SWAP_MOUTH])

GROUPS: dict[str, np.ndarray] = {
    "jaw": JAW,
    "right_brow": RIGHT_BROW,
    "left_brow": LEFT_BROW,
    "nose_bridge": NOSE_BRIDGE,
    "nose_lower": NOSE_LOWER,
    "right_eye": RIGHT_EYE,
    "left_eye": LEFT_EYE,
    "outer_mouth": OUTER_MOUTH,
    "inner_mouth": INNER_MOUTH,
}


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (x, y) of the subject's right and left eye from ``landmarks`` [68, 2]."""
    landmarks = np.asarray(landmarks)
    if landmarks.shape[-2:] != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks must have shape [..., 68, 2], got {landmarks.shape}")
    return landmarks[..., RIGHT_EYE, :].mean(axis=-2), landmarks[..., LEFT_EYE, :].mean(axis=-2)


def inter_ocular(landmarks: np.ndarray) -> np.ndarray:
    """Distance between the eye centres, in the landmarks' pixel units; shape ``landmarks.shape[:-2]``."""
    right, left = eye_centres(landmarks)
    return np.linalg.norm(left - right, axis=-1)


# Index permutation that relabels landmarks after a horizontal flip: point i of the flipped face is
# point MIRROR[i] of the original (with x mirrored).
MIRROR = np.array(
    list(range(16, -1, -1))
    + list(range(26, 16, -1))
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]
    + [64, 63, 62, 61, 60, 67, 66, 65]
)

# Points that barely move with expression (eye corners and nose), used to align faces so that the
# alignment does not change with the expression (a mouth opening must not shrink the face).
RIGID = np.array([36, 39, 42, 45, 27, 28, 29, 30, 31, 32, 33, 34, 35])


def flip_landmarks(landmarks: np.ndarray, width: float) -> np.ndarray:
    """Landmarks [..., 68, 2] of the horizontally flipped image of ``width`` pixels, relabelled."""
    landmarks = np.asarray(landmarks)
    flipped = landmarks[..., MIRROR, :].copy()
    flipped[..., 0] = (width - 1) - flipped[..., 0]
    return flipped
