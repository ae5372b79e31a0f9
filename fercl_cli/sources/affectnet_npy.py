"""AffectNet's newer release, whose labels are one ``.npy`` file per image and value::

    <root>/train_set/images/<n>.jpg
    <root>/train_set/annotations/<n>_exp.npy    expression code (a numpy string or integer; codes as in
                                                 the CSV release: 0 Neutral ... 7 Contempt, 8-10 dropped)
                                 <n>_val.npy, <n>_aro.npy    valence, arousal in [-1, 1] (−2 = missing)
                                 <n>_lnd.npy    68 landmarks, 136 numbers x1, y1, x2, y2, ... (image pixels)
    <root>/val_set/...                           the same: the class-balanced validation set (500 per class)

Protocol: ``train_set`` fits (a held-out part of it selects hyper-parameters), ``val_set`` is the reported
test set. An image is listed by its ``<n>_exp.npy``; the expression files are read and checked when the
release is opened, everything else while iterating. Codes 8-10 and, with ``classes=7``, Contempt are
dropped and counted. Faces are aligned on the landmarks like the pretraining crops; the release's images
are already face crops, so when ``<n>_lnd.npy`` is absent or unusable the whole image is resized instead
(counted). A missing ``<n>_val.npy`` / ``<n>_aro.npy`` is a missing value (NaN), counted.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.sources.affectnet import (
    MISSING,
    NPY_SETS,
    AffectNet,
    ReleasePart,
    aligned_crop,
    box_crop,
    kept_codes,
)
from fercl_cli.sources.labelled import TEST, TRAIN, LabelledImage

EXPRESSION_SUFFIX = "_exp.npy"
_SPLITS = dict(zip(NPY_SETS, (TRAIN, TEST), strict=True))
_LAYOUT = "train_set/ and val_set/, each with images/<n>.jpg and annotations/<n>_exp.npy, _val, _aro, _lnd"


def npy_layout(root: Path, images: Path | None = None) -> tuple[tuple[Path, str], ...]:
    """``(set folder, split)`` of the .npy release under ``root``: ``train_set`` → train, ``val_set`` → test.

    Raises:
        FerclError: a set or its ``images/`` or ``annotations/`` folder is missing, or an image folder was
            passed (this release keeps its own).
    """
    root = Path(root)
    if images is not None:
        raise FerclError(
            f"{images}: --images applies to AffectNet's CSV release; the .npy release under {root} keeps its "
            "images in train_set/images and val_set/images: drop --images"
        )
    for name in NPY_SETS:
        for folder in (root / name, root / name / "images", root / name / "annotations"):
            if not folder.is_dir():
                raise FerclError(f"{folder}: folder not found; AffectNet's .npy release has {_LAYOUT}")
    return tuple((root / name, _SPLITS[name]) for name in NPY_SETS)


def _order(stem: str) -> tuple[int, int | str]:
    """Sort key: numeric image names in number order, then any others by name."""
    return (0, int(stem)) if stem.isdigit() else (1, stem)


def read_value(path: Path) -> float:
    """The one number a ``.npy`` annotation holds (stored as a numpy string or number).

    Raises:
        FerclError: the file does not load or does not hold exactly one number.
    """
    try:
        value = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise FerclError(f"{path}: not a readable .npy file ({exc}); replace or remove the file") from None
    if value.size != 1:
        raise FerclError(f"{path}: holds {value.size} values, not one; replace or remove the file")
    item = value.reshape(-1)[0]
    try:
        return float(item)
    except (TypeError, ValueError):
        raise FerclError(f"{path}: holds {str(item)!r}, not a number; replace or remove the file") from None


def read_landmarks(path: Path) -> np.ndarray | None:
    """``<n>_lnd.npy`` → float32 [68, 2] image pixels; None when absent, unreadable or not 136 numbers."""
    try:
        values = np.load(path, allow_pickle=False).reshape(-1).astype(np.float64)
    except (OSError, ValueError, EOFError):
        return None
    if values.size != 136 or not np.isfinite(values).all():
        return None
    return values.reshape(68, 2).astype(np.float32)


class AffectNetNpySet(ReleasePart):
    """One set (``train_set`` or ``val_set``) of the .npy release: expressions are read when it is opened,
    images, valence, arousal and landmarks one image at a time during iteration."""

    def __init__(
        self, folder: Path, split: str, *, classes: int = 8, size: int = 128, align: bool = True
    ) -> None:
        """List the set's images by their ``<n>_exp.npy`` and read and check every expression.

        Raises:
            FerclError: no expression file, or one that is unreadable or holds no code 0-10.
        """
        self._set_options(classes, size, align)
        self.folder, self.split = Path(folder), split
        self.annotations, self.images = self.folder / "annotations", self.folder / "images"
        with os.scandir(self.annotations) as entries:
            stems = sorted(
                (e.name[: -len(EXPRESSION_SUFFIX)] for e in entries if e.name.endswith(EXPRESSION_SUFFIX)),
                key=_order,
            )
        if not stems:
            raise FerclError(
                f"{self.annotations}: no <n>{EXPRESSION_SUFFIX} annotation found; AffectNet's .npy release has "
                f"{_LAYOUT}"
            )
        codes = np.array([self._code(stem) for stem in stems], dtype=np.int64)
        keep, self.dropped_non_emotion, self.dropped_contempt = kept_codes(codes, classes)
        self.stems = [stem for stem, kept in zip(stems, keep, strict=True) if kept]
        self.labels = codes[keep]
        self._reset()

    def _code(self, stem: str) -> int:
        path = self.annotations / f"{stem}{EXPRESSION_SUFFIX}"
        code = read_value(path)
        if code % 1 != 0 or not 0 <= code <= 10:
            raise FerclError(
                f"{path}: expression {code:g} is not an AffectNet code 0-10; fix or remove the file"
            )
        return int(code)

    def _affect(self, stem: str, kind: str) -> float:
        """Valence (``val``) or arousal (``aro``) of image ``stem``; NaN when missing (no file, or −2)."""
        path = self.annotations / f"{stem}_{kind}.npy"
        if not path.is_file():
            return math.nan
        value = read_value(path)
        if value == MISSING:
            return math.nan
        if not -1 <= value <= 1:
            raise FerclError(
                f"{path}: {value:g} is outside [-1, 1] (or -2 for missing); fix or remove the file"
            )
        return value

    def _reset(self) -> None:
        self.missing_images = self.unreadable_images = self.whole_image_crops = 0
        self.missing_valence = self.missing_arousal = 0

    def __len__(self) -> int:
        return len(self.stems)

    def __iter__(self) -> Iterator[LabelledImage]:
        self._reset()
        for stem, label in zip(self.stems, self.labels, strict=True):
            record = self._record(stem, int(label))
            if record is not None:
                yield record

    def _record(self, stem: str, label: int) -> LabelledImage | None:
        path = self.images / f"{stem}.jpg"
        image = self._read_image(path)
        if image is None:
            return None
        landmarks = read_landmarks(self.annotations / f"{stem}_lnd.npy") if self.align else None
        crop = aligned_crop(image, landmarks, self.size)
        if crop is None:
            height, width = image.shape[:2]
            crop = box_crop(image, np.array([0, 0, width, height], dtype=np.float64), self.size)
            self.whole_image_crops += int(self.align)
        valence, arousal = self._affect(stem, "val"), self._affect(stem, "aro")
        self.missing_valence += int(math.isnan(valence))
        self.missing_arousal += int(math.isnan(arousal))
        return LabelledImage(
            image=crop,
            label=label,
            split=self.split,
            key=path.relative_to(self.folder.parent).as_posix(),
            valence=valence,
            arousal=arousal,
        )

    def counts(self) -> dict[str, int]:
        """Images kept and dropped, and what the last iteration skipped, resized whole or found missing."""
        return {
            **self._counts(len(self), self.missing_valence, self.missing_arousal),
            "whole_image_crops": self.whole_image_crops,
        }

    def notes(self) -> list[str]:
        """One line per drop, skip or fallback, naming the set."""
        name = self.folder.name
        notes = self._reading_notes(name, "image", "annotated")
        if self.whole_image_crops:
            notes.append(
                f"{name}: {self.whole_image_crops} face crop(s) without usable landmarks (_lnd.npy) were "
                "resized whole, not aligned"
            )
        if not self.align:
            notes.append(f"{name}: face crops resized whole, without alignment")
        return notes


def open_affectnet_npy(
    root: Path, *, images: Path | None = None, classes: int = 8, size: int = 128, align: bool = True
) -> AffectNet:
    """AffectNet's .npy release under ``root`` (see the module docstring); ``images`` must be None.

    Raises:
        FerclError: the layout is incomplete (:func:`npy_layout`) or an expression file is bad.
    """
    parts = [
        AffectNetNpySet(folder, split, classes=classes, size=size, align=align)
        for folder, split in npy_layout(Path(root), images)
    ]
    return AffectNet(parts, release="npy")
