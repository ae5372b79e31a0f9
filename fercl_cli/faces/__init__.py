"""Face detection, 68-point landmarks and alignment.

Backends implement :class:`fercl_cli.faces.types.FaceBackend`; :func:`make_backend` builds one by name.
"""

from __future__ import annotations

import os

from fercl_cli.faces.types import Face, FaceBackend

BACKENDS = ("dlib", "insightface")


def make_backend(
    name: str = "dlib",
    models_dir: str | os.PathLike | None = None,
    upsample: int = 1,
    cnn_fallback: bool = False,
    face_px: int = 0,
) -> FaceBackend:
    """A face backend by name (``dlib`` default, ``insightface`` with a user-supplied model folder).
    ``face_px``: dlib's fast detection on large frames (see :class:`~fercl_cli.faces.dlib_backend.DlibBackend`)."""
    if name == "dlib":
        from fercl_cli.faces.dlib_backend import DlibBackend

        return DlibBackend(
            models_dir=models_dir, upsample=upsample, cnn_fallback=cnn_fallback, face_px=face_px
        )
    if name == "insightface":
        from fercl_cli.faces.insightface_backend import InsightFaceBackend

        return InsightFaceBackend(models_dir=models_dir)
    raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Face", "FaceBackend", "make_backend"]
