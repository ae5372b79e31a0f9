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
