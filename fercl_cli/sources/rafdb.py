"""RAF-DB basic (the single-label part of the Real-world Affective Faces Database) in its official layout::

    <root>/EmoLabel/list_patition_label.txt     (sic) one line per image: ``train_00001.jpg 5``, ``test_0001.jpg 1``
    <root>/Image/aligned/<stem>_aligned.jpg     100×100 faces aligned by RAF-DB
    <root>/Image/original/<name>.jpg            the photos they were cut from

Labels 1-7: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness, 6 Anger, 7 Neutral; records carry
``label − 1`` (0-6, the index into :data:`RAFDB_CLASSES`). The split is the name's prefix: ``train_`` →
``train`` (12,271 images in the full set), ``test_`` → ``test`` (3,068). RAF-DB has no selection split:
the protocol holds out part of train.

Faces: ``images="aligned"`` reads RAF-DB's aligned faces and resizes them to ``size``×``size`` (bicubic
when enlarging, area when shrinking; RAF-DB's alignment, not fercl's template). ``images="original"``
detects the faces in each photo (dlib HOG, upsample 1, :func:`fercl_cli.faces.make_backend`), keeps the one
with the best detector score (:func:`fercl_cli.faces.select.choose_face`) and aligns it like the
pretraining crops (:func:`fercl_cli.faces.align.align_face`). ``auto`` takes ``aligned`` when that folder
exists, else ``original``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.faces.types import FaceBackend
from fercl_cli.sources.labelled import TEST, TRAIN, ImageReads, LabelledImage

RAFDB_CLASSES: tuple[str, ...] = ("Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral")
LABEL_FILE = Path("EmoLabel") / "list_patition_label.txt"
IMAGE_CHOICES: tuple[str, ...] = ("auto", "aligned", "original")
PREFIXES: dict[str, str] = {"train_": TRAIN, "test_": TEST}
_CODES = ", ".join(f"{code} {name}" for code, name in enumerate(RAFDB_CLASSES, start=1))


def _image_folder(root: Path, images: str) -> tuple[str, Path]:
    """``(aligned|original, folder)`` for the ``images`` choice; an error naming what is missing."""
    if images not in IMAGE_CHOICES:
        raise ValueError(f"images must be one of {', '.join(IMAGE_CHOICES)}, got {images!r}")
    aligned, original = root / "Image" / "aligned", root / "Image" / "original"
    if images == "aligned" and not aligned.is_dir():
        raise FerclError(
            f"{aligned}: RAF-DB aligned faces not found (Image/aligned/<name>_aligned.jpg); pass the RAF-DB "
            "basic folder, or --rafdb-images original to detect the faces in Image/original"
        )
    if images == "original" and not original.is_dir():
        raise FerclError(
            f"{original}: RAF-DB original photos not found (Image/original/<name>.jpg); pass the RAF-DB basic "
            "folder, or --rafdb-images aligned to read Image/aligned"
        )
    if images == "auto" and not aligned.is_dir() and not original.is_dir():
        raise FerclError(
            f"{root / 'Image'}: neither Image/aligned nor Image/original found; RAF-DB basic keeps its faces in "
            "Image/aligned/<name>_aligned.jpg or its photos in Image/original/<name>.jpg: pass its root folder"
        )
    if images == "original" or (images == "auto" and not aligned.is_dir()):
        return "original", original
    return "aligned", aligned


def read_label_file(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """``list_patition_label.txt`` → image names, labels int64 [N] (0-6, RAF-DB's code − 1) and splits.

    Raises:
        FerclError: the file is missing, lists nothing, or a line is malformed (named by its number).
    """
    if not path.is_file():
        raise FerclError(
            f"{path}: RAF-DB label file not found; pass the RAF-DB basic folder (the one holding "
            "EmoLabel/list_patition_label.txt and Image/)"
        )
    names: list[str] = []
    labels: list[int] = []
    splits: list[str] = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise FerclError(
                f"{path}: line {number}: expected '<image name> <label 1-7>' such as 'train_00001.jpg 5', "
                f"found {line.strip()!r}; fix or remove the line"
            )
        name, label = fields
        if label not in {str(code) for code in range(1, len(RAFDB_CLASSES) + 1)}:
            raise FerclError(
                f"{path}: line {number}: label {label!r} is outside 1-7 ({_CODES}); fix or remove the line"
            )
        split = next((split for prefix, split in PREFIXES.items() if name.startswith(prefix)), None)
        if split is None:
            raise FerclError(
                f"{path}: line {number}: image name {name!r} starts with neither train_ nor test_, so its "
                "split is unknown; fix or remove the line"
            )
        names.append(name)
        labels.append(int(label) - 1)
        splits.append(split)
    if not names:
        raise FerclError(
            f"{path}: no image listed; RAF-DB's label file has one line per image such as 'train_00001.jpg 5'"
        )
    return names, np.asarray(labels, dtype=np.int64), splits


class RafDb(ImageReads):
    """RAF-DB basic: the label file is read up front, images one at a time during iteration."""

    name = "rafdb"
    class_names = RAFDB_CLASSES

    def __init__(
        self, root: Path, *, images: str = "auto", size: int = 128, backend: FaceBackend | None = None
    ) -> None:
        """Read and check the label file and find the image folder.

        Args:
            images: ``aligned``, ``original`` or ``auto`` (see the module docstring).
            size: side of the output crops in pixels.
            backend: the face detector for ``original`` photos (default: dlib HOG, built on first use).

        Raises:
            FerclError: the folder, the label file or the chosen image folder is missing, or a label line
                is malformed.
        """
        if size < 16:
            raise ValueError(f"size must be at least 16 px, got {size}")
        self.root, self.size, self._backend = Path(root), size, backend
        if not self.root.is_dir():
            raise FerclError(f"{self.root}: RAF-DB folder not found; pass the RAF-DB basic folder")
        self.label_file = self.root / LABEL_FILE
        self.names, self.labels, self.splits = read_label_file(self.label_file)
        self.images, self.image_folder = _image_folder(self.root, images)
        self._reset()

    def _reset(self) -> None:
        self.missing_images = self.unreadable_images = self.no_face = self.several_faces = 0

    def image_path(self, name: str) -> Path:
        """Where the listed image ``name`` is read from."""
        if self.images == "aligned":
            return self.image_folder / f"{Path(name).stem}_aligned.jpg"
        return self.image_folder / name

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[LabelledImage]:
        self._reset()
        for name, label, split in zip(self.names, self.labels, self.splits, strict=True):
            path = self.image_path(name)
            image = self._read_image(path)
            if image is None:
                continue
            crop = self._crop(image)
            if crop is None:
                self.no_face += 1
                continue
            yield LabelledImage(
                image=crop, label=int(label), split=split, key=path.relative_to(self.root).as_posix()
            )

    def _crop(self, image: np.ndarray) -> np.ndarray | None:
        """uint8 [size, size, 3] RGB: the aligned face resized, or the photo's face detected and aligned."""
        import cv2

        if self.images == "aligned":
            enlarge = self.size > max(image.shape[:2])
            interpolation = cv2.INTER_CUBIC if enlarge else cv2.INTER_AREA
            return cv2.resize(image, (self.size, self.size), interpolation=interpolation)
        from fercl_cli.faces import make_backend
        from fercl_cli.faces.align import align_face
        from fercl_cli.faces.select import choose_face

        if self._backend is None:
            self._backend = make_backend()
        faces = self._backend.detect(image)
        self.several_faces += int(len(faces) > 1)
        face = choose_face(faces)
        return None if face is None else align_face(image, face.landmarks, size=self.size).image

    def counts(self) -> dict[str, int]:
        """Rows per split, and what the last iteration skipped."""
        return {
            "rows": len(self),
            TRAIN: self.splits.count(TRAIN),
            TEST: self.splits.count(TEST),
            "missing_images": self.missing_images,
            "unreadable_images": self.unreadable_images,
            "no_face": self.no_face,
            "several_faces": self.several_faces,
        }

    def notes(self) -> list[str]:
        """How the faces were made, and one line per skip."""
        folder = self.image_folder.relative_to(self.root).as_posix()
        if self.images == "aligned":
            notes = [
                f"RAF-DB: the aligned faces of {folder}/ (RAF-DB's own alignment) resized to "
                f"{self.size}×{self.size}"
            ]
        else:
            notes = [
                f"RAF-DB: faces detected in the photos of {folder}/ (dlib HOG; the best-scoring face when "
                f"there are several) and aligned like the pretraining crops at {self.size}×{self.size}"
            ]
        notes += self._image_notes("RAF-DB", "listed", self.image_folder)
        if self.no_face:
            notes.append(f"RAF-DB: no face was found in {self.no_face} photo(s); they were skipped")
        if self.several_faces:
            notes.append(
                f"RAF-DB: {self.several_faces} photo(s) showed several faces; the best-scoring one was kept"
            )
        return notes
