"""Opening swap-bank files (``swaps.h5``) with the face store's crash-safe commit machinery.

The bank is written through :class:`fercl_cli.store.journal.JournaledFile` exactly like a face store
(commit record in the HDF5 user block, redo journal, writer lock), so a killed ``fercl swap`` leaves
the bank as of its last commit and a rerun resumes. Only the header check differs: a bank has
``kind = "swaps"`` and its own schema version.
"""

from __future__ import annotations

from pathlib import Path

import h5py

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


def open_bank_for_writing(path: Path) -> Writable:
    """An existing bank, recovered after any crash and locked for this process."""
    return open_for_writing(Path(path), check_bank_header, "swap bank")


def open_bank_for_reading(path: Path) -> h5py.File:
    """The bank opened read-only; a commit a killed writer left half-done is finished first."""
    return open_for_reading(Path(path), check_bank_header, "swap bank")
