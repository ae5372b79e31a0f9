"""One landmark face swap: the expression source's inner face pasted onto a head donor.

Both images are uint8 [H, W, 3] RGB with float [68, 2] landmarks in their own pixels. The result is in
the head's frame: the head's pixels outside the mask, the source face (similarity-aligned on the
paper's point sets and colour-corrected) inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercl_cli.faces import geometry
from fercl_cli.faces.landmarks import JAW, N_LANDMARKS, SWAP_ALIGN_POINTS
from fercl_cli.swap.colour import BLUR_FRACTION, correct_colours
from fercl_cli.swap.masks import feather, hull_mask

DEFAULT_FEATHER_PX = 3.0


@dataclass(frozen=True)
class SwapResult:
    """A swapped image.

    Attributes:
        image: uint8 [H, W, 3] RGB, in the head's frame.
        landmarks: float32 [68, 2] in head pixels: the head's jaw (0–16), the source face's other
            points (17–67) mapped into the head's frame.
        mask: float32 [H, W] in [0, 1], the feathered blend weight of the source face.
    """

    image: np.ndarray
    landmarks: np.ndarray
    mask: np.ndarray


def _check(image: np.ndarray, landmarks: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{what} image must be uint8 [H, W, 3] RGB, got {image.dtype} {image.shape}")
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (N_LANDMARKS, 2) or not np.isfinite(landmarks).all():
        raise ValueError(f"{what} landmarks must be finite [68, 2], got {landmarks.shape}")
    return image, landmarks


def swap_transform(head_landmarks: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray:
    """Similarity (float64 [2, 3]) mapping face pixels onto head pixels, fitted by Procrustes on the
    paper's points (brows 17–26, eyes 36–47, nose 27–34, mouth 48–60) only."""
    head_landmarks = np.asarray(head_landmarks, dtype=np.float64)
    face_landmarks = np.asarray(face_landmarks, dtype=np.float64)
    return geometry.similarity_transform(face_landmarks[SWAP_ALIGN_POINTS], head_landmarks[SWAP_ALIGN_POINTS])


def warp_source(face_img: np.ndarray, matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """uint8 [H, W, 3]: the expression source warped by ``matrix`` (:func:`swap_transform`) into a head
    of ``shape`` (H, W), borders reflected."""
    import cv2

    height, width = shape
    return cv2.warpAffine(
        face_img, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def swap_face(
    head_img: np.ndarray,
    head_lm: np.ndarray,
    face_img: np.ndarray,
    face_lm: np.ndarray,
    feather_px: float = DEFAULT_FEATHER_PX,
    blur_fraction: float = BLUR_FRACTION,
    colour: str = "skin",
) -> SwapResult:
    """Paste the inner face (eyes, brows, nose, mouth) of ``face_img`` onto ``head_img``.

    Args:
        head_img: uint8 [H, W, 3] RGB head donor (its identity, hair, jaw and background are kept).
        head_lm: float [68, 2] landmarks of the head, head pixels.
        face_img: uint8 [h, w, 3] RGB expression source.
        face_lm: float [68, 2] landmarks of the source, source pixels.
        feather_px: standard deviation (pixels) of the Gaussian that softens the mask edge; 0 = hard.
        blur_fraction: colour-correction Gaussian σ as a fraction of the head's inter-ocular distance.
        colour: colour-correction mode, ``skin`` or ``paper`` (see :mod:`fercl_cli.swap.colour`).

    Returns:
        :class:`SwapResult` in the head's frame. The mask is the union of the head's and the warped
        source's hull masks; the blend is computed in float32 and clipped to [0, 255] before uint8.
    """
    head_img, head_lm = _check(head_img, head_lm, "head")
    face_img, face_lm = _check(face_img, face_lm, "face")
    height, width = head_img.shape[:2]
    matrix = swap_transform(head_lm, face_lm)
    warped = warp_source(face_img, matrix, (height, width))
    face_in_head = geometry.apply(matrix, face_lm)
    hard = np.maximum(hull_mask((height, width), head_lm), hull_mask((height, width), face_in_head))
    mask = feather(hard, feather_px)
    corrected = correct_colours(head_img, warped, head_lm, face_in_head, blur_fraction, colour)
    head = head_img.astype(np.float32)
    blended = head + (corrected - head) * mask[..., None]
    image = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    landmarks = face_in_head.astype(np.float32)
    landmarks[JAW] = head_lm[JAW]
    return SwapResult(image=image, landmarks=landmarks, mask=mask)
