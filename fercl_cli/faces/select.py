"""Choosing the one face to keep when a frame has several.

Rules:
- ``best``: highest detector score (default). Robust to same-sized false alarms such as the mission
  patch on scikit-image's astronaut, which HOG with upsample 1 scores far below the real face.
- ``largest``: largest box, ties broken by score.
- ``track``: the face whose box overlaps the previous frame's box most (IoU); falls back to ``best``
  when there is no previous box or no face overlaps it by at least ``min_iou``.
"""

from __future__ import annotations

import numpy as np

from fercl_cli.faces.types import Face

RULES = ("best", "largest", "track")


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes ``(x0, y0, x1, y1)``."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def choose_face(
    faces: list[Face], rule: str = "best", previous_box: np.ndarray | None = None, min_iou: float = 0.3
) -> Face | None:
    """The face to keep under ``rule`` (see module docstring), or ``None`` when ``faces`` is empty."""
    if rule not in RULES:
        raise ValueError(f"unknown face-selection rule {rule!r}; choose one of {', '.join(RULES)}")
    if not faces:
        return None
    if rule == "largest":
        return max(faces, key=lambda f: (f.area, f.score))
    if rule == "track" and previous_box is not None:
        overlap, face = max(((iou(f.box, previous_box), f) for f in faces), key=lambda t: t[0])
        if overlap >= min_iou:
            return face
    return max(faces, key=lambda f: f.score)
