"""Colour correction of a warped face to the head's skin tone and lighting: ``face · blur(head) / blur(face)``.

fercl reads the paper's "Gaussian of 0.6 × inter-ocular distance" as the Gaussian's standard deviation.
The released code passed that length to OpenCV as the kernel *size* (σ ≈ 0.09 × inter-ocular), which is
sharp enough to carry the head's own mouth, teeth and glasses into the pasted face, i.e. the donor's
expression leaks into the positive. The wide blur only transfers skin tone and lighting.
"""

from __future__ import annotations

import numpy as np

from fercl_cli.faces.landmarks import inter_ocular

BLUR_FRACTION = 0.6
# The blur runs on a copy shrunk so that σ is about this many pixels: the result is a smooth field, so
# this changes it by well under one grey level and makes the blur ~20× cheaper.
_SMALL_SIGMA_PX = 4.0


def blur_sigma(head_landmarks: np.ndarray, fraction: float = BLUR_FRACTION) -> float:
    """Gaussian standard deviation in head pixels: ``fraction`` × the head's inter-ocular distance."""
    if fraction <= 0:
        raise ValueError(f"the colour-correction blur fraction must be > 0, got {fraction}")
    sigma = fraction * float(inter_ocular(np.asarray(head_landmarks, dtype=np.float64)))
    if not sigma > 0:
        raise ValueError("the head's eye centres coincide; its landmarks are unusable")
    return sigma


def _smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    step = max(1.0, sigma / _SMALL_SIGMA_PX)
    small_w, small_h = max(1, round(width / step)), max(1, round(height / step))
    small = cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma * small_w / width, sigmaY=sigma * small_h / height)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def correct_colours(
    head: np.ndarray, face: np.ndarray, head_landmarks: np.ndarray, fraction: float = BLUR_FRACTION
) -> np.ndarray:
    """The face recoloured to the head's local mean colour, channel by channel.

    Args:
        head: uint8 [H, W, 3] RGB head image.
        face: uint8 [H, W, 3] RGB face already warped into the head's frame.
        head_landmarks: float [68, 2] in head pixels (sets the blur width).
        fraction: Gaussian σ as a fraction of the head's inter-ocular distance (0.6).

    Returns:
        float32 [H, W, 3], not clipped (values may exceed 255; the caller clips before uint8).
    """
    sigma = blur_sigma(head_landmarks, fraction)
    head_blur = _smooth(head.astype(np.float32), sigma)
    face_blur = _smooth(face.astype(np.float32), sigma)
    return face.astype(np.float32) * head_blur / np.maximum(face_blur, 1.0)
