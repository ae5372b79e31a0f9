"""Opening store files: locking, crash recovery and the checks that turn bad files into one-line errors."""

from __future__ import annotations

import errno
import fcntl
import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py

from fercl_cli.errors import FerclError
from fercl_cli.store.journal import JournaledFile, journal_path, read_record, recover
from fercl_cli.store.schema import SCHEMA_VERSION, STORE_KIND
from fercl_cli.store.structure import check_structure

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_JOURNAL_WAIT_S = 10.0
_CREATING = ".creating"
_readers: weakref.WeakSet[Any] = weakref.WeakSet()


def track_reader(store: Any) -> None:
    """Remember a reader (an object with ``path`` and ``close()``) so writes in this process can close it."""
    _readers.add(store)


def release_readers(path: Path) -> None:
    """Close this process's read handles on ``path`` (they reopen lazily on next use).

    HDF5 shares one metadata cache between all handles a process has on a file; after a commit through
    the journal that cache would describe the old file and could misread the new one.
    """
    target = path.resolve()
    for store in list(_readers):
        if store.path.resolve() == target:
            store.close()


def _is_hdf5(path: Path) -> bool:
    """True when ``path`` starts with the HDF5 signature at offset 0 or any power of two from 512."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        offset = 0
        while offset + len(_HDF5_SIGNATURE) <= size:
            handle.seek(offset)
            if handle.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                return True
            offset = 512 if offset == 0 else offset * 2
    return False


def file_kind(path: str | Path) -> str | None:
    """The ``kind`` attribute of a fercl HDF5 file (``"faces"``, ``"swaps"``, ...), or ``None`` for a
    missing, non-HDF5 or foreign file. Reads only the root attributes."""
    path = Path(path)
    if not path.is_file() or not _is_hdf5(path):
        return None
    try:
        with h5py.File(path, "r", locking=False) as h5:
            kind = h5.attrs.get("kind")
    except OSError:
        return None
    return str(kind) if kind is not None else None


HeaderCheck = Callable[[h5py.File, Path], None]


def no_record_message(path: Path, noun: str = "face store") -> str:
    """Why a file without fercl's commit record is refused."""
    return (
        f"{path}: not written by fercl, or rewritten by another HDF5 tool (h5repack and the like drop the "
        f"commit record fercl keeps in the first 512 bytes); fercl cannot trust or resume this {noun}: copy "
        "the original file again (cp keeps the record) or write it again with fercl"
    )


def _check_exists(path: Path, noun: str) -> None:
    if not path.exists():
        raise FerclError(f"{path}: no such {noun}; check the path")
    if not path.is_file():
        raise FerclError(f"{path}: is not a file; pass the .h5 {noun} itself")
    if not _is_hdf5(path):
        raise FerclError(f"{path}: not an HDF5 file, so not a fercl {noun}; pass a {noun} written by fercl")


def _lock(fd: int, path: Path, blocking: bool) -> bool:
    """Take the writer lock on ``fd``; False (non-blocking) when another process holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise FerclError(f"{path}: cannot lock the file ({exc.strerror}); use a local disk") from None
    return True


def check_header(h5: h5py.File, path: Path) -> None:
    """Raise :class:`FerclError` unless ``h5`` is a fercl face store of a schema this fercl reads."""
    attrs = h5.attrs
    if "fercl_schema" not in attrs or attrs.get("kind") != STORE_KIND:
        raise FerclError(f"{path}: an HDF5 file but not a fercl face store (no fercl_schema/kind attributes)")
    version = int(attrs["fercl_schema"])
    if version > SCHEMA_VERSION:
        raise FerclError(
            f"{path}: written by fercl {attrs.get('fercl_version', '?')} with store schema {version}; this "
            f"fercl reads schema {SCHEMA_VERSION}: upgrade fercl"
        )
    if version < SCHEMA_VERSION:
        raise FerclError(
            f"{path}: store schema {version} is older than this fercl's {SCHEMA_VERSION}; preprocess again"
        )


def check_store(h5: h5py.File, path: Path) -> None:
    """:func:`check_header` plus the structural check of :mod:`fercl_cli.store.structure` (what every
    stage runs before it reads a store's data or writes into it)."""
    check_header(h5, path)
    check_structure(h5, path)


def _finish_interrupted_commit(path: Path) -> None:
    """Replay or discard the journal a killed writer left, waiting while a live writer holds the lock."""
    deadline = time.monotonic() + _JOURNAL_WAIT_S
    while journal_path(path).exists():
        try:
            fd = os.open(path, os.O_RDWR)
        except PermissionError:
            raise FerclError(
                f"{path}: a writer was interrupted mid-commit; open the store once with write access "
                "(e.g. `fercl store validate`) to finish the commit"
            ) from None
        try:
            if _lock(fd, path, blocking=False):
                recover(path, fd)
                return
        finally:
            os.close(fd)
        if time.monotonic() > deadline:
            raise FerclError(f"{path}: a writer is committing and did not finish; retry when it is done")
        time.sleep(0.05)


def open_for_reading(
    path: Path, check: HeaderCheck = check_header, noun: str = "face store", require_record: bool = True
) -> h5py.File:
    """The store opened read-only (HDF5 file locking off: fercl's writer uses its own lock).

    ``check`` validates the root attributes (another file kind, e.g. a swap bank, passes its own) and
    ``noun`` names the kind in messages. A file without fercl's commit record (the user block, lost when
    a tool such as h5repack rewrites the file) is refused unless ``require_record`` is False."""
    _check_exists(path, noun)
    _finish_interrupted_commit(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        record, size = read_record(fd), os.fstat(fd).st_size
    finally:
        os.close(fd)
    if record is not None and size < record.size:
        raise FerclError(f"{path}: truncated ({size} of {record.size} bytes); copy the {noun} again")
    try:
        h5 = h5py.File(path, "r", locking=False)
    except OSError as exc:
        raise FerclError(f"{path}: HDF5 cannot open it ({_first_line(exc)}); the file is damaged") from None
    try:
        check(h5, path)
        if record is None and require_record:
            raise FerclError(no_record_message(path, noun))
    except FerclError:
        h5.close()
        raise
    return h5


@dataclass
class Writable:
    """A store opened for writing: the locked descriptor, its journal and the HDF5 file on top."""

    path: Path
    fd: int
    journal: JournaledFile
    h5: h5py.File

    def commit(self) -> None:
        """Flush HDF5 and commit everything written so far atomically."""
        self.h5.flush()
        self.journal.commit()
        release_readers(self.path)

    def close(self, keep: bool) -> None:
        """Close; ``keep`` commits what HDF5 writes while closing, otherwise it is discarded (and a new
        file that was never published, ``<path>.creating``, is deleted)."""
        try:
            self.h5.close()
            if keep:
                self.journal.commit()
                release_readers(self.path)
            else:
                self.journal.rollback()
        finally:
            os.close(self.fd)
            if not keep and self.path.name.endswith(_CREATING):
                journal = journal_path(self.path)
                for leftover in (self.path, journal, journal.with_name(journal.name + ".tmp")):
                    leftover.unlink(missing_ok=True)


def _open_locked(path: Path, flags: int, noun: str = "face store") -> int:
    fd = os.open(path, flags, 0o644)
    if not _lock(fd, path, blocking=False):
        os.close(fd)
        raise FerclError(f"{path}: another process is writing this {noun}; wait for it or use another --out")
    return fd


def lock_exclusively(path: Path, noun: str) -> int:
    """Create (if needed) and ``flock`` the file ``path`` for this process; the returned descriptor holds
    the lock until it is closed (or the process dies). Raises :class:`FerclError` when another process
    holds it, naming ``noun`` (what is being written, e.g. "run directory")."""
    return _open_locked(path, os.O_RDWR | os.O_CREAT, noun)


def open_for_writing(path: Path, check: HeaderCheck = check_store, noun: str = "face store") -> Writable:
    """An existing store (or another journaled fercl file, see :func:`open_for_reading`), recovered after
    any crash and locked for this process."""
    _check_exists(path, noun)
    release_readers(path)
    fd = _open_locked(path, os.O_RDWR, noun)
    try:
        record = recover(path, fd)
        if record is None:
            raise FerclError(no_record_message(path, noun))
        size = os.fstat(fd).st_size
        if size < record.size:
            raise FerclError(f"{path}: truncated ({size} of {record.size} bytes); delete it and start over")
        journal = JournaledFile(path, fd, record)
        try:
            h5 = h5py.File(journal, "r+", libver=("earliest", "v108"))
        except OSError as exc:
            raise FerclError(
                f"{path}: HDF5 cannot open it ({_first_line(exc)}); the file is damaged"
            ) from None
        try:
            check(h5, path)
        except FerclError:
            h5.close()
            raise
    except BaseException:
        os.close(fd)
        raise
    return Writable(path=path, fd=fd, journal=journal, h5=h5)


def create_for_writing(path: Path) -> Writable:
    """A new, empty HDF5 file at ``<path>.creating``; :func:`publish` renames it once committed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + _CREATING)
    fd = _open_locked(temporary, os.O_RDWR | os.O_CREAT)
    try:
        os.ftruncate(fd, 0)
        journal = JournaledFile(temporary, fd, None)
        h5 = h5py.File(journal, "w", userblock_size=512, libver=("earliest", "v108"))
    except BaseException:
        os.close(fd)
        raise
    return Writable(path=temporary, fd=fd, journal=journal, h5=h5)


def publish(writable: Writable, path: Path) -> None:
    """Move a committed new store from ``<path>.creating`` to ``path`` (atomic rename)."""
    os.replace(writable.path, path)
    writable.path = path
    writable.journal.path = path
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
