"""A contact sheet of a swap bank: per swap, the expression source, the head donor and the result."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercl_cli.swap.bank import SwapBank

_POINT = (0, 255, 0)
_TEXT = (255, 255, 255)


def _caption(tile: np.ndarray, text: str) -> None:
    import cv2

    cv2.putText(
        tile, text[:24], (3, tile.shape[0] - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.35, _TEXT, 1, cv2.LINE_AA
    )


def swap_sheet(bank: SwapBank, store, n: int = 8, seed: int = 0, tile: int = 128) -> np.ndarray:  # noqa: ANN001 - FaceStore
    """uint8 [rows·tile, 3·tile, 3] RGB: for ``min(n, swaps)`` swaps drawn with ``seed``, one line of
    source | donor | swap (with the result's landmarks as green points), captioned with store rows."""
    import cv2

    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if len(bank) == 0:
        raise ValueError(f"{bank.path} holds no swaps")
    picks = np.sort(np.random.default_rng(seed).choice(len(bank), size=min(n, len(bank)), replace=False))
    scale = tile / bank.crop_size
    lines = []
    for index in picks:
        swap = bank.swap(int(index))
        tiles = [
            cv2.resize(img, (tile, tile))
            for img in (store.image(swap.source), store.image(swap.donor), swap.image)
        ]
        for x, y in np.round((swap.landmarks + 0.5) * scale - 0.5).astype(np.int32):
            cv2.circle(tiles[2], (int(x), int(y)), 1, _POINT, -1, cv2.LINE_AA)
        _caption(tiles[0], f"source {swap.source}")
        _caption(tiles[1], f"donor {swap.donor}")
        _caption(tiles[2], f"swap {index}")
        lines.append(np.concatenate(tiles, axis=1))
    return np.concatenate(lines, axis=0)


def save_swap_sheet(bank: SwapBank, store, path: str | Path, n: int = 8, seed: int = 0) -> Path:  # noqa: ANN001
    """Write :func:`swap_sheet` as an image file (format from the suffix, e.g. ``.png``); returns the path."""
    import cv2

    path = Path(path)
    if not cv2.imwrite(str(path), cv2.cvtColor(swap_sheet(bank, store, n, seed), cv2.COLOR_RGB2BGR)):
        raise ValueError(f"{path}: OpenCV cannot write this image format; use .png or .jpg")
    return path
