"""Which reader each evaluation dataset uses, which files identify it for the cache, and its options."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.cache import fingerprint, walk_files
from fercl_cli.sources.labelled import LabelledSource


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset as the cache sees it.

    Attributes:
        name: ``affectnet``, ``fer2013``, ``rafdb`` or ``lfw``.
        root: the folder (or file) the user named; the default cache lives next to it.
        key: :func:`fingerprint` of the source files and ``options``.
        options: the reader options (they change the crops or rows, so they are part of the key).
        open: returns the reader, called on a cache miss (AffectNet's CSV release, FER2013 and RAF-DB are
            built up front, which checks their label files even on a cache hit; AffectNet's .npy annotations
            and LFW's images are only read on a miss).
        extra: facts to record at conversion, from the opened reader.
    """

    name: str
    root: Path
    key: str
    options: dict[str, Any]
    open: Callable[[], LabelledSource]
    extra: Callable[[LabelledSource], Mapping[str, Any]] | None = None


def _affectnet_extra(source: Any) -> dict[str, Any]:
    """The class counts of the rows training.csv lists (before any image is found missing)."""
    train = source.parts[0]
    return {"listed_train_counts": np.bincount(train.labels, minlength=train.classes).tolist()}


def affectnet_spec(data: Path, *, images: Path | None, classes: int, size: int) -> DatasetSpec:
    """AffectNet under ``data``, either release (see :func:`fercl_cli.sources.affectnet_release.open_affectnet`),
    with the release in the options. The CSV release's CSVs are parsed and checked now, its images only on
    a cache miss; the .npy release's layout is checked now, its annotations and images read on a miss."""
    from fercl_cli.sources.affectnet_release import affectnet_release, open_affectnet

    root = Path(data)
    release = affectnet_release(root) if root.is_dir() else "csv"
    options = {"classes": classes, "size": size, "align": True, "release": release}
    if release == "npy":
        from fercl_cli.sources.affectnet_npy import npy_layout, open_affectnet_npy

        files = [path for folder, _ in npy_layout(root, images) for path in walk_files(folder)]
        key = fingerprint("affectnet", root, files, options)

        def open_source() -> LabelledSource:
            return open_affectnet_npy(root, classes=classes, size=size)

        return DatasetSpec("affectnet", root, key, options, open_source, _affectnet_extra)
    source = open_affectnet(root, images=images, classes=classes, size=size)
    files = [part.csv for part in source.parts] + walk_files(source.parts[0].images)
    key = fingerprint("affectnet", root, files, options)
    return DatasetSpec("affectnet", root, key, options, lambda: source, _affectnet_extra)


def fer2013_spec(data: Path, *, size: int, split: str | None, ferplus: Path | None) -> DatasetSpec:
    """FER2013 from its CSV or its folder layout (see :func:`fercl_cli.sources.fer2013.open_fer2013`);
    with the CSV, ``split`` (default ``public``) names the reported test Usage and ``ferplus`` the FER+
    label file. Both are part of the key (they move rows between splits, or relabel them)."""
    from fercl_cli.sources.fer2013 import Fer2013Csv, open_fer2013

    source = open_fer2013(Path(data), size=size, split=split, ferplus=ferplus)
    if isinstance(source, Fer2013Csv):
        files, root = [source.csv], source.csv.parent
        if source.ferplus is not None:
            files.append(source.ferplus)
        options = {"size": size, "layout": "csv", "split": source.split_choice, "labels": source.label_set}
    else:
        files, root = walk_files(source.root / "train") + walk_files(source.root / "test"), source.root
        options = {"size": size, "layout": "folders", "split": "folders", "labels": "fer2013"}
    key = fingerprint("fer2013", root, files, options)
    return DatasetSpec("fer2013", Path(data), key, options, lambda: source)


def rafdb_spec(data: Path, *, images: str, size: int) -> DatasetSpec:
    """RAF-DB basic under ``data`` (see :class:`fercl_cli.sources.rafdb.RafDb`); the label file is read and
    checked now, the images only on a cache miss. The image folder actually read is part of the key."""
    from fercl_cli.sources.rafdb import RafDb

    source = RafDb(Path(data), images=images, size=size)
    options = {"size": size, "images": source.images}
    key = fingerprint("rafdb", Path(data), [source.label_file, *walk_files(source.image_folder)], options)
    return DatasetSpec("rafdb", Path(data), key, options, lambda: source)


def lfw_spec(data_home: Path | None, *, min_faces: int, size: int) -> DatasetSpec:
    """LFW people from a prepared scikit-learn ``<data_home>/lfw_home`` (see
    :func:`fercl_cli.sources.lfw.load_lfw`); scikit-learn reads the images only on a cache miss."""
    from fercl_cli.sources.lfw import PAIRS_FILES, load_lfw, resolve_data_home

    if min_faces < 1:
        raise FerclError(f"--min-faces must be at least 1, got {min_faces}")
    home = resolve_data_home(data_home)
    lfw_home = home / "lfw_home"

    def open_source() -> LabelledSource:
        return load_lfw(home, min_faces_per_person=min_faces, size=size)

    people = lfw_home / "lfw_funneled"
    if not people.is_dir() or any(not (lfw_home / p).is_file() for p in PAIRS_FILES):
        open_source()  # raises the reader's message, which shows the layout scikit-learn expects
    options = {"min_faces_per_person": min_faces, "size": size, "funneled": True, "resize": 0.5}
    key = fingerprint("lfw", home, walk_files(people) + [lfw_home / p for p in PAIRS_FILES], options)
    return DatasetSpec("lfw", home, key, options, open_source)
