"""Still photos in AffectNet's format.

Under ``<root>/affectnet/``: ``Manually_Annotated_Images/<sub>/<file>.jpg`` (256×256, ``<sub>`` a number,
``<file>`` a 56-hex-digit name), ``training.csv`` and ``validation.csv`` with AffectNet's columns
(``subDirectory_filePath, face_x, face_y, face_width, face_height, facial_landmarks, expression, valence,
arousal``; expression codes 0 Neutral … 7 Contempt; landmarks ``"x1;y1;...;x68;y68"``), and
``ground_truth.csv`` (the same rows with identity, intensity, pose and light).

Split: within each expression, photos are numbered across identities and every 4th (ranks 1, 5, 9, ...)
goes to validation, so validation holds every class once there are two photos of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.sample.expressions import AFFECTNET_CODE, EXPRESSIONS
from fercl_cli.sample.identities import Identity
from fercl_cli.sample.records import format_landmarks, state_columns, write_jpeg
from fercl_cli.sample.render import Rendered, View, render
from fercl_cli.sample.stills import stills
from fercl_cli.sources.affectnet import CSV_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

AFFECTNET_VIEW = View(width=256, height=256, iod=52.0, eye_x=128.0, eye_y=112.0)
IMAGES_PER_FOLDER = 100


@dataclass(frozen=True)
class AffectNetCounts:
    """Photos written to training.csv and validation.csv."""

    training: int
    validation: int


def face_box(landmarks: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` integer face box around ``landmarks`` [68, 2], raised to include the forehead."""
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    y0 -= 0.25 * (y1 - y0)
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    return x0, y0, x1 - x0, y1 - y0


def image_path(key: str, index: int) -> str:
    """``<folder>/<file>.jpg`` of photo ``index`` (:data:`IMAGES_PER_FOLDER` a folder, numbered from 1),
    ``<file>`` the first 56 hex digits of the SHA-256 of ``key``."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:56]
    return f"{index // IMAGES_PER_FOLDER + 1}/{digest}.jpg"


def affectnet_row(relative: str, shown: Rendered, truth: dict[str, object], split: str) -> dict[str, object]:
    """A ground-truth row: AffectNet's CSV columns for the photo at ``relative`` (face box and landmarks of
    ``shown``, the code of ``truth["expression"]``), ``split``, then the rest of ``truth``
    (:func:`~fercl_cli.sample.records.state_columns`) with the expression's name as ``expression_name``."""
    x, y, w, h = face_box(shown.landmarks, shown.image.shape[1], shown.image.shape[0])
    expression = str(truth["expression"])
    return {
        "subDirectory_filePath": relative,
        "face_x": x,
        "face_y": y,
        "face_width": w,
        "face_height": h,
        "facial_landmarks": format_landmarks(shown.landmarks),
        "expression": AFFECTNET_CODE[expression],
        "valence": truth["valence"],
        "arousal": truth["arousal"],
        "split": split,
        **{k: v for k, v in truth.items() if k not in ("expression", "valence", "arousal")},
        "expression_name": expression,
    }


def write_tables(base: Path, rows: list[dict[str, object]]) -> pd.DataFrame:
    """Under ``base``: ``training.csv`` and ``validation.csv`` (AffectNet's columns of the rows of that
    ``split``) and ``ground_truth.csv`` (every column); returns the table of ``rows``."""
    import pandas as pd

    table = pd.DataFrame(rows)
    for split in ("training", "validation"):
        table.loc[table["split"] == split, list(CSV_COLUMNS)].to_csv(base / f"{split}.csv", index=False)
    table.to_csv(base / "ground_truth.csv", index=False)
    return table


def write_affectnet(
    root: Path, identities: Sequence[Identity], per_class: int, seed: int, tick: Callable[[int], None]
) -> AffectNetCounts:
    """Write ``per_class`` photos of each identity for each of the 8 classes under ``root/affectnet``."""
    base = root / "affectnet"
    images = base / "Manually_Annotated_Images"
    rows: list[dict[str, object]] = []
    for index, still in enumerate(stills(identities, EXPRESSIONS, per_class, seed, stream=3)):
        shown = render(still.identity.portrait, still.state, AFFECTNET_VIEW)
        relative = image_path(f"{seed}/{still.identity.name}/{index}", index)
        write_jpeg(images / relative, shown.image)
        split = "validation" if still.rank_in_class % 4 == 1 else "training"
        rows.append(affectnet_row(relative, shown, state_columns(still.identity, still.state), split))
        tick(1)
    table = write_tables(base, rows)
    n_val = int((table["split"] == "validation").sum())
    return AffectNetCounts(training=len(table) - n_val, validation=n_val)
