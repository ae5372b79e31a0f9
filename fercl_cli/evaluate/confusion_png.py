"""A confusion-matrix picture drawn with OpenCV (matplotlib is only a development extra).

Cells are shaded by the row-normalised rate (the fraction of each true class predicted as each class,
white 0 → dark blue 1) and show the count and the rate in percent; rows are true classes, columns
predicted classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fercl_cli.errors import FerclError

CELL = 64
_FONT_SCALE = 0.4


def render_confusion(matrix: np.ndarray, class_names: Sequence[str], title: str) -> np.ndarray:
    """uint8 [H, W, 3] BGR picture of ``matrix`` (int [K, K], rows = true, columns = predicted)."""
    import cv2

    matrix = np.asarray(matrix, dtype=np.int64)
    k = len(class_names)
    if matrix.shape != (k, k):
        raise ValueError(f"matrix must be [{k}, {k}] for {k} class names, got {matrix.shape}")
    font = cv2.FONT_HERSHEY_SIMPLEX
    label_width = max(cv2.getTextSize(n, font, _FONT_SCALE, 1)[0][0] for n in class_names) + 16
    left, top = label_width + 20, 60
    title_width = cv2.getTextSize(title, font, 0.5, 1)[0][0] + 20
    height, width = top + k * CELL + label_width + 30, max(left + k * CELL + 20, title_width)
    canvas = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(canvas, title, (10, 22), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "rows: true class, columns: predicted", (10, 44), font, _FONT_SCALE, (80, 80, 80), 1)
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    for i in range(k):
        for j in range(k):
            shade = 1.0 - rates[i, j]
            colour = (int(255 - 105 * rates[i, j]), int(255 * shade * 0.85 + 40), int(255 * shade))
            x0, y0 = left + j * CELL, top + i * CELL
            cv2.rectangle(canvas, (x0, y0), (x0 + CELL, y0 + CELL), colour, -1)
            cv2.rectangle(canvas, (x0, y0), (x0 + CELL, y0 + CELL), (200, 200, 200), 1)
            ink = (255, 255, 255) if rates[i, j] > 0.5 else (0, 0, 0)
            cv2.putText(canvas, str(matrix[i, j]), (x0 + 6, y0 + 26), font, _FONT_SCALE, ink, 1, cv2.LINE_AA)
            cv2.putText(
                canvas, f"{100 * rates[i, j]:.0f}%", (x0 + 6, y0 + 48), font, _FONT_SCALE, ink, 1, cv2.LINE_AA
            )
    for i, name in enumerate(class_names):
        y = top + i * CELL + CELL // 2 + 4
        cv2.putText(canvas, name, (10, y), font, _FONT_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    # Column names: written as rows of a side strip, turned clockwise so they read downwards under the grid.
    strip = np.full((k * CELL, label_width, 3), 255, np.uint8)
    for j, name in enumerate(class_names):
        y = (k - 1 - j) * CELL + CELL // 2 + 4
        cv2.putText(strip, name, (8, y), font, _FONT_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    below = top + k * CELL + 10
    canvas[below : below + label_width, left : left + k * CELL] = cv2.rotate(strip, cv2.ROTATE_90_CLOCKWISE)
    return canvas


def write_confusion_png(path: Path, matrix: np.ndarray, class_names: Sequence[str], title: str) -> Path:
    """Draw :func:`render_confusion` and save it as PNG at ``path``."""
    import cv2

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise FerclError(f"--confusion {path}: the picture is written as PNG; give a path ending in .png")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), render_confusion(matrix, class_names, title)):
        raise FerclError(f"--confusion {path}: could not write the PNG; check the folder is writable")
    return path
