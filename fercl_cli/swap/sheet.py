"""A contact sheet of a swap bank: per swap, the expression source, the head donor and the result."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.store.swap_bank import SwapBank

if TYPE_CHECKING:
    from fercl_cli.store.reader import FaceStore

_POINT = (0, 255, 0)
_TEXT = (255, 255, 255)
_BACKGROUND = 32


def _caption(tile: np.ndarray, text: str) -> None:
    import cv2

    cv2.putText(
        tile, text[:24], (3, tile.shape[0] - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.35, _TEXT, 1, cv2.LINE_AA
    )


def _header(width: int, tile: int, per_row: int, gap: int) -> np.ndarray:
    """A strip naming the three tiles of each triplet."""
    import cv2

    strip = np.full((18, width, 3), _BACKGROUND, np.uint8)
    for k in range(per_row):
        for m, name in enumerate(("source", "donor", "swap")):
            x = k * (3 * tile + gap) + m * tile + 4
            cv2.putText(strip, name, (x, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, _TEXT, 1, cv2.LINE_AA)
    return strip


def swap_sheet(
    bank: SwapBank,
    store: FaceStore,
    n: int = 8,
    seed: int = 0,
    tile: int = 128,
    per_row: int = 4,
    landmarks: bool = False,
) -> np.ndarray:
    """uint8 RGB grid of ``min(n, swaps)`` swaps drawn with ``seed``: ``per_row`` triplets a row, each
    source | donor | swap (tiles of ``tile`` px, captioned with store rows, a gap between triplets), under
    a header naming the tiles; ``landmarks`` draws the result's landmarks as green points.

    Shape [18 + rows·tile, per_row·3·tile + (per_row − 1)·gap, 3] with rows = ceil(m / per_row) and
    per_row lowered to m when fewer swaps are drawn."""
    import cv2

    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if per_row < 1:
        raise ValueError(f"per_row must be at least 1, got {per_row}")
    if len(bank) == 0:
        raise ValueError(f"{bank.path} holds no swaps")
    picks = np.sort(np.random.default_rng(seed).choice(len(bank), size=min(n, len(bank)), replace=False))
    per_row = min(per_row, len(picks))
    gap = max(4, tile // 16)
    scale = tile / bank.crop_size
    triplets = []
    for index in picks:
        swap = bank.swap(int(index))
        tiles = [
            cv2.resize(img, (tile, tile))
            for img in (store.image(swap.source), store.image(swap.donor), swap.image)
        ]
        if landmarks:
            for x, y in np.round((swap.landmarks + 0.5) * scale - 0.5).astype(np.int32):
                cv2.circle(tiles[2], (int(x), int(y)), 1, _POINT, -1, cv2.LINE_AA)
        _caption(tiles[0], f"row {swap.source}")
        _caption(tiles[1], f"row {swap.donor}")
        _caption(tiles[2], f"swap {index}")
        triplets.append(np.concatenate(tiles, axis=1))
    blank = np.full_like(triplets[0], _BACKGROUND)
    triplets += [blank] * (-len(triplets) % per_row)
    spacer = np.full((tile, gap, 3), _BACKGROUND, np.uint8)
    rows = []
    for start in range(0, len(triplets), per_row):
        parts = []
        for triplet in triplets[start : start + per_row]:
            parts += [triplet, spacer]
        rows.append(np.concatenate(parts[:-1], axis=1))
    grid = np.concatenate(rows, axis=0)
    return np.concatenate([_header(grid.shape[1], tile, per_row, gap), grid], axis=0)


def save_swap_sheet(
    bank: SwapBank,
    store: FaceStore,
    path: str | Path,
    n: int = 8,
    seed: int = 0,
    landmarks: bool = False,
) -> Path:
    """Write :func:`swap_sheet` as an image file (format from the suffix, e.g. ``.png``); returns the path."""
    import cv2

    path = Path(path)
    image = swap_sheet(bank, store, n, seed, landmarks=landmarks)
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise ValueError(f"{path}: OpenCV cannot write this image format; use .png or .jpg")
    return path
