"""LFW people for the identity probe, read offline through ``sklearn.datasets.fetch_lfw_people``.

fercl never downloads LFW: it needs a prepared scikit-learn ``lfw_home`` folder::

    <data_home>/lfw_home/lfw_funneled/<Name>/<Name>_0001.jpg   (250×250 jpgs, one folder per person)
    <data_home>/lfw_home/pairsDevTrain.txt, pairsDevTest.txt, pairs.txt

scikit-learn crops each jpg to its face window, scales it by ``resize`` (0.5: 62×47 px), keeps people with
at least ``min_faces_per_person`` images (200: George W Bush and Colin Powell, 766 images) and shuffles the
rows with a fixed seed. The images are small and few, so they are held in memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.sources.labelled import ALL, LabelledImage

PAIRS_FILES: tuple[str, ...] = ("pairsDevTrain.txt", "pairsDevTest.txt", "pairs.txt")


def default_data_home() -> Path:
    """scikit-learn's default data folder (``$SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``), not created."""
    return Path(os.environ.get("SCIKIT_LEARN_DATA", "~/scikit_learn_data")).expanduser()


def resolve_data_home(path: str | Path | None) -> Path:
    """The scikit-learn ``data_home`` for ``path``: the folder holding ``lfw_home``, or, when ``path`` is
    the ``lfw_home`` folder itself, its parent (None: :func:`default_data_home`)."""
    if path is None:
        return default_data_home()
    path = Path(path).expanduser()
    if path.name == "lfw_home" and not (path / "lfw_home").exists():
        return path.parent
    return path


def _is_writable(folder: Path) -> bool:
    """True when a file can be created in ``folder`` (root included: a read-only mount says no)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@contextmanager
def _writable_data_home(data_home: Path, names: tuple[str, ...]) -> Iterator[Path]:
    """``data_home`` itself when scikit-learn can write its ``lfw_home/joblib`` cache there; else a
    temporary data home whose ``lfw_home`` links to the read-only one's ``names`` (nothing is copied)."""
    if _is_writable(data_home / "lfw_home"):
        yield data_home
        return
    with tempfile.TemporaryDirectory(prefix="fercl-lfw-") as mirror:
        home = Path(mirror) / "lfw_home"
        home.mkdir()
        for name in names:
            (home / name).symlink_to((data_home / "lfw_home" / name).resolve())
        yield Path(mirror)


def _layout_help(data_home: Path, folder: str) -> str:
    return (
        f"offline use needs a prepared scikit-learn lfw_home: {data_home}/lfw_home/{folder}/<Name>/"
        f"<Name>_0001.jpg and {', '.join(PAIRS_FILES)} in {data_home}/lfw_home (fetch it once on a connected "
        "machine with sklearn.datasets.fetch_lfw_people(data_home=...) and copy lfw_home); fercl never "
        "downloads it"
    )


class LfwPeople:
    """LFW images of the people kept, in scikit-learn's shuffled order, all in split ``all``."""

    name = "lfw"

    def __init__(
        self, images: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...], note: str
    ) -> None:
        """``images`` uint8 [N, H, W, 3] RGB; ``labels`` int64 [N] indices into ``class_names`` (people)."""
        self.images, self.labels, self.class_names, self._note = images, labels, class_names, note

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[LabelledImage]:
        for i, (image, label) in enumerate(zip(self.images, self.labels, strict=True)):
            yield LabelledImage(image=image, label=int(label), split=ALL, key=f"lfw:{i}")

    def counts(self) -> dict[str, int]:
        """``rows`` and ``identities``."""
        return {"rows": len(self), "identities": len(self.class_names)}

    def notes(self) -> list[str]:
        """What was kept and how the images were converted."""
        return [self._note]


def load_lfw(
    data_home: Path | None = None,
    *,
    min_faces_per_person: int = 200,
    resize: float = 0.5,
    color: bool = False,
    funneled: bool = True,
    size: int | None = 128,
) -> LfwPeople:
    """Read LFW people from a prepared ``<data_home>/lfw_home`` without downloading.

    Args:
        data_home: the folder holding ``lfw_home`` (default :func:`default_data_home`).
        min_faces_per_person: keep people with at least this many images.
        resize: scikit-learn's scale of its 125×94 face window (0.5 → 62×47 px).
        color: keep RGB; otherwise scikit-learn averages to grey and fercl replicates the grey into R, G, B.
        funneled: read ``lfw_funneled`` (the aligned release) instead of ``lfw``.
        size: stretch every image to ``size``×``size`` (bicubic; aspect ratio not kept), or None to keep
            scikit-learn's shape.

    Raises:
        FerclError: the folder is not prepared, scikit-learn cannot read it, or nobody has enough images.
    """
    from sklearn.datasets import fetch_lfw_people

    if min_faces_per_person < 0:
        raise ValueError(f"min_faces_per_person must be >= 0, got {min_faces_per_person}")
    if resize <= 0:
        raise ValueError(f"resize must be > 0, got {resize}")
    if size is not None and size < 16:
        raise ValueError(f"size must be at least 16 px or None, got {size}")
    data_home = resolve_data_home(data_home)
    folder = "lfw_funneled" if funneled else "lfw"
    lfw_home = data_home / "lfw_home"
    missing = [name for name in (folder, *PAIRS_FILES) if not (lfw_home / name).exists()]
    if missing:
        raise FerclError(f"{lfw_home}: missing {', '.join(missing)}; {_layout_help(data_home, folder)}")
    try:
        with _writable_data_home(data_home, (folder, *PAIRS_FILES)) as readable_home:
            bunch = fetch_lfw_people(
                data_home=str(readable_home),
                funneled=funneled,
                resize=resize,
                min_faces_per_person=min_faces_per_person,
                color=color,
                download_if_missing=False,
            )
    except ValueError as exc:
        raise FerclError(
            f"{lfw_home / folder}: no person has {min_faces_per_person} or more images ({exc}); "
            "lower --min-faces (min_faces_per_person)"
        ) from exc
    except (OSError, RuntimeError) as exc:
        raise FerclError(
            f"{lfw_home}: scikit-learn could not read LFW ({exc}); {_layout_help(data_home, folder)}"
        ) from exc
    images = np.clip(np.rint(np.asarray(bunch.images, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    height, width = images.shape[1:3]
    if not color:
        images = np.repeat(images[..., None], 3, axis=3)
    if size is not None:
        import cv2

        images = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_CUBIC) for im in images])
    names = tuple(str(n) for n in bunch.target_names)
    shape = f"{size}×{size}, aspect ratio not kept" if size is not None else f"{height}×{width}"
    note = (
        f"LFW: {len(images)} images of {len(names)} people with at least {min_faces_per_person} images each; "
        f"scikit-learn's {folder} face window at {height}×{width}"
        f"{', grey replicated into R, G and B' if not color else ', colour'}; fed as {shape}"
    )
    return LfwPeople(images, np.asarray(bunch.target, dtype=np.int64), names, note)
