"""A redo journal under HDF5, so that a store survives its writer being killed at any moment.

HDF5 rewrites its metadata (superblock, object headers, chunk indexes, heaps) in place, in no fixed
order, whenever its caches decide; a process killed part-way through leaves a file that no longer
opens. :class:`JournaledFile` is the file object h5py's ``fileobj`` driver writes through:

* bytes beyond the last committed file size (new space: new chunks, new heaps) go straight to disk;
  nothing committed refers to them, so after a crash they are unreferenced garbage, cut on reopen;
* bytes inside the committed size are kept in memory, page by page, and never touch the file
  between commits.

:meth:`JournaledFile.commit` makes the new state durable in order: fsync the new space, write every
changed page to ``<file>.journal`` (written under a temporary name, fsynced, then renamed), copy the
pages into the file (page 0, which holds the commit record and the HDF5 superblock, last), fsync,
delete the journal. :func:`recover` replays a complete journal left by a crash (replay is
idempotent) and ignores an incomplete one, so the file always holds exactly the last commit.

The commit record lives in the HDF5 user block (the first 512 bytes, which HDF5 leaves alone):
committed file size and commit sequence number, with a CRC.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = 4096
USERBLOCK_SIZE = 512

_RECORD_MAGIC = b"FERCLSTR"
_RECORD = struct.Struct("<8sQQ")  # magic, committed size in bytes, commit sequence number
_CRC = struct.Struct("<I")
_JOURNAL_MAGIC = b"FERCLJNL"
_JOURNAL_END = b"FERCLEND"
_JOURNAL_HEAD = struct.Struct("<8sQQII")  # magic, sequence, new file size, page count, page size
_PAGE_HEAD = struct.Struct("<QI")  # page index, length in bytes


@dataclass(frozen=True)
class CommitRecord:
    """The committed state of a store file: its size in bytes and how many commits made it."""

    size: int
    sequence: int


def journal_path(path: Path) -> Path:
    """Where the journal of the store at ``path`` lives while a commit is in flight."""
    return path.with_name(path.name + ".journal")


def _encode_record(record: CommitRecord) -> bytes:
    body = _RECORD.pack(_RECORD_MAGIC, record.size, record.sequence)
    return body + _CRC.pack(zlib.crc32(body))


def read_record(fd: int) -> CommitRecord | None:
    """The commit record at the start of the open file ``fd``, or ``None`` when there is none."""
    raw = os.pread(fd, _RECORD.size + _CRC.size, 0)
    if len(raw) < _RECORD.size + _CRC.size:
        return None
    body, (crc,) = raw[: _RECORD.size], _CRC.unpack(raw[_RECORD.size :])
    magic, size, sequence = _RECORD.unpack(body)
    if magic != _RECORD_MAGIC or zlib.crc32(body) != crc:
        return None
    return CommitRecord(size=size, sequence=sequence)


def _write_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _fsync_dir(path: Path) -> None:
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse_journal(data: bytes) -> tuple[int, int, dict[int, bytes]] | None:
    """(sequence, new size, pages) of a complete journal, ``None`` when it is torn or foreign."""
    tail = _CRC.size + len(_JOURNAL_END)
    if len(data) < _JOURNAL_HEAD.size + tail or data[-len(_JOURNAL_END) :] != _JOURNAL_END:
        return None
    (crc,) = _CRC.unpack(data[-tail : -len(_JOURNAL_END)])
    if zlib.crc32(data[:-tail]) != crc:
        return None
    magic, sequence, size, count, page_size = _JOURNAL_HEAD.unpack_from(data, 0)
    if magic != _JOURNAL_MAGIC or page_size != PAGE_SIZE:
        return None
    pages, at = {}, _JOURNAL_HEAD.size
    for _ in range(count):
        index, length = _PAGE_HEAD.unpack_from(data, at)
        at += _PAGE_HEAD.size
        pages[index] = data[at : at + length]
        at += length
    return sequence, size, pages


def _apply(fd: int, size: int, pages: dict[int, bytes]) -> None:
    """Copy journal pages into the file, runs of consecutive pages in one write; page 0 (commit record
    and superblock) goes last."""
    run: list[int] = []
    for index in sorted(pages) + [-1]:
        if run and index != run[-1] + 1:
            _write_all(fd, b"".join(pages[i] for i in run), run[0] * PAGE_SIZE)
            run = []
        if index > 0:
            run.append(index)
    os.ftruncate(fd, size)
    os.fsync(fd)
    if 0 in pages:
        _write_all(fd, pages[0], 0)
        os.fsync(fd)


def recover(path: Path, fd: int) -> CommitRecord | None:
    """Finish the commit a crash interrupted, if its journal is complete, and cut uncommitted bytes.

    ``fd`` is ``path`` opened read-write; the caller holds an exclusive ``flock`` on it. Returns the
    commit record (``None`` for a file that has none: not written by :class:`JournaledFile`).
    """
    journal = journal_path(path)
    journal.with_name(journal.name + ".tmp").unlink(missing_ok=True)
    record = read_record(fd)
    if journal.exists():
        parsed = _parse_journal(journal.read_bytes())
        if parsed is not None:
            sequence, size, pages = parsed
            if record is None or sequence == record.sequence + 1:
                _apply(fd, size, pages)
                record = read_record(fd)
        journal.unlink()
    if record is not None and os.fstat(fd).st_size > record.size:
        os.ftruncate(fd, record.size)
        os.fsync(fd)
    return record


class JournaledFile:
    """The file object h5py writes a store through (``h5py.File(JournaledFile(...), mode)``).

    Implements the calls of h5py's ``fileobj`` driver (``seek``, ``tell``, ``read``, ``write``,
    ``truncate``, ``flush``) plus :meth:`commit` and :meth:`rollback`. ``fd`` is the store opened
    read-write, already recovered, with ``record`` its commit record (``None`` for a new, empty file).

    h5py does not propagate exceptions raised inside these calls (HDF5 carries on and the interpreter
    is left with a pending error), so an I/O error here (disk full, ...) is kept in :attr:`failure`,
    the call pretends to succeed, and :meth:`commit` raises it instead of committing.
    """

    def __init__(self, path: Path, fd: int, record: CommitRecord | None) -> None:
        self.path = path
        self._fd = fd
        self._committed = record.size if record else 0
        self._sequence = record.sequence if record else 0
        self._size = os.fstat(fd).st_size
        if self._size != self._committed:
            raise ValueError(f"{path}: file holds {self._size} bytes, its commit record {self._committed}")
        self._pages: dict[int, bytearray] = {}
        self._pos = 0
        self.failure: BaseException | None = None

    @property
    def sequence(self) -> int:
        """How many commits the file has had."""
        return self._sequence

    # -- the h5py fileobj protocol ------------------------------------------------------------
    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        try:
            return self._read(size)
        except BaseException as exc:  # kept for commit(): see the class docstring
            self.failure = self.failure or exc
            return bytes(max(size, 0))

    def write(self, data: bytes | bytearray | memoryview) -> int:
        try:
            return self._write(data)
        except BaseException as exc:  # kept for commit(): see the class docstring
            self.failure = self.failure or exc
            return len(data)

    def truncate(self, size: int | None = None) -> int:
        try:
            return self._truncate(size)
        except BaseException as exc:  # kept for commit(): see the class docstring
            self.failure = self.failure or exc
            return self._pos if size is None else size

    def flush(self) -> None:
        """Nothing to do: durability comes from :meth:`commit`."""

    def _read(self, size: int) -> bytes:
        start = self._pos
        size = self._size - start if size < 0 else size
        out = bytearray(size)
        stop = min(start + size, self._size)
        low_stop = min(stop, self._committed)
        if start < low_stop:
            out[: low_stop - start] = self._read_committed(start, low_stop - start)
        high_start = max(start, self._committed)
        if high_start < stop:
            chunk = os.pread(self._fd, stop - high_start, high_start)
            out[high_start - start : high_start - start + len(chunk)] = chunk
        self._pos = start + size
        return bytes(out)

    def _write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data).cast("B")
        start, stop = self._pos, self._pos + len(view)
        split = min(max(start, self._committed), stop)
        if start < split:
            self._write_committed(start, view[: split - start])
        if split < stop:
            _write_all(self._fd, view[split - start :], split)
        self._size = max(self._size, stop)
        self._pos = stop
        return len(view)

    def _truncate(self, size: int | None) -> int:
        size = self._pos if size is None else size
        if size < self._committed:
            self._write_committed(size, memoryview(bytes(self._committed - size)))
            os.ftruncate(self._fd, self._committed)
        else:
            os.ftruncate(self._fd, size)
        self._size = size
        return size

    # -- transactions -------------------------------------------------------------------------
    def commit(self) -> None:
        """Make everything written so far the new committed state, atomically (see module doc).

        Call ``h5file.flush()`` first so that HDF5 has handed over all its dirty metadata. Raises the
        :attr:`failure` of an earlier call instead (the file keeps its last commit; :meth:`rollback`).
        """
        if self.failure is not None:
            code = self.failure.errno if isinstance(self.failure, OSError) else None
            error = OSError(code, f"{self.path}: writing failed, nothing was committed: {self.failure}")
            error.filename = str(self.path)
            error.needed = self._size - self._committed + PAGE_SIZE * (len(self._pages) + 1)
            raise error from self.failure
        record = CommitRecord(size=self._size, sequence=self._sequence + 1)
        self.seek(0)
        self._write(_encode_record(record))
        os.fsync(self._fd)
        if self._pages:
            pages = {index: bytes(page) for index, page in self._pages.items()}
            self._write_journal(record, pages)
            _apply(self._fd, record.size, pages)
            journal_path(self.path).unlink()
        self._committed, self._sequence = record.size, record.sequence
        self._pages.clear()

    def rollback(self) -> None:
        """Forget everything written since the last commit (the file itself never saw it)."""
        self.failure = None
        self._pages.clear()
        os.ftruncate(self._fd, self._committed)
        self._size = self._committed

    # -- internals ----------------------------------------------------------------------------
    def _page(self, index: int) -> bytearray:
        page = self._pages.get(index)
        if page is None:
            start = index * PAGE_SIZE
            page = bytearray(os.pread(self._fd, min(PAGE_SIZE, self._committed - start), start))
            self._pages[index] = page
        return page

    def _read_committed(self, start: int, size: int) -> bytes:
        first, last = start // PAGE_SIZE, (start + size - 1) // PAGE_SIZE
        if not any(index in self._pages for index in range(first, last + 1)):
            return os.pread(self._fd, size, start)
        out = bytearray(size)
        for index in range(first, last + 1):
            lo, hi = max(start, index * PAGE_SIZE), min(start + size, (index + 1) * PAGE_SIZE)
            page = self._pages.get(index)
            if page is None:
                out[lo - start : hi - start] = os.pread(self._fd, hi - lo, lo)
            else:
                out[lo - start : hi - start] = page[lo - index * PAGE_SIZE : hi - index * PAGE_SIZE]
        return bytes(out)

    def _write_committed(self, start: int, data: memoryview) -> None:
        stop = start + len(data)
        for index in range(start // PAGE_SIZE, (stop - 1) // PAGE_SIZE + 1):
            lo, hi = max(start, index * PAGE_SIZE), min(stop, (index + 1) * PAGE_SIZE)
            self._page(index)[lo - index * PAGE_SIZE : hi - index * PAGE_SIZE] = data[lo - start : hi - start]

    def _write_journal(self, record: CommitRecord, pages: dict[int, bytes]) -> None:
        parts = [_JOURNAL_HEAD.pack(_JOURNAL_MAGIC, record.sequence, record.size, len(pages), PAGE_SIZE)]
        for index in sorted(pages):
            parts += [_PAGE_HEAD.pack(index, len(pages[index])), pages[index]]
        body = b"".join(parts)
        final = journal_path(self.path)
        temporary = final.with_name(final.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, body + _CRC.pack(zlib.crc32(body)) + _JOURNAL_END, 0)
            os.fsync(fd)
        except OSError as exc:  # e.g. a full disk: the file still holds its last commit
            os.close(fd)
            temporary.unlink(missing_ok=True)
            exc.filename = exc.filename or str(temporary)
            exc.needed = len(body) + PAGE_SIZE
            raise
        os.close(fd)
        os.replace(temporary, final)
        _fsync_dir(final)
