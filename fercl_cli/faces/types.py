"""Data types shared by the face-analysis backends.

Coordinate frame: pixels of the image passed to the backend, x to the right, y down, origin at the
top-left corner of the top-left pixel's centre (OpenCV/dlib convention). Images are RGB uint8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Face:
    """One detected face.

    Attributes:
        box: float32 [4] ``(x0, y0, x1, y1)`` in source pixels.
        score: detector confidence (HOG margin, MMOD score, or 0.0 for a tracked re-fit).
        landmarks: float32 [68, 2] ``(x, y)`` in source pixels, iBUG 68-point order.
        detector: which stage produced the box: ``"hog"``, ``"cnn"``, ``"tracked"`` or ``"insightface"``.
    """

    box: np.ndarray
    score: float
    landmarks: np.ndarray
    detector: str

    @property
    def area(self) -> float:
        """Box area in square pixels."""
        return float(max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1]))


class FaceBackend(Protocol):
    """A detector plus 68-point landmark model."""

    name: str

    def detect(self, image: np.ndarray, face_width: float | None = None) -> list[Face]:
        """All faces in ``image`` (uint8 [H, W, 3] RGB), best first. ``face_width``: the expected face
        width in source px when known (a hint a backend may use to search faster, never to miss a face)."""
        ...

    def refit(self, image: np.ndarray, box: np.ndarray) -> Face:
        """Landmarks for a known ``box`` (float [4], source pixels) without running the detector."""
        ...
