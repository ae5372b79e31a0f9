"""Disk space: checks before predictable writes, and full-disk failures turned into one-line errors.

Every writing stage calls :func:`require_free` where the size of what it is about to write is known,
and maps a write that fails with ``ENOSPC``/``EDQUOT`` (however the library underneath reports it) to
:func:`no_space_error`, which names the path and the space it needed.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fercl_cli.errors import FerclError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_FULL_TEXT = ("no space left on device", "errno = 28", "errno 28", "disk quota exceeded")


def human_bytes(n: float) -> str:
    """``1536`` → ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def free_bytes(path: str | Path) -> int:
    """Bytes available to this user on the file system holding ``path`` (or its nearest existing parent)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def require_free(path: str | Path, needed: int, what: str) -> None:
    """Raise :class:`FerclError` before writing when ``needed`` bytes of ``what`` will not fit at ``path``."""
    free = free_bytes(path)
    if needed > free:
        raise FerclError(
            f"{path}: {what} needs about {human_bytes(needed)} but only {human_bytes(free)} is free there; "
            "free some space or write elsewhere, then run the command again"
        )


def is_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or anything in its cause/context chain) is a full-disk or quota failure.

    h5py and torch's zip writer report ENOSPC only inside their message text, so that is checked too."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        text = str(exc).lower()
        if any(marker in text for marker in _FULL_TEXT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def no_space_error(path: str | Path | None, needed: int | None = None, resumes: bool = True) -> FerclError:
    """The one-line error for a write to ``path`` (``None``: not known) that ran out of space, with the
    ``needed`` bytes when known; ``resumes``: a rerun continues from the finished work."""
    need = f"; it needed about {human_bytes(needed)}" if needed else ""
    if path is None:
        return FerclError(
            f"a write failed because the disk is full{need}; nothing partial was kept: free some space and "
            "run the command again"
        )
    return FerclError(
        f"{path}: the disk is full ({human_bytes(free_bytes(path))} free{need}); nothing partial was kept: "
        "free some space and run the command again"
        + (", finished work is kept and resumed" if resumes else "")
    )


def payload_bytes(value: Any) -> int:
    """Bytes of the tensors and arrays in a nested payload (a lower bound of its file size)."""
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):  # torch tensors and NumPy arrays
        return nbytes
    if isinstance(value, Mapping):
        return sum(payload_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(payload_bytes(v) for v in value)
    return 0


@contextmanager
def disk_full_is_an_error(path: str | Path) -> Iterator[None]:
    """Turn a full-disk failure inside the block into :func:`no_space_error` for the file the failure
    names (``filename``/``path`` of the exception, else ``path``, the stage's output)."""
    try:
        yield
    except FerclError:
        raise
    except (OSError, RuntimeError) as exc:
        if not is_disk_full(exc):
            raise
        where = getattr(exc, "filename", None) or path
        raise no_space_error(where, getattr(exc, "needed", None)) from None


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through ``<path>.tmp`` and a rename, so ``path`` is never half-written;
    a full disk is :func:`no_space_error` and leaves no ``.tmp``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    require_free(path.parent, len(data), path.name)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise no_space_error(path, len(data)) from None
        raise
    return path


def preallocated_memmap(path: str | Path, dtype: npt.DTypeLike, shape: tuple[int, ...]) -> np.memmap:
    """A new ``np.memmap`` at ``path`` whose blocks are reserved on disk first (``posix_fallocate``).

    A memory map over a sparse file that outgrows a full disk kills the process with SIGBUS on some
    later store; reserving the space turns that into an ``OSError`` (ENOSPC, naming ``path``) now.
    """
    import numpy as np

    path = Path(path)
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.posix_fallocate(fd, 0, max(nbytes, 1))
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        exc.filename, exc.needed = str(path), nbytes
        raise
    os.close(fd)
    return np.memmap(path, dtype=dtype, mode="r+", shape=shape)


def write_atomic(out: Path, needed: int, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` into a hidden file next to ``out``, fsync, then rename onto ``out``: never
    half-written; a failure leaves neither ``out`` nor the temporary file, a full disk (checked first
    against ``needed`` bytes) is one error line."""
    out.parent.mkdir(parents=True, exist_ok=True)
    require_free(out.parent, needed, out.name)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except (OSError, RuntimeError) as exc:  # torch reports a full disk as a RuntimeError
        if is_disk_full(exc):
            raise no_space_error(out, needed, resumes=False) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)
