"""A contact sheet of the written corpus, for a person to check it: one row per identity, one column per
expression, each tile the identity's interval-face JPEG where that expression is strongest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercl_cli.sample.expressions import EXPRESSIONS

TILE = 112
MAX_ROWS = 12
_LABEL_HEIGHT = 18


def _label(tile: np.ndarray, text: str) -> None:
    import cv2

    cv2.rectangle(tile, (0, TILE - 14), (TILE - 1, TILE - 1), (0, 0, 0), -1)
    cv2.putText(tile, text, (3, TILE - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (255, 255, 255), 1, cv2.LINE_AA)


def write_contact_sheet(voxceleb_dir: Path, out_path: Path) -> Path:
    """Tile the strongest interval frame per (identity, expression) from ``voxceleb_dir``'s ground truth.

    Returns ``out_path`` (a JPEG). Tiles are ``TILE`` px, labelled with identity, expression and intensity;
    an expression an identity never shows is a grey tile.
    """
    import cv2
    import pandas as pd

    truth = pd.read_csv(voxceleb_dir / "ground_truth.csv", dtype={"clip": str})
    truth = truth[truth["interval_frame"] == 1]
    meta = pd.read_csv(voxceleb_dir / "vox1_meta.csv", sep="\t")
    names = dict(zip(meta["VoxCeleb1 ID"], meta["VGGFace1 ID"], strict=True))
    rows = []
    for ident, frames in list(truth.groupby("voxceleb_id", sort=True))[:MAX_ROWS]:
        tiles = []
        for expression in EXPRESSIONS:
            shown = frames[frames["expression"] == expression]
            tile = np.full((TILE, TILE, 3), 128, dtype=np.uint8)
            if len(shown):
                best = shown.loc[shown["intensity"].idxmax()]
                path = (
                    voxceleb_dir / "unzippedIntervalFaces" / "data" / names[ident] / "1.6"
                    / str(best["video_id"]) / str(int(best["clip"])) / f"{int(best['frame_number']):07d}.jpg"
                )  # fmt: skip
                tile = cv2.resize(cv2.imread(str(path)), (TILE, TILE), interpolation=cv2.INTER_AREA)
                _label(tile, f"{expression} {best['intensity']:.2f}")
            tiles.append(tile)
        row = np.concatenate(tiles, axis=1)
        band = np.zeros((_LABEL_HEIGHT, row.shape[1], 3), dtype=np.uint8)
        cv2.putText(
            band, f"{ident} {names[ident]}", (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1
        )
        rows.append(np.concatenate([band, row], axis=0))
    sheet = np.concatenate(rows, axis=0)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_path), sheet, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return out_path
