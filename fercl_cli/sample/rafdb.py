"""Still photos in RAF-DB basic's layout, under ``<root>/rafdb/``::

    EmoLabel/list_patition_label.txt    (sic) ``train_00001.jpg 5`` ..., then ``test_0001.jpg 1`` ...
    Image/original/<name>.jpg           192×160 photos, the face left of centre
    Image/aligned/<stem>_aligned.jpg    100×100 faces cut from the photos
    ground_truth.csv                    one row per listed image: ``name``, ``split``, ``label``, then the
                                        ground-truth columns (identity, expression, intensity, pose, light)

Labels are RAF-DB's codes: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness, 6 Anger, 7 Neutral (no
contempt). The aligned faces are cut by the similarity that puts the eye centres at (35, 40) and (65, 40)
and the nose tip at (50, 56) (crop pixels; a choice, not RAF-DB's published template).

Split: within each class, photos are numbered across identities and every 5th (ranks 1, 6, 11, ...) is a
test image, the rest train (80/20; the test images hold every class once a class has two photos). Train
images are numbered ``train_00001`` ... and test images ``test_0001`` ... in the order they are made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fercl_cli.faces import geometry
from fercl_cli.faces.landmarks import eye_centres
from fercl_cli.sample.expressions import RAFDB_CODE
from fercl_cli.sample.identities import Identity
from fercl_cli.sample.records import state_columns, write_jpeg
from fercl_cli.sample.render import View, render
from fercl_cli.sample.stills import stills

RAFDB_VIEW = View(width=192, height=160, iod=36.0, eye_x=84.0, eye_y=66.0)
RAFDB_EXPRESSIONS = ("surprise", "fear", "disgust", "happy", "sad", "anger", "neutral")
ALIGNED_SIZE = 100
NOSE_TIP = 30
# Crop pixels of the right eye centre, the left eye centre and the nose tip in an aligned face.
ALIGNED_POINTS = np.array([[35.0, 40.0], [65.0, 40.0], [50.0, 56.0]])


@dataclass(frozen=True)
class RafDbCounts:
    """Images listed as train and as test."""

    train: int
    test: int


def is_test(rank_in_class: int) -> bool:
    """Whether the ``rank_in_class``-th photo of a class is a test image."""
    return rank_in_class % 5 == 1


def aligned_face(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """uint8 [100, 100, 3]: ``image`` (uint8 [H, W, 3] RGB) cut by the similarity that maps the eye centres
    and the nose tip of ``landmarks`` ([68, 2], image px) onto :data:`ALIGNED_POINTS`."""
    import cv2

    right, left = eye_centres(landmarks)
    matrix = geometry.similarity_transform(np.stack([right, left, landmarks[NOSE_TIP]]), ALIGNED_POINTS)
    size = (ALIGNED_SIZE, ALIGNED_SIZE)
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def write_rafdb(
    root: Path, identities: Sequence[Identity], per_class: int, seed: int, tick: Callable[[int], None]
) -> RafDbCounts:
    """Write ``per_class`` photos of each identity for each of the 7 classes under ``root/rafdb``."""
    import pandas as pd

    base = root / "rafdb"
    rows: dict[str, list[dict[str, object]]] = {"train": [], "test": []}
    for still in stills(identities, RAFDB_EXPRESSIONS, per_class, seed, stream=7):
        shown = render(still.identity.portrait, still.state, RAFDB_VIEW)
        split = "test" if is_test(still.rank_in_class) else "train"
        number = len(rows[split]) + 1
        stem = f"train_{number:05d}" if split == "train" else f"test_{number:04d}"
        write_jpeg(base / "Image" / "original" / f"{stem}.jpg", shown.image)
        write_jpeg(
            base / "Image" / "aligned" / f"{stem}_aligned.jpg", aligned_face(shown.image, shown.landmarks)
        )
        truth = state_columns(still.identity, still.state)
        rows[split].append(
            {"name": f"{stem}.jpg", "split": split, "label": RAFDB_CODE[still.state.expression], **truth}
        )
        tick(1)
    listed = rows["train"] + rows["test"]
    labels = base / "EmoLabel" / "list_patition_label.txt"
    labels.parent.mkdir(parents=True, exist_ok=True)
    labels.write_text("".join(f"{row['name']} {row['label']}\n" for row in listed))
    pd.DataFrame(listed).to_csv(base / "ground_truth.csv", index=False)
    return RafDbCounts(train=len(rows["train"]), test=len(rows["test"]))
