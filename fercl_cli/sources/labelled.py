"""The record every evaluation-dataset reader (AffectNet, FER2013, RAF-DB, LFW) yields, and the interface they
share.

Split names follow the evaluation protocol, not the dataset's own words: ``train`` fits the probe,
``select`` chooses its hyper-parameters, ``test`` is reported, ``all`` is a pool the protocol splits
itself (LFW).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

TRAIN = "train"
SELECT = "select"
TEST = "test"
ALL = "all"


@dataclass(frozen=True)
class LabelledImage:
    """One evaluation image.

    Attributes:
        image: uint8 [S, S, 3] RGB (S = the reader's ``size``; LFW with ``size=None`` keeps [62, 47, 3]).
        label: class code in the dataset's own numbering (AffectNet 0-7, FER2013 0-6, FER+ 0-7, LFW person
            index), or RAF-DB's 1-7 minus one (0-6): always the index into the reader's ``class_names``.
        split: ``train``, ``select``, ``test`` or ``all``.
        key: where the image came from: a path relative to the dataset root, or ``<file>:<line>``.
        valence, arousal: AffectNet's continuous labels in [-1, 1]; NaN when missing or not annotated.
    """

    image: np.ndarray
    label: int
    split: str
    key: str
    valence: float = math.nan
    arousal: float = math.nan


class LabelledSource(Protocol):
    """An evaluation dataset read from its official format."""

    name: str
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        """Rows the source lists after label filtering; iteration yields fewer when images are skipped."""
        ...

    def __iter__(self) -> Iterator[LabelledImage]:
        """Images one at a time, in file order; the counters in :meth:`counts` are reset at the start."""
        ...

    def counts(self) -> dict[str, int]:
        """Named counters (rows dropped, images missing, fallbacks used) for JSON output."""
        ...

    def notes(self) -> list[str]:
        """One line per fact the user should see (drops, conversions, fallbacks); empty when none."""
        ...


class ImageReads:
    """Reading a dataset's listed images with the two counters every reader reports: ``missing_images``
    (listed, not on disk) and ``unreadable_images`` (on disk, not decodable)."""

    missing_images: int
    unreadable_images: int

    def _read_image(self, path: Path) -> np.ndarray | None:
        """uint8 [H, W, 3] RGB of ``path``; None when it is missing or cannot be decoded (counted)."""
        import cv2

        if not path.is_file():
            self.missing_images += 1
            return None
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            self.unreadable_images += 1
            return None
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def _image_notes(self, name: str, listed: str, folder: Path) -> list[str]:
        """The notes of those counters: ``listed`` images missing under ``folder``, undecodable images."""
        notes = []
        if self.missing_images:
            notes.append(
                f"{name}: {self.missing_images} {listed} image(s) not found under {folder}; the rest were read"
            )
        if self.unreadable_images:
            notes.append(f"{name}: {self.unreadable_images} image(s) could not be decoded and were skipped")
        return notes
