"""FER2013 in its two common layouts: the official ``fer2013.csv`` and the ``train/<class>/``,
``test/<class>/`` image folders.

CSV columns: ``emotion`` (0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral), ``pixels``
(48×48 grey values 0-255, space-separated, row-major) and ``Usage`` (Training / PublicTest / PrivateTest).
Protocol: fit on Training; ``split="public"`` (the default) reports PublicTest and chooses
hyper-parameters on PrivateTest, ``split="private"`` the reverse. ``ferplus=`` replaces the 7 FER2013
labels by the 8 FER+ labels of ``fer2013new.csv`` (:mod:`fercl_cli.sources.ferplus`). The folder layout
has no PrivateTest: selection then uses a held-out part of ``train/`` and ``test/`` is reported.

The grey images are fed to an RGB backbone explicitly: the grey channel is replicated into R, G and B and
the image is resized (bicubic) to ``size``×``size``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.sources.ferplus import DROPPED, FERPLUS_CLASSES, read_ferplus
from fercl_cli.sources.labelled import SELECT, TEST, TRAIN, LabelledImage

FER2013_CLASSES: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
USAGES: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
SPLITS: tuple[str, ...] = ("public", "private")
CSV_COLUMNS: tuple[str, ...] = ("emotion", "pixels", "Usage")
SIDE = 48
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
_FOLDER_LAYOUT = "<root>/train/<class>/*.png and <root>/test/<class>/*.png, <class> one of " + ", ".join(
    name.lower() for name in FER2013_CLASSES
)


def grey_to_rgb(grey: np.ndarray, size: int) -> np.ndarray:
    """uint8 [H, W] grey → uint8 [size, size, 3] RGB with R = G = B, resized with bicubic interpolation."""
    import cv2

    if grey.shape != (size, size):
        grey = cv2.resize(grey, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.repeat(grey[:, :, None], 3, axis=2)


def conversion_note(size: int) -> str:
    """The line the CLI prints about how grey FER2013 images reach the RGB backbone."""
    return (
        f"FER2013: grey {SIDE}×{SIDE} images are given to the RGB backbone by replicating the grey channel "
        f"into R, G and B and resizing to {size}×{size} (bicubic)"
    )


def usage_splits(split: str) -> dict[str, str]:
    """Usage → protocol split: ``public`` reports PublicTest and selects on PrivateTest, ``private`` reports
    PrivateTest and selects on PublicTest; Training always fits."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    reported, selecting = (
        ("PublicTest", "PrivateTest") if split == "public" else ("PrivateTest", "PublicTest")
    )
    return {"Training": TRAIN, selecting: SELECT, reported: TEST}


def _check_size(size: int) -> int:
    if size < 16:
        raise ValueError(f"size must be at least 16 px, got {size}")
    return size


class Fer2013Csv:
    """The official ``fer2013.csv``, streamed in chunks (only labels and usage are held in memory)."""

    name = "fer2013"

    def __init__(
        self,
        csv: Path,
        *,
        size: int = 128,
        split: str = "public",
        ferplus: Path | None = None,
        chunk_rows: int = 2048,
    ) -> None:
        """Read and check the labels and usage of every row of ``csv``; pixels are read during iteration.

        Args:
            split: ``public`` or ``private``: which test Usage is reported (see :func:`usage_splits`).
            ferplus: ``fer2013new.csv``: label the rows with its majority vote (8 FER+ classes) instead of
                ``emotion``; rows without a majority emotion are dropped and counted.

        Raises:
            FerclError: a file is missing or unreadable, a column is missing, a label/usage is invalid, or
                the FER+ file does not match ``csv`` row for row.
        """
        import pandas as pd

        self.csv = Path(csv)
        self.size = _check_size(size)
        self.split_choice, self._usage_splits = split, usage_splits(split)
        self.ferplus = None if ferplus is None else Path(ferplus)
        self.chunk_rows = chunk_rows
        if not self.csv.is_file():
            raise FerclError(f"{self.csv}: FER2013 CSV not found; pass the path of fer2013.csv")
        try:
            header = [str(c) for c in pd.read_csv(self.csv, nrows=0).columns]
            columns = {c.strip(): c for c in header}
            missing = [c for c in CSV_COLUMNS if c not in columns]
            if missing:
                raise FerclError(
                    f"{self.csv}: missing column(s) {', '.join(missing)}; a FER2013 CSV has the header "
                    f"{','.join(CSV_COLUMNS)} (found {','.join(header) or 'no header'})"
                )
            self._columns = columns
            table = pd.read_csv(
                self.csv, usecols=[columns["emotion"], columns["Usage"]], dtype=str, keep_default_na=False
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise FerclError(f"{self.csv}: not a readable FER2013 CSV ({exc}); check the file") from exc
        emotion = table[columns["emotion"]].str.strip()
        usage = table[columns["Usage"]].str.strip()
        valid_emotion = emotion.isin([str(i) for i in range(len(FER2013_CLASSES))])
        if not valid_emotion.all():
            row = int(np.flatnonzero(~valid_emotion.to_numpy())[0])
            raise FerclError(
                f"{self.csv}: line {row + 2}: emotion {emotion.iloc[row]!r} is not a FER2013 class code 0-6"
            )
        valid_usage = usage.isin(list(USAGES))
        if not valid_usage.all():
            row = int(np.flatnonzero(~valid_usage.to_numpy())[0])
            raise FerclError(
                f"{self.csv}: line {row + 2}: Usage {usage.iloc[row]!r} is not one of {', '.join(USAGES)}"
            )
        labels = emotion.astype(np.int64).to_numpy()
        self.class_names = FER2013_CLASSES
        self.dropped: dict[str, int] = {}
        if self.ferplus is not None:
            labels = read_ferplus(self.ferplus, usage.to_numpy(dtype=str), self.csv)
            self.class_names = FERPLUS_CLASSES
            self.dropped = {name: int((labels == code).sum()) for code, name in DROPPED.items()}
        self._keep = labels >= 0
        self.labels = labels[self._keep]
        self.splits = usage.map(self._usage_splits).to_numpy(dtype=object)[self._keep]

    @property
    def label_set(self) -> str:
        """``fer2013`` (the CSV's 7 emotions) or ``ferplus`` (the 8 FER+ majority-vote classes)."""
        return "fer2013" if self.ferplus is None else "ferplus"

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[LabelledImage]:
        import pandas as pd

        kept_before = np.concatenate([[0], np.cumsum(self._keep)])
        row = 0
        with pd.read_csv(
            self.csv,
            usecols=[self._columns["pixels"]],
            dtype=str,
            keep_default_na=False,
            chunksize=self.chunk_rows,
        ) as chunks:
            for chunk in chunks:
                for text in chunk[self._columns["pixels"]]:
                    if self._keep[row]:
                        i = int(kept_before[row])
                        yield LabelledImage(
                            image=grey_to_rgb(self._parse_pixels(text, row), self.size),
                            label=int(self.labels[i]),
                            split=str(self.splits[i]),
                            key=f"{self.csv.name}:{row + 2}",
                        )
                    row += 1

    def _parse_pixels(self, text: str, row: int) -> np.ndarray:
        try:
            values = np.array(text.split(), dtype=np.int64)
        except ValueError:
            values = np.empty(0, dtype=np.int64)
        if values.size != SIDE * SIDE or values.min() < 0 or values.max() > 255:
            raise FerclError(
                f"{self.csv}: line {row + 2}: pixels must be {SIDE * SIDE} space-separated integers 0-255 "
                f"({SIDE}×{SIDE} grey); found {len(text.split())} values"
            )
        return values.astype(np.uint8).reshape(SIDE, SIDE)

    def counts(self) -> dict[str, int]:
        """``rows``, the rows per protocol split and, with FER+ labels, the rows dropped per reason
        (``ferplus_tied``, ``ferplus_unknown``, ``ferplus_not_face``, ``ferplus_no_votes``)."""
        counts = {"rows": len(self)}
        counts.update({split: int((self.splits == split).sum()) for split in (TRAIN, SELECT, TEST)})
        counts.update({f"ferplus_{name}": n for name, n in self.dropped.items()})
        return counts

    def notes(self) -> list[str]:
        """The conversion, how the CSV's Usage maps to the protocol splits, and the FER+ vote drops."""
        c = self.counts()
        usage = {split: name for name, split in self._usage_splits.items()}
        notes = [
            conversion_note(self.size),
            f"FER2013 splits: Training ({c[TRAIN]}) fits, {usage[SELECT]} ({c[SELECT]}) selects "
            f"hyper-parameters, {usage[TEST]} ({c[TEST]}) is reported (split {self.split_choice})",
        ]
        if self.ferplus is not None:
            d = self.dropped
            notes.append(
                f"{self.ferplus.name}: FER+ labels, the majority vote over its 10 columns (8 emotions, unknown, "
                f"NF); dropped {d['tied']} tied row(s), {d['unknown']} with most votes on unknown, "
                f"{d['not_face']} on NF (not a face), {d['no_votes']} without votes"
            )
        return notes


class Fer2013Folders:
    """The folder layout ``train/<class>/*.png``, ``test/<class>/*.png`` (class names case-insensitive)."""

    name = "fer2013"
    class_names = FER2013_CLASSES

    def __init__(self, root: Path, *, size: int = 128) -> None:
        """List the images under ``root``; they are read during iteration.

        Raises:
            FerclError: ``train/`` or ``test/`` is missing, a class folder has an unknown name, or no image.
        """
        self.root = Path(root)
        self.size = _check_size(size)
        codes = {name.lower(): code for code, name in enumerate(FER2013_CLASSES)}
        self._items: list[tuple[Path, int, str]] = []
        for folder in ("train", "test"):
            if not (self.root / folder).is_dir():
                raise FerclError(
                    f"{self.root / folder}: folder not found; the FER2013 folder layout is {_FOLDER_LAYOUT}"
                )
        for folder, split in (("train", TRAIN), ("test", TEST)):
            split_dir = self.root / folder
            for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
                if class_dir.name.lower() not in codes:
                    raise FerclError(
                        f"{class_dir}: unknown class folder; expected one of "
                        f"{', '.join(n.lower() for n in FER2013_CLASSES)}"
                    )
                label = codes[class_dir.name.lower()]
                self._items.extend(
                    (path, label, split)
                    for path in sorted(class_dir.iterdir())
                    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
                )
            if not any(item[2] == split for item in self._items):
                raise FerclError(
                    f"{split_dir}: no images found; the FER2013 folder layout is {_FOLDER_LAYOUT}"
                )
        self._unreadable = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[LabelledImage]:
        import cv2

        self._unreadable = 0
        for path, label, split in self._items:
            grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if grey is None:
                self._unreadable += 1
                continue
            yield LabelledImage(
                image=grey_to_rgb(grey, self.size),
                label=label,
                split=split,
                key=path.relative_to(self.root).as_posix(),
            )

    def counts(self) -> dict[str, int]:
        """``rows``, the rows per split and ``unreadable_images`` (skipped during the last iteration)."""
        return {
            "rows": len(self),
            TRAIN: sum(item[2] == TRAIN for item in self._items),
            TEST: sum(item[2] == TEST for item in self._items),
            "unreadable_images": self._unreadable,
        }

    def notes(self) -> list[str]:
        """The conversion, the missing PrivateTest, and any unreadable images."""
        notes = [
            conversion_note(self.size),
            "FER2013 folder layout has no PrivateTest: hyper-parameters are chosen on a held-out part of "
            "train/, and test/ is reported",
        ]
        if self._unreadable:
            notes.append(f"FER2013: {self._unreadable} image file(s) could not be decoded and were skipped")
        return notes


def open_fer2013(
    path: Path, *, size: int = 128, split: str | None = None, ferplus: Path | None = None
) -> Fer2013Csv | Fer2013Folders:
    """FER2013 from ``path``: the CSV file itself, a folder holding ``fer2013.csv``, or a folder with
    ``train/`` and ``test/`` class folders (checked in that order). ``split`` (default ``public``) and
    ``ferplus`` apply to the CSV only (see :class:`Fer2013Csv`).

    Raises:
        FerclError: no FER2013 data at ``path``, or a split or FER+ labels asked of the folder layout
            (it has no PublicTest/PrivateTest and no row order).
    """
    path = Path(path)
    csv = path if path.is_file() else path / "fer2013.csv"
    if csv.is_file():
        return Fer2013Csv(csv, size=size, split=split or "public", ferplus=ferplus)
    if (path / "train").is_dir() or (path / "test").is_dir():
        if split is not None:
            raise FerclError(
                f"{path}: the FER2013 folder layout has no PublicTest or PrivateTest to choose between "
                "(test/ is reported); drop --split, or pass fer2013.csv"
            )
        if ferplus is not None:
            raise FerclError(
                f"{path}: FER+ labels (fer2013new.csv) follow the rows of fer2013.csv and the folder layout "
                "has no rows; pass fer2013.csv as the data"
            )
        return Fer2013Folders(path, size=size)
    raise FerclError(
        f"{path}: no FER2013 data found; expected fer2013.csv (columns {','.join(CSV_COLUMNS)}) "
        f"or the folder layout {_FOLDER_LAYOUT}"
    )
