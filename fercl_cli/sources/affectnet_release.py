"""Either AffectNet release: the CSV one (:mod:`fercl_cli.sources.affectnet`) or the .npy one
(:mod:`fercl_cli.sources.affectnet_npy`), told apart by their files; a folder that mixes them is refused."""

from __future__ import annotations

from pathlib import Path

from fercl_cli.errors import FerclError
from fercl_cli.sources.affectnet import CSV_FILES, LIST_FOLDERS, NPY_SETS, AffectNet, open_affectnet_csv
from fercl_cli.sources.affectnet_npy import open_affectnet_npy


def affectnet_release(root: Path) -> str:
    """Which AffectNet release ``root`` holds: ``npy`` (``train_set/``, ``val_set/``) or ``csv`` (also when
    it holds neither, so that the CSV release's messages say what is missing).

    Raises:
        FerclError: ``root`` holds files of both releases.
    """
    root = Path(root)
    csvs = [f"{d}/{f}".lstrip("/") for d in LIST_FOLDERS for f in CSV_FILES if (root / d / f).is_file()]
    sets = [f"{name}/" for name in NPY_SETS if (root / name).is_dir()]
    if csvs and sets:
        raise FerclError(
            f"{root}: mixes the two AffectNet releases, the CSV one ({', '.join(csvs)}) and the .npy one "
            f"({', '.join(sets)}); pass a folder that holds only one of them"
        )
    return "npy" if sets else "csv"


def open_affectnet(
    root: Path, *, images: Path | None = None, classes: int = 8, size: int = 128, align: bool = True
) -> AffectNet:
    """AffectNet under ``root``, either release (:func:`affectnet_release`): see
    :func:`~fercl_cli.sources.affectnet.open_affectnet_csv` and
    :func:`~fercl_cli.sources.affectnet_npy.open_affectnet_npy` (``images`` must be None) for each.

    Raises:
        FerclError: ``root`` is not a folder, mixes the releases, or its release is incomplete.
    """
    root = Path(root)
    if not root.is_dir():
        raise FerclError(f"{root}: AffectNet folder not found")
    if affectnet_release(root) == "npy":
        return open_affectnet_npy(root, images=images, classes=classes, size=size, align=align)
    return open_affectnet_csv(root, images=images, classes=classes, size=size, align=align)
