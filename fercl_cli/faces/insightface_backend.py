"""Optional backend: insightface's detector and 68-point 3D landmark model (``pip install fercl[insightface]``).

insightface ships no model files and would download them at run time, which fercl never does: the
user passes a folder that already holds a model pack (e.g. ``buffalo_l`` with its ``det_*.onnx`` and
``1k3d68.onnx``), laid out as ``MODELS_DIR/models/<pack>/*.onnx``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.faces.types import Face

if TYPE_CHECKING:
    from insightface.app.common import Face as InsightFace


def check_model_pack(models_dir: str | os.PathLike | None, pack: str) -> Path:
    """The pack folder ``models_dir/models/<pack>`` after checking it holds .onnx files."""
    if not models_dir:
        raise FerclError(
            "the insightface backend needs --models-dir pointing at a folder with models/<pack>/*.onnx "
            "(insightface would otherwise download them, which fercl never does); or use --detector dlib"
        )
    folder = Path(models_dir) / "models" / pack
    if not folder.is_dir() or not any(folder.glob("*.onnx")):
        raise FerclError(
            f"no insightface model pack at {folder} (expected .onnx files such as det_10g.onnx and "
            f"1k3d68.onnx); copy the '{pack}' pack there or use --detector dlib"
        )
    return folder


class InsightFaceBackend:
    """insightface detection + ``landmark_3d_68`` landmarks (x, y kept), from a local model pack."""

    name = "insightface"

    def __init__(
        self, models_dir: str | os.PathLike | None, pack: str = "buffalo_l", det_size: int = 640
    ) -> None:
        if importlib.util.find_spec("insightface") is None:
            raise FerclError(
                "insightface is not installed; run 'pip install fercl[insightface]' or use --detector dlib"
            )
        check_model_pack(models_dir, pack)
        from insightface.app import FaceAnalysis

        self._app = FaceAnalysis(
            name=pack, root=str(models_dir), allowed_modules=["detection", "landmark_3d_68"]
        )
        self._app.prepare(ctx_id=-1, det_size=(det_size, det_size))

    @staticmethod
    def _to_face(found: InsightFace, detector: str) -> Face:
        return Face(
            box=np.asarray(found.bbox, dtype=np.float32),
            score=float(getattr(found, "det_score", 0.0) or 0.0),
            landmarks=np.asarray(found.landmark_3d_68, dtype=np.float32)[:, :2],
            detector=detector,
        )

    def detect(self, image: np.ndarray, face_width: float | None = None) -> list[Face]:
        """All faces in ``image`` (uint8 [H, W, 3] RGB), highest score first. ``face_width`` is not
        used: SCRFD already detects on a copy resized to its fixed input size."""
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        faces = [self._to_face(f, "insightface") for f in self._app.get(bgr)]
        return sorted(faces, key=lambda f: -f.score)

    def refit(self, image: np.ndarray, box: np.ndarray) -> Face:
        """Landmarks for a known box, running only the landmark model."""
        from insightface.app.common import Face as InsightFace

        bgr = np.ascontiguousarray(image[:, :, ::-1])
        found = InsightFace(bbox=np.asarray(box, dtype=np.float32), det_score=0.0)
        self._app.models["landmark_3d_68"].get(bgr, found)
        return self._to_face(found, "tracked")
