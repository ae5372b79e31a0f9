"""Contact sheets: a grid of sampled crops with their landmarks drawn (OpenCV), to eyeball a store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.faces.landmarks import GROUPS
from fercl_cli.store.reader import FaceStore

_CLOSED = {"right_eye", "left_eye", "outer_mouth", "inner_mouth"}
_POINT = (0, 255, 0)
_LINE = (255, 200, 0)
_TEXT = (255, 255, 255)
_MISSING = (255, 64, 64)


def sample_rows(store: FaceStore, n: int, seed: int) -> np.ndarray:
    """``min(n, frames)`` distinct rows drawn uniformly with ``seed``, sorted."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(store.n_frames, size=min(n, store.n_frames), replace=False))


def _tile(
    store: FaceStore, row: int, image: np.ndarray, landmarks: np.ndarray, has: bool, size: int
) -> np.ndarray:
    import cv2

    scale = size / store.crop_size
    tile = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if has:
        points = np.round((landmarks + 0.5) * scale - 0.5).astype(np.int32)
        for name, index in GROUPS.items():
            cv2.polylines(tile, [points[index]], name in _CLOSED, _LINE, 1, cv2.LINE_AA)
        for x, y in points:
            cv2.circle(tile, (int(x), int(y)), 1, _POINT, -1, cv2.LINE_AA)
    clip = int(store.column("clip", row))
    identity = store.identity_names[int(store.clip_identity[clip])]
    label = f"{row} {identity}"[:24] if has else f"{row} no landmarks"[:24]
    cv2.putText(
        tile, label, (3, size - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.35, _TEXT if has else _MISSING, 1, cv2.LINE_AA
    )
    return tile


def contact_sheet(store: FaceStore, rows: np.ndarray, columns: int = 6, tile: int = 160) -> np.ndarray:
    """uint8 [H, W, 3] RGB grid of the crops at ``rows`` (each resized to ``tile`` px) with landmarks
    (green points, group outlines) and "row identity" captions; empty cells are black."""
    if len(rows) == 0:
        raise ValueError("no rows to draw")
    columns = min(columns, len(rows))
    grid_rows = -(-len(rows) // columns)
    sheet = np.zeros((grid_rows * tile, columns * tile, 3), np.uint8)
    images = store.images(rows)
    landmarks, has = store.landmarks(rows), store.has_landmarks(rows)
    for i, row in enumerate(rows):
        y, x = divmod(i, columns)
        sheet[y * tile : (y + 1) * tile, x * tile : (x + 1) * tile] = _tile(
            store, int(row), images[i], landmarks[i], bool(has[i]), tile
        )
    return sheet


def save_contact_sheet(store: FaceStore, path: str | Path, n: int = 24, seed: int = 0) -> np.ndarray:
    """Write a contact sheet of ``n`` rows sampled with ``seed`` to the image file ``path`` (PNG/JPEG);
    returns the rows drawn. :class:`FerclError` when the store is empty or the file cannot be written."""
    import cv2

    path = Path(path)
    if store.n_frames == 0:
        raise FerclError(f"{store.path}: has no frames to draw; nothing to put on a contact sheet")
    rows = sample_rows(store, n, seed)
    sheet = contact_sheet(store, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    except cv2.error:
        written = False
    if not written:
        raise FerclError(
            f"{path}: OpenCV could not write the contact sheet; use a .png or .jpg path in a writable folder"
        )
    return rows
