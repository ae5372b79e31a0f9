"""The lifecycle both crash-safe writers share (face store, swap bank): commit, close, discard, ``with``.

A writer owns one :class:`~fercl_cli.store.files.Writable` (journaled HDF5 file, writer lock). A commit
that fails marks the writer broken: it can no longer commit, and closing it throws away what was not
committed, so the file stays as of its last commit and a rerun resumes from there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from fercl_cli.store.files import create_for_writing, publish

if TYPE_CHECKING:
    import h5py

    from fercl_cli.store.files import Writable

_W = TypeVar("_W", bound="JournaledWriter")


class JournaledWriter:
    """Base of :class:`~fercl_cli.store.writer.FaceStoreWriter` and
    :class:`~fercl_cli.store.swap_bank.SwapBankWriter`; subclasses set ``_file`` and write their staged
    data in :meth:`_write_staged`."""

    path: Path
    _file: Writable | None
    _broken: bool = False

    def _write_staged(self) -> bool:
        """Write what was added since the last commit into the file (not yet durable); False when there
        is nothing to commit."""
        raise NotImplementedError

    def _committed(self) -> None:
        """Update the writer's committed counters once a commit is durable."""

    def _create_published(self, fill: Callable[[h5py.File], None]) -> Writable:
        """Create the file at ``path``: ``fill(h5)`` writes its empty layout, which is committed and only
        then published under ``path`` (a crash before leaves no file there)."""
        file = create_for_writing(self.path)
        try:
            fill(file.h5)
            file.commit()
            publish(file, self.path)
        except BaseException:
            file.close(keep=False)
            raise
        return file

    def _check_usable(self) -> None:
        if self._file is None:
            raise ValueError(f"the writer of {self.path} is closed")
        if self._broken:
            raise ValueError(f"the writer of {self.path} failed during a commit; open the file again")

    def commit(self) -> None:
        """Make everything added so far durable, atomically."""
        self._check_usable()
        try:
            if not self._write_staged():
                return
            self._file.commit()
        except BaseException:
            self._broken = True
            raise
        self._committed()

    def close(self) -> None:
        """Commit what was added and close the file (a broken writer only closes, dropping it)."""
        if self._file is None:
            return
        try:
            if not self._broken:
                self.commit()
        finally:
            self._file.close(keep=not self._broken)
            self._file = None

    def discard(self) -> None:
        """Close without committing what was added since the last commit (it is forgotten)."""
        if self._file is not None:
            self._file.close(keep=False)
            self._file = None

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()
