"""AffectNet from its official CSVs (``training.csv``, ``validation.csv``) and ``Manually_Annotated_Images/``.

CSV columns: ``subDirectory_filePath`` (image path relative to the image folder), ``face_x``, ``face_y``,
``face_width``, ``face_height`` (face box, source pixels), ``facial_landmarks`` (68 points as
``"x1;y1;x2;y2;..."``, source pixels), ``expression`` (0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear,
5 Disgust, 6 Anger, 7 Contempt; 8 None, 9 Uncertain, 10 Non-Face), ``valence`` and ``arousal`` (in [-1, 1],
−2 = missing). Copies whose first line holds data instead of that header are read in the official
column order.

Rows with codes 8-10 are dropped (counted); ``classes=7`` also drops Contempt (counted). Faces are aligned
like the pretraining crops (:func:`fercl_cli.faces.align.align_face`) when the landmarks parse, otherwise
cut as the square around the CSV face box (counted). Protocol: training.csv fits (a held-out part of it
selects hyper-parameters), validation.csv is the reported test set.

AffectNet's newer release (``train_set/``, ``val_set/`` with per-image ``.npy`` annotations) is read by
:mod:`fercl_cli.sources.affectnet_npy`; :func:`fercl_cli.sources.affectnet_release.open_affectnet` tells
the two apart and refuses a folder that mixes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.sources.labelled import TEST, TRAIN, ImageReads, LabelledImage

if TYPE_CHECKING:
    import pandas as pd

AFFECTNET_CLASSES: tuple[str, ...] = (
    "Neutral",
    "Happy",
    "Sad",
    "Surprise",
    "Fear",
    "Disgust",
    "Anger",
    "Contempt",
)
NON_EMOTION_CODES: dict[int, str] = {8: "None", 9: "Uncertain", 10: "Non-Face"}
CONTEMPT = 7
MISSING = -2.0
CSV_COLUMNS: tuple[str, ...] = (
    "subDirectory_filePath",
    "face_x",
    "face_y",
    "face_width",
    "face_height",
    "facial_landmarks",
    "expression",
    "valence",
    "arousal",
)
CSV_FILES: tuple[str, ...] = ("training.csv", "validation.csv")
LIST_FOLDERS: tuple[str, ...] = ("", "Manually_Annotated_file_lists")
NPY_SETS: tuple[str, ...] = ("train_set", "val_set")
_BOX = ("face_x", "face_y", "face_width", "face_height")
_NUMERIC = (*_BOX, "expression", "valence", "arousal")
_LANDMARKS = "facial_landmarks"


@dataclass(frozen=True)
class _Layout:
    """Column names as written in the file, ``pandas.read_csv`` options, and the file line of data row 0."""

    names: dict[str, str]
    reader: dict
    first_line: int
    header: bool


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_landmarks(text: str) -> np.ndarray | None:
    """AffectNet's ``"x1;y1;...;x68;y68"`` → float32 [68, 2] source pixels; None unless 136 numbers."""
    try:
        values = np.array([v for v in str(text).split(";") if v.strip()], dtype=np.float64)
    except ValueError:
        return None
    if values.size != 136 or not np.isfinite(values).all():
        return None
    return values.reshape(68, 2).astype(np.float32)


def box_crop(image: np.ndarray, box: np.ndarray, size: int) -> np.ndarray | None:
    """The square around ``box`` (float [4] ``x, y, width, height``, source px) resized to ``size``×``size``.

    The square has side max(width, height) and the box's centre; parts outside the image replicate the
    border. Returns uint8 [size, size, 3], or None when the box is empty or does not overlap the image.
    """
    import cv2

    x, y, w, h = (float(v) for v in box)
    height, width = image.shape[:2]
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w < 1 or h < 1:
        return None
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        return None
    side = max(1, round(max(w, h)))
    x0, y0 = round(x + w / 2 - side / 2), round(y + h / 2 - side / 2)
    pad = max(0, -x0, -y0, x0 + side - width, y0 + side - height)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else image
    square = padded[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(square, (size, size), interpolation=interpolation)


def kept_codes(codes: np.ndarray, classes: int) -> tuple[np.ndarray, int, int]:
    """bool [N]: the rows of int [N] expression ``codes`` kept for ``classes`` (8, or 7 to drop Contempt);
    and how many were dropped as codes 8-10 and as Contempt."""
    non_emotion = codes >= 8
    contempt = (codes == CONTEMPT) if classes == 7 else np.zeros_like(non_emotion)
    return ~(non_emotion | contempt), int(non_emotion.sum()), int(contempt.sum())


def aligned_crop(image: np.ndarray, landmarks: np.ndarray | None, size: int) -> np.ndarray | None:
    """uint8 [size, size, 3]: ``image`` aligned on float [68, 2] ``landmarks`` (source px) like the
    pretraining crops; None when there are no landmarks or they are degenerate."""
    from fercl_cli.faces.align import align_face

    if landmarks is None:
        return None
    try:
        return align_face(image, landmarks, size=size).image
    except ValueError:
        return None


class ReleasePart(ImageReads):
    """What a part of either release shares (:class:`AffectNetCsv`, an ``AffectNetNpySet``): its checked
    options, image reading with its counters, and the counts and notes both report."""

    images: Path
    classes: int
    size: int
    align: bool
    dropped_non_emotion: int
    dropped_contempt: int

    def _set_options(self, classes: int, size: int, align: bool) -> None:
        """Check and keep ``classes`` (8, or 7 to drop Contempt), ``size`` (crop side, px) and ``align``."""
        if classes not in (7, 8):
            raise ValueError(f"classes must be 8, or 7 to drop Contempt, got {classes}")
        if size < 16:
            raise ValueError(f"size must be at least 16 px, got {size}")
        self.classes, self.size, self.align = classes, size, align

    def _counts(self, rows: int, missing_valence: int, missing_arousal: int) -> dict[str, int]:
        """The counters both releases report, in their order (each part adds its own after them)."""
        return {
            "rows": rows,
            "dropped_non_emotion": self.dropped_non_emotion,
            "dropped_contempt": self.dropped_contempt,
            "missing_valence": missing_valence,
            "missing_arousal": missing_arousal,
            "missing_images": self.missing_images,
            "unreadable_images": self.unreadable_images,
        }

    def _reading_notes(self, name: str, unit: str, listed: str) -> list[str]:
        """The notes both releases share: dropped non-emotion codes and Contempt, ``listed`` images missing
        under ``images``, undecodable images; ``name`` is the CSV or set, ``unit`` what a row is."""
        notes = []
        if self.dropped_non_emotion:
            notes.append(
                f"{name}: dropped {self.dropped_non_emotion} {unit}(s) with expression codes 8-10 "
                "(None, Uncertain, Non-Face)"
            )
        if self.dropped_contempt:
            notes.append(f"{name}: 7-class variant: dropped {self.dropped_contempt} Contempt {unit}(s)")
        return notes + self._image_notes(name, listed, self.images)


class AffectNetCsv(ReleasePart):
    """One official AffectNet CSV and its images, streamed: the index (paths, boxes, labels) is held in
    memory, landmarks are read in chunks and images one at a time during iteration."""

    def __init__(
        self,
        csv: Path,
        images: Path,
        split: str,
        *,
        classes: int = 8,
        size: int = 128,
        align: bool = True,
        chunk_rows: int = 4096,
    ) -> None:
        """Read and check every row of ``csv`` except the landmarks.

        Args:
            csv: ``training.csv`` or ``validation.csv``.
            images: the folder ``subDirectory_filePath`` is relative to (``Manually_Annotated_Images``).
            split: the protocol split the rows belong to (``train`` or ``test``).
            classes: 8, or 7 to drop Contempt.
            size: side of the output crops in pixels.
            align: align on the landmarks like pretraining (else every face is a square box crop).

        Raises:
            FerclError: the CSV is missing or unreadable, a column is missing, or a value is malformed.
        """
        import pandas as pd

        self._set_options(classes, size, align)
        self.csv, self.images, self.split = Path(csv), Path(images), split
        self.chunk_rows = chunk_rows
        if not self.csv.is_file():
            raise FerclError(f"{self.csv}: AffectNet CSV not found; pass the folder holding training.csv")
        if not self.images.is_dir():
            raise FerclError(
                f"{self.images}: AffectNet image folder not found; pass the Manually_Annotated_Images folder"
            )
        try:
            self._format = self._read_layout()
            table = pd.read_csv(
                self.csv,
                usecols=[self._format.names[c] for c in CSV_COLUMNS if c != _LANDMARKS],
                dtype=str,
                keep_default_na=False,
                **self._format.reader,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise FerclError(f"{self.csv}: not a readable AffectNet CSV ({exc}); check the file") from exc
        table = table.rename(columns={v: k for k, v in self._format.names.items()})
        numbers = {c: self._numeric(table, c) for c in _NUMERIC}
        expression = numbers["expression"]
        self._check(
            expression,
            (expression % 1 == 0) & (expression >= 0) & (expression <= 10),
            "expression",
            "an integer code 0-10",
        )
        for name in ("valence", "arousal"):
            v = numbers[name]
            self._check(v, ((v >= -1) & (v <= 1)) | (v == MISSING), name, "in [-1, 1], or -2 for missing")
        code = expression.astype(np.int64)
        self._keep, self.dropped_non_emotion, self.dropped_contempt = kept_codes(code, classes)
        self.paths = table["subDirectory_filePath"].to_numpy(dtype=object)[self._keep]
        self.labels = code[self._keep]
        self.boxes = np.stack([numbers[c] for c in _BOX], axis=1)[self._keep]
        self.valence = np.where(numbers["valence"] == MISSING, np.nan, numbers["valence"])[self._keep]
        self.arousal = np.where(numbers["arousal"] == MISSING, np.nan, numbers["arousal"])[self._keep]
        self._reset()

    def _read_layout(self) -> _Layout:
        """How the file is laid out: with the official header, or without a header in the official order."""
        import pandas as pd

        header = [str(c) for c in pd.read_csv(self.csv, nrows=0, dtype=str).columns]
        stripped = {c.strip(): c for c in header}
        missing = [c for c in CSV_COLUMNS if c not in stripped]
        if not missing:
            return _Layout(names={c: stripped[c] for c in CSV_COLUMNS}, reader={}, first_line=2, header=True)
        if len(header) == len(CSV_COLUMNS) and all(
            _is_number(header[CSV_COLUMNS.index(c)]) for c in _NUMERIC
        ):
            reader = {"header": None, "names": list(CSV_COLUMNS)}
            return _Layout(names={c: c for c in CSV_COLUMNS}, reader=reader, first_line=1, header=False)
        raise FerclError(
            f"{self.csv}: missing column(s) {', '.join(missing)}; an AffectNet CSV has the header "
            f"{','.join(CSV_COLUMNS)}"
        )

    def _numeric(self, table: pd.DataFrame, column: str) -> np.ndarray:
        import pandas as pd

        values = pd.to_numeric(table[column].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
        self._check(values, np.isfinite(values), column, "a number")
        return values

    def _check(self, values: np.ndarray, ok: np.ndarray, column: str, expected: str) -> None:
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raise FerclError(
                f"{self.csv}: line {row + self._format.first_line}: column {column} must be {expected}; "
                "fix or remove the row"
            )

    def _reset(self) -> None:
        self.missing_images = self.unreadable_images = self.box_crops = self.unusable_boxes = 0

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[LabelledImage]:
        import pandas as pd

        self._reset()
        kept_before = np.concatenate([[0], np.cumsum(self._keep)])
        row = 0
        with pd.read_csv(
            self.csv,
            usecols=[self._format.names[_LANDMARKS]],
            dtype=str,
            keep_default_na=False,
            chunksize=self.chunk_rows,
            **self._format.reader,
        ) as chunks:
            for chunk in chunks:
                for text in chunk.iloc[:, 0]:
                    if self._keep[row]:
                        record = self._record(int(kept_before[row]), text)
                        if record is not None:
                            yield record
                    row += 1

    def _record(self, i: int, landmarks_text: str) -> LabelledImage | None:
        image = self._read_image(self.images / self.paths[i])
        if image is None:
            return None
        crop = aligned_crop(image, parse_landmarks(landmarks_text), self.size) if self.align else None
        if crop is None:
            crop = box_crop(image, self.boxes[i], self.size)
            if crop is None:
                self.unusable_boxes += 1
                return None
            if self.align:
                self.box_crops += 1
        return LabelledImage(
            image=crop,
            label=int(self.labels[i]),
            split=self.split,
            key=str(self.paths[i]),
            valence=float(self.valence[i]),
            arousal=float(self.arousal[i]),
        )

    def counts(self) -> dict[str, int]:
        """Rows kept and dropped, and what the last iteration skipped or cropped from the box."""
        return {
            **self._counts(len(self), int(np.isnan(self.valence).sum()), int(np.isnan(self.arousal).sum())),
            "box_crops": self.box_crops,
            "unusable_boxes": self.unusable_boxes,
        }

    def notes(self) -> list[str]:
        """One line per drop, skip or fallback, naming the CSV."""
        name, notes = self.csv.name, []
        if not self._format.header:
            notes.append(f"{name}: no header row; columns read in the official order {','.join(CSV_COLUMNS)}")
        notes += self._reading_notes(name, "row", "listed")
        if self.box_crops:
            notes.append(
                f"{name}: {self.box_crops} face(s) without usable landmarks were cut from the face box, "
                "not aligned"
            )
        if self.unusable_boxes:
            notes.append(
                f"{name}: {self.unusable_boxes} face(s) had neither usable landmarks nor a usable box "
                "and were skipped"
            )
        if not self.align:
            notes.append(f"{name}: faces cut as squares around the CSV face box, without alignment")
        return notes


class AffectNet:
    """AffectNet's training part (split ``train``) followed by its validation part (split ``test``): the
    two CSVs of the CSV release, or ``train_set`` and ``val_set`` of the .npy release
    (:mod:`fercl_cli.sources.affectnet_npy`)."""

    name = "affectnet"

    def __init__(self, parts: Sequence[Any], release: str = "csv") -> None:
        self.parts = tuple(parts)
        self.release = release
        self.class_names = AFFECTNET_CLASSES[: self.parts[0].classes]

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def __iter__(self) -> Iterator[LabelledImage]:
        for part in self.parts:
            yield from part

    def counts(self) -> dict[str, int]:
        """Every counter of the parts' ``counts()`` summed over the parts, plus ``rows_<split>``."""
        total: dict[str, int] = {}
        for part in self.parts:
            for key, value in part.counts().items():
                total[key] = total.get(key, 0) + value
            total[f"rows_{part.split}"] = total.get(f"rows_{part.split}", 0) + len(part)
        return total

    def notes(self) -> list[str]:
        """The notes of every part."""
        return [note for part in self.parts for note in part.notes()]


def _find(root: Path, name: str, candidates: Sequence[str]) -> Path:
    for candidate in candidates:
        if (root / candidate).exists():
            return root / candidate
    raise FerclError(
        f"{root}: {name} not found; expected one of {', '.join(str(root / c) for c in candidates)}"
    )


def open_affectnet_csv(
    root: Path, *, images: Path | None = None, classes: int = 8, size: int = 128, align: bool = True
) -> AffectNet:
    """AffectNet's CSV release under ``root``: ``training.csv`` and ``validation.csv`` in ``root`` or
    ``root/Manually_Annotated_file_lists``, images in ``images`` or ``root/Manually_Annotated_Images``. See
    :class:`AffectNetCsv` for the other arguments; :func:`fercl_cli.sources.affectnet_release.open_affectnet`
    opens either release.
    """
    root = Path(root)
    image_root = (
        Path(images) if images is not None else _find(root, "image folder", ("Manually_Annotated_Images",))
    )
    parts = [
        AffectNetCsv(
            _find(root, file, [f"{d}/{file}".lstrip("/") for d in LIST_FOLDERS]),
            image_root,
            split,
            classes=classes,
            size=size,
            align=align,
        )
        for file, split in zip(CSV_FILES, (TRAIN, TEST), strict=True)
    ]
    return AffectNet(parts, release="csv")
