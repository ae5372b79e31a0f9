"""Descriptor slots ``descriptors/<kind>``: per-frame vectors added to a finished store (one commit)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fercl_cli.store.files import open_for_writing

_KIND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BLOCK_BYTES = 64 << 20


def write_descriptors(
    path: str | Path, kind: str, values: Any, attrs: Mapping[str, str | int | float | bool] | None = None
) -> None:
    """Store ``values`` (float array-like [N, D], N = the store's committed frames, sliceable by rows,
    e.g. a numpy array or memmap) as float16 ``descriptors/<kind>`` with ``attrs`` (e.g. the weights
    file's hash), replacing an existing slot of that kind. Rows of frames without a usable descriptor
    must be all zeros; values must be finite. Written in blocks and committed atomically: after a
    crash the store has either the old slot or the new one."""
    path = Path(path)
    if not _KIND.match(kind):
        raise ValueError(f"descriptor kind must be letters, digits, '_', '.' or '-', got {kind!r}")
    shape = tuple(getattr(values, "shape", ()))
    if len(shape) != 2 or shape[1] < 1:
        raise ValueError(f"descriptor values must be a 2-D array [N, D], got shape {shape}")
    file = open_for_writing(path)
    keep = False
    try:
        h5 = file.h5
        rows = int(h5.attrs["committed_rows"])
        if shape[0] != rows:
            raise ValueError(f"{path} has {rows} frames but the {kind} descriptors have {shape[0]} rows")
        group = h5["descriptors"]
        staging = f".{kind}.new"
        if staging in group:
            del group[staging]
        chunk = max(1, min(rows, (1 << 20) // (2 * shape[1])))
        dataset = group.create_dataset(
            staging, shape=shape, dtype=np.float16, chunks=(chunk, shape[1]) if rows else None
        )
        block = max(1, _BLOCK_BYTES // (4 * shape[1]))
        for start in range(0, rows, block):
            with np.errstate(over="ignore"):
                part = np.asarray(values[start : start + block], dtype=np.float32).astype(np.float16)
            if not np.all(np.isfinite(part)):
                raise ValueError(f"{kind} descriptors are NaN, infinite or beyond float16 near row {start}")
            dataset[start : start + len(part)] = part
        dataset.attrs["kind"] = kind
        dataset.attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for key, value in (attrs or {}).items():
            dataset.attrs[str(key)] = value
        if kind in group:
            del group[kind]
        group.move(staging, kind)
        file.commit()
        keep = True
    finally:
        file.close(keep=keep)
