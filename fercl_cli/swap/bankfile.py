"""Opening swap-bank files (``swaps.h5``) with the face store's crash-safe commit machinery.

The bank is written through :class:`fercl_cli.store.journal.JournaledFile` exactly like a face store
(commit record in the HDF5 user block, redo journal, writer lock), so a killed ``fercl swap`` leaves
the bank as of its last commit and a rerun resumes. Only the header check differs: a bank has
``kind = "swaps"`` and its own schema version.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import h5py

from fercl_cli.errors import FerclError
from fercl_cli.store.files import Writable
from fercl_cli.store.journal import JournaledFile, journal_path, recover

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


def _open_locked(path: Path) -> int:
    if not path.is_file():
        raise FerclError(f"{path}: no such swap bank; check the path")
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise FerclError(
                f"{path}: another process is writing this bank; wait for it or use another --out"
            ) from None
        raise FerclError(f"{path}: cannot lock the file ({exc.strerror}); use a local disk") from None
    return fd


def open_bank_for_writing(path: Path) -> Writable:
    """An existing bank, recovered after any crash and locked for this process."""
    fd = _open_locked(path)
    try:
        record = recover(path, fd)
        if record is None:
            raise FerclError(
                f"{path}: not written by fercl (no commit record); write the bank to a new --out"
            )
        journal = JournaledFile(path, fd, record)
        try:
            h5 = h5py.File(journal, "r+", libver=("earliest", "v108"))
        except OSError as exc:
            raise FerclError(
                f"{path}: HDF5 cannot open it ({exc}); delete it and run `fercl swap` again"
            ) from None
        try:
            check_bank_header(h5, path)
        except FerclError:
            h5.close()
            raise
    except BaseException:
        os.close(fd)
        raise
    return Writable(path=path, fd=fd, journal=journal, h5=h5)


def open_bank_for_reading(path: Path) -> h5py.File:
    """The bank opened read-only; a commit a killed writer left half-done is finished first."""
    path = Path(path)
    if journal_path(path).exists():
        open_bank_for_writing(path).close(keep=False)
    if not path.is_file():
        raise FerclError(f"{path}: no such swap bank; check the path")
    try:
        h5 = h5py.File(path, "r", locking=False)
    except OSError as exc:
        raise FerclError(f"{path}: not an HDF5 file, so not a swap bank ({type(exc).__name__})") from None
    try:
        check_bank_header(h5, path)
    except FerclError:
        h5.close()
        raise
    return h5
