"""Similarity alignment of a face onto the canonical template, producing an S×S RGB crop.

Coordinate frames: *source* pixels of the input image and *crop* pixels of the S×S output, both with
integer coordinates at pixel centres. ``matrix`` maps source → crop; its inverse maps crop → source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercl_cli.faces import geometry
from fercl_cli.faces.landmarks import N_LANDMARKS, RIGID
from fercl_cli.faces.template import DEFAULT_TEMPLATE, Template


@dataclass(frozen=True)
class AlignedFace:
    """An aligned crop.

    Attributes:
        image: uint8 [S, S, 3] RGB crop.
        landmarks: float32 [68, 2] landmarks in crop pixels.
        matrix: float64 [2, 3] similarity mapping source pixels to crop pixels.
    """

    image: np.ndarray
    landmarks: np.ndarray
    matrix: np.ndarray

    def to_source(self, points: np.ndarray) -> np.ndarray:
        """Crop-pixel points [..., 2] mapped back to source pixels (float64)."""
        return geometry.apply(geometry.invert(self.matrix), points)


def alignment_matrix(landmarks: np.ndarray, size: int, template: Template = DEFAULT_TEMPLATE) -> np.ndarray:
    """The source→crop similarity (float64 [2, 3]) fitted on the expression-stable points (eye corners, nose)."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks must be [68, 2], got {landmarks.shape}")
    if not np.isfinite(landmarks).all():
        raise ValueError("landmarks contain NaN or infinite values")
    return geometry.similarity_transform(landmarks[RIGID], template.points(size)[RIGID])


def align_face(
    image: np.ndarray, landmarks: np.ndarray, size: int = 128, template: Template = DEFAULT_TEMPLATE
) -> AlignedFace:
    """Warp ``image`` (uint8 [H, W, 3] RGB) so that ``landmarks`` ([68, 2] source px) sit on the template.

    Pixels outside the source are filled by replicating the border. Returns the crop, the landmarks in
    crop pixels and the source→crop matrix.
    """
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be uint8 [H, W, 3] RGB, got {image.dtype} {image.shape}")
    matrix = alignment_matrix(landmarks, size, template)
    crop = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    crop_landmarks = geometry.apply(matrix, landmarks).astype(np.float32)
    return AlignedFace(image=crop, landmarks=crop_landmarks, matrix=matrix)
