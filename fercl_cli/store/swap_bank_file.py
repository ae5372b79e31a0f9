"""Opening swap-bank files (``swaps.h5``) with the face store's crash-safe commit machinery.

The bank is written through :class:`fercl_cli.store.journal.JournaledFile` exactly like a face store
(commit record in the HDF5 user block, redo journal, writer lock), so a killed ``fercl swap`` leaves
the bank as of its last commit and a rerun resumes. Only the header check differs: a bank has
``kind = "swaps"`` and its own schema version.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.store.files import Writable, open_for_reading, open_for_writing

BANK_KIND = "swaps"
BANK_SCHEMA = 1


def check_bank_header(h5: h5py.File, path: Path) -> None:
    """Raise :class:`FerclError` unless ``h5`` is a swap bank of a schema this fercl reads."""
    attrs = h5.attrs
    if attrs.get("kind") != BANK_KIND or "fercl_schema" not in attrs:
        found = attrs.get("kind", "no kind attribute")
        raise FerclError(f"{path}: not a fercl swap bank ({found}); pass the file written by `fercl swap`")
    version = int(attrs["fercl_schema"])
    if version != BANK_SCHEMA:
        raise FerclError(
            f"{path}: swap bank schema {version}, this fercl reads {BANK_SCHEMA}; run `fercl swap` again "
            "with this fercl"
        )
    problems = bank_structure_problems(h5)
    if problems:
        raise FerclError(
            f"{path}: damaged swap bank: {problems[0]}; nothing was written to it. Delete it and run "
            "`fercl swap` again"
        )


_BANK_DATASETS = {
    "swaps/source": ("int64", (), "committed_swaps"),
    "swaps/donor": ("int64", (), "committed_swaps"),
    "swaps/donor_identity": ("int32", (), "committed_swaps"),
    "swaps/image": ("uint8", None, "committed_swaps"),
    "swaps/landmarks": ("float32", (68, 2), "committed_swaps"),
    "index/start": ("int64", (), "store_frames"),
    "index/count": ("int32", (), "store_frames"),
    "index/status": ("uint8", (), "store_frames"),
}


def bank_structure_problems(h5: h5py.File) -> list[str]:
    """What is structurally wrong with the swap bank ``h5``: counters, datasets (dtype, row shape,
    length), and index entries pointing inside the committed swaps. Empty when nothing."""
    counts = {}
    for name in ("committed_swaps", "committed_sources", "store_frames", "crop_size"):
        value = h5.attrs.get(name)
        if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value < 0:
            return [f"the attribute {name} is {value!r}, not a count"]
        counts[name] = int(value)
    size = counts["crop_size"]
    for path, (dtype, shape, counter) in _BANK_DATASETS.items():
        dataset = h5.get(path)
        shape = (size, size, 3) if shape is None else shape
        if not isinstance(dataset, h5py.Dataset):
            return [f"{path} is missing"]
        if dataset.dtype != np.dtype(dtype) or dataset.shape[1:] != shape:
            return [f"{path} is {dataset.dtype} {dataset.shape[1:]}, not {dtype} {shape}"]
        if dataset.shape[0] < counts[counter]:
            return [f"{path} has {dataset.shape[0]} rows, fewer than {counter} = {counts[counter]}"]
    start, count = h5["index/start"][:], h5["index/count"][:].astype(np.int64)
    used = count > 0
    if (
        np.any(count < 0)
        or np.any(start[used] < 0)
        or np.any(start[used] + count[used] > counts["committed_swaps"])
    ):
        return ["index/start and index/count point outside the committed swaps"]
    return []


def open_bank_for_writing(path: Path) -> Writable:
    """An existing bank, recovered after any crash and locked for this process."""
    return open_for_writing(Path(path), check_bank_header, "swap bank")


def open_bank_for_reading(path: Path) -> h5py.File:
    """The bank opened read-only; a commit a killed writer left half-done is finished first."""
    return open_for_reading(Path(path), check_bank_header, "swap bank")
