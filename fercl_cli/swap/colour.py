"""Colour correction of a warped face to the head's skin tone and lighting.

Two modes. ``paper``: ``face · blur(head) / blur(face)``, channel by channel, as the paper describes.
``skin`` (default): the same ratio of local means, but each mean is taken over the image's own skin only
(normalised convolution: ``blur(image · w) / blur(w)`` with ``w`` the face hull minus brows, eyes and
mouth), the gain is clamped to ``[1/MAX_GAIN, MAX_GAIN]``, and brightening stops at ``HIGHLIGHT`` × the
head's local skin mean (a pixel is never brightened past the head's own skin level; pixels already that
bright in the face are kept). In ``paper`` mode the blur near the brows averages in the donor's dark
brows, hat or hair and the head's light fringe or forehead, and the gain there bleaches the band between
brows and eyes white; skin means only carry skin tone and lighting, and the two limits bound what is
left (measured in docs/swap-describe.md).

fercl reads the paper's "Gaussian of 0.6 × inter-ocular distance" as the Gaussian's standard deviation.
The released code passed that length to OpenCV as the kernel *size* (σ ≈ 0.09 × inter-ocular), which is
sharp enough to carry the head's own mouth, teeth and glasses into the pasted face, i.e. the donor's
expression leaks into the positive. The wide blur only transfers skin tone and lighting.
"""

from __future__ import annotations

import numpy as np

from fercl_cli.faces.landmarks import LEFT_BROW, LEFT_EYE, MOUTH, RIGHT_BROW, RIGHT_EYE, inter_ocular

BLUR_FRACTION = 0.6
COLOUR_MODES = ("skin", "paper")
MAX_GAIN = 1.6
HIGHLIGHT = 1.1  # chosen on the sample's swaps (docs/swap-describe.md): 1.2 left 3x more bleached swaps
# Brows, eyes and mouth are cut out of the skin with this margin (fraction of the inter-ocular distance).
_FEATURE_MARGIN = 0.1
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


def skin_weights(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """float32 [H, W] in {0, 1}: the hull of the 68 landmarks (jaw to brows, so no forehead hair) minus
    the hulls of each brow, eye and the mouth grown by a margin. ``landmarks``: [68, 2] in the image's px."""
    import cv2

    points = np.asarray(landmarks, dtype=np.float64)
    weights = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(weights, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    features = np.zeros(shape, dtype=np.uint8)
    for group in (RIGHT_BROW, LEFT_BROW, RIGHT_EYE, LEFT_EYE, MOUTH):
        cv2.fillConvexPoly(features, cv2.convexHull(np.round(points[group]).astype(np.int32)), 1)
    margin = max(1, round(_FEATURE_MARGIN * float(inter_ocular(points))))
    features = cv2.dilate(features, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    return (weights & (1 - features)).astype(np.float32)


def local_mean(image: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """float32 [H, W, 3]: the Gaussian-weighted mean colour of the pixels where ``weights`` [H, W] is
    set, around every pixel (normalised convolution); the global weighted mean where no weight is near."""
    image = image.astype(np.float32)
    total = float(weights.sum())
    if total == 0:
        raise ValueError("no skin pixels inside the landmarks; they are unusable")
    numerator = _smooth(image * weights[..., None], sigma)
    denominator = _smooth(weights, sigma)
    mean = numerator / np.maximum(denominator, 1e-3)[..., None]
    far = denominator <= 1e-3
    if far.any():
        mean[far] = weights.ravel() @ image.reshape(-1, 3) / total
    return mean


def correct_colours(
    head: np.ndarray,
    face: np.ndarray,
    head_landmarks: np.ndarray,
    face_landmarks: np.ndarray | None = None,
    fraction: float = BLUR_FRACTION,
    mode: str = "skin",
) -> np.ndarray:
    """The face recoloured to the head's local mean colour, channel by channel.

    Args:
        head: uint8 [H, W, 3] RGB head image.
        face: uint8 [H, W, 3] RGB face already warped into the head's frame.
        head_landmarks: float [68, 2] in head pixels (sets the blur width, and the head's skin).
        face_landmarks: float [68, 2] of the warped face in head pixels (its skin; ``skin`` mode only).
        fraction: Gaussian σ as a fraction of the head's inter-ocular distance (0.6).
        mode: ``skin`` (skin-only means, clamped gain, highlight limit) or ``paper`` (whole-image means).

    Returns:
        float32 [H, W, 3], not clipped (values may exceed 255; the caller clips before uint8).
    """
    if mode not in COLOUR_MODES:
        raise ValueError(f"colour mode must be one of {', '.join(COLOUR_MODES)}, got {mode!r}")
    sigma = blur_sigma(head_landmarks, fraction)
    face = face.astype(np.float32)
    if mode == "paper":
        return face * _smooth(head.astype(np.float32), sigma) / np.maximum(_smooth(face, sigma), 1.0)
    if face_landmarks is None:
        raise ValueError("skin colour correction needs the warped face's landmarks")
    head_mean = local_mean(head, skin_weights(head.shape[:2], head_landmarks), sigma)
    face_mean = local_mean(face, skin_weights(face.shape[:2], face_landmarks), sigma)
    gain = np.clip(head_mean / np.maximum(face_mean, 1.0), 1 / MAX_GAIN, MAX_GAIN)
    return np.minimum(face * gain, np.maximum(face, HIGHLIGHT * head_mean))
