"""The cheap structural check every stage runs when it opens a face store (``store validate`` runs it
first, then the full invariants of :mod:`fercl_cli.store.validate`).

Checked: the counters (``committed_rows``/``_clips``/``_failures``) are whole numbers within the data;
every dataset of the schema is present with its dtype and row shape and at least the committed rows;
committed clips cover rows ``0..committed_rows`` contiguously in order; committed crop landmarks are
finite. Cost: the clip index plus one pass over the landmarks (544 bytes a frame).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.store.schema import ENCODINGS, FRAME_COLUMNS

_STRING = "string"
_BLOCK = 65536
_COUNTERS = ("committed_rows", "committed_clips", "committed_failures")


def _expected(encoding: str, crop_size: int) -> dict[str, tuple[str, tuple[int, ...], str]]:
    """Dataset path → (dtype, row shape, counter whose value is its minimum length)."""
    out = {
        f"frames/{name}": (dtype, shape, "committed_rows") for name, (dtype, shape) in FRAME_COLUMNS.items()
    }
    if encoding == "raw":
        out["frames/image"] = ("uint8", (crop_size, crop_size, 3), "committed_rows")
    else:
        out["frames/jpeg"] = ("uint8", (), "")
        out["frames/jpeg_start"] = ("int64", (), "committed_rows")
        out["frames/jpeg_size"] = ("int32", (), "committed_rows")
    for name, dtype in (("identity", "int32"), ("video", "int32"), ("start", "int64"), ("stop", "int64")):
        out[f"clips/{name}"] = (dtype, (), "committed_clips")
    out["clips/name"] = (_STRING, (), "committed_clips")
    out["identities/name"] = (_STRING, (), "")
    out["videos/name"] = (_STRING, (), "")
    out["failures/clip"] = ("int32", (), "committed_failures")
    for name in ("source", "stage", "reason"):
        out[f"failures/{name}"] = (_STRING, (), "committed_failures")
    return out


def _counters(h5: h5py.File) -> tuple[dict[str, int], list[str]]:
    counts, problems = {}, []
    for name in _COUNTERS:
        value = h5.attrs.get(name)
        if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value < 0:
            problems.append(f"the attribute {name} is {value!r}, not a count")
        else:
            counts[name] = int(value)
    return counts, problems


def _dataset_problems(h5: h5py.File, counts: dict[str, int]) -> list[str]:
    encoding = h5.attrs.get("encoding")
    if encoding not in ENCODINGS:
        return [f"the attribute encoding is {encoding!r}, not one of {', '.join(ENCODINGS)}"]
    size = h5.attrs.get("crop_size")
    if not isinstance(size, (int, np.integer)) or size < 1:
        return [f"the attribute crop_size is {size!r}, not a size in pixels"]
    problems = []
    for path, (dtype, shape, counter) in _expected(str(encoding), int(size)).items():
        dataset = h5.get(path)
        if not isinstance(dataset, h5py.Dataset):
            problems.append(f"{path} is missing")
            continue
        is_string = h5py.check_string_dtype(dataset.dtype) is not None
        if (dtype == _STRING) != is_string or (dtype != _STRING and dataset.dtype != np.dtype(dtype)):
            problems.append(f"{path} is {dataset.dtype}, not {dtype}")
        elif dataset.shape[1:] != shape:
            problems.append(f"{path} rows are {dataset.shape[1:]}, not {shape}")
        elif counter and dataset.shape[0] < counts[counter]:
            problems.append(
                f"{path} has {dataset.shape[0]} rows, fewer than the committed counter {counter} = {counts[counter]}"
            )
    return problems


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _clip_range_problems(h5: h5py.File, rows: int, clips: int) -> list[str]:
    if clips == 0:
        return [] if rows == 0 else [f"{rows} frames but no clip"]
    start, stop = h5["clips/start"][:clips], h5["clips/stop"][:clips]
    problems = []
    if start[0] != 0:
        problems.append(f"clip 0 starts at row {start[0]}, not 0")
    if np.any(stop < start):
        problems.append(f"clip {_first(stop < start)} ends before it starts")
    gaps = start[1:] != stop[:-1]
    if np.any(gaps):
        problems.append(f"clip {_first(gaps) + 1} does not start where clip {_first(gaps)} stops")
    if stop[-1] != rows:
        problems.append(f"the last clip stops at row {stop[-1]}, not at the committed {rows} frames")
    return problems


def _landmark_problems(h5: h5py.File, rows: int) -> list[str]:
    landmarks = h5["frames/landmarks"]
    for begin in range(0, rows, _BLOCK):
        block = landmarks[begin : min(rows, begin + _BLOCK)]
        bad = ~np.isfinite(block.reshape(len(block), -1)).all(axis=1)
        if bad.any():
            return [f"frames/landmarks is not finite at row {begin + _first(bad)}"]
    return []


def structure_problems(h5: h5py.File, landmarks: bool = True) -> list[str]:
    """What is structurally wrong with the face store ``h5`` (empty when nothing); see the module doc.
    ``landmarks=False`` skips the pass over the landmarks."""
    counts, problems = _counters(h5)
    if problems:
        return problems
    problems = _dataset_problems(h5, counts)
    if problems:
        return problems
    rows = counts["committed_rows"]
    problems = _clip_range_problems(h5, rows, counts["committed_clips"])
    if problems or not landmarks:
        return problems
    return _landmark_problems(h5, rows)


def check_structure(h5: h5py.File, path: Path, landmarks: bool = True) -> None:
    """Raise one :class:`FerclError` line for the first structural problem of the store at ``path``."""
    problems = structure_problems(h5, landmarks)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise FerclError(
            f"{path}: damaged face store: {problems[0]}{more}; nothing was written to it. Run "
            f"'fercl store validate {path}' for the detail, and preprocess again into a new file"
        )
