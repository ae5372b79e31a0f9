"""Writing a plain (non-journaled) HDF5 file so that an I/O error is an exception, never a crash.

HDF5's own file driver reacts to a failed write (a full disk) by failing its cache flushes, and h5py
then crashes the interpreter while freeing objects (seen: a segfault). :class:`GuardedFile` is the file
object h5py writes through instead: the first failed call is kept in :attr:`GuardedFile.failure`, the
call pretends to succeed (HDF5 carries on harmlessly) and :func:`new_h5` raises the failure once h5py has
closed the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import h5py


class GuardedFile:
    """``seek``/``tell``/``read``/``write``/``truncate``/``flush`` over ``handle``, failures kept."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.failure: OSError | None = None
        self.attempted = 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def read(self, size: int = -1) -> bytes:
        try:
            return self._handle.read(size)
        except OSError as exc:
            self.failure = self.failure or exc
            return bytes(max(size, 0))

    def write(self, data: bytes | bytearray | memoryview) -> int:
        size = memoryview(data).nbytes
        self.attempted += size
        if self.failure is None:
            try:
                self._handle.write(data)
            except OSError as exc:
                self.failure = exc
        return size

    def truncate(self, size: int | None = None) -> int:
        try:
            return self._handle.truncate(size)
        except OSError as exc:
            self.failure = self.failure or exc
            return self._handle.tell() if size is None else size

    def flush(self) -> None:
        try:
            self._handle.flush()
        except OSError as exc:
            self.failure = self.failure or exc


@contextmanager
def new_h5(path: Path) -> Iterator[h5py.File]:
    """A new HDF5 file at ``path`` (truncated), flushed and fsynced on a clean exit.

    Raises:
        OSError: a write failed (``errno`` as the system said, ``filename`` = ``path``, ``needed`` = the
            bytes HDF5 wrote in all); the caller deletes the incomplete file.
    """
    with open(path, "w+b") as handle:
        guarded = GuardedFile(handle)
        with h5py.File(guarded, "w") as h5:
            yield h5
        guarded.flush()
        if guarded.failure is None:
            try:
                os.fsync(handle.fileno())
            except OSError as exc:
                guarded.failure = exc
        if guarded.failure is not None:
            failure = guarded.failure
            error = OSError(failure.errno, f"{path}: writing failed: {failure.strerror or failure}")
            error.filename = str(path)
            error.needed = guarded.attempted
            raise error from failure
