"""Structural checks of a face store: every invariant the writer guarantees, checked from the file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

from fercl_cli.store.files import no_record_message, open_for_reading
from fercl_cli.store.journal import read_record
from fercl_cli.store.schema import FRAME_COLUMNS, NO_LANDMARKS
from fercl_cli.store.structure import structure_problems

_BLOCK = 65536


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _lengths(h5: h5py.File, rows: int, clips: int, failures: int, encoding: str) -> list[str]:
    expected = {f"frames/{name}": rows for name in FRAME_COLUMNS}
    if encoding == "raw":
        expected["frames/image"] = rows
    else:
        expected.update({"frames/jpeg_start": rows, "frames/jpeg_size": rows})
    expected.update({f"clips/{name}": clips for name in ("identity", "video", "name", "start", "stop")})
    expected.update({f"failures/{name}": failures for name in ("clip", "source", "stage", "reason")})
    problems = []
    for name, count in expected.items():
        if name not in h5:
            problems.append(f"{name} is missing")
        elif h5[name].shape[0] != count:
            problems.append(f"{name} has {h5[name].shape[0]} rows, the committed counter says {count}")
    return problems


def _clip_problems(h5: h5py.File, rows: int, clips: int) -> list[str]:
    """Row-level clip invariants (the row ranges themselves are :mod:`~fercl_cli.store.structure`'s)."""
    if clips == 0:
        return []
    start, stop = h5["clips/start"][:clips], h5["clips/stop"][:clips]
    problems = []
    clip_of_row = h5["frames/clip"][:rows]
    wrong = clip_of_row != np.repeat(np.arange(clips, dtype=np.int64), stop - start)
    if np.any(wrong):
        problems.append(f"frames/clip of row {_first(wrong)} does not match the clip ranges")
    t = h5["frames/t"][:rows]
    same_clip = clip_of_row[1:] == clip_of_row[:-1]
    unsorted = same_clip & ~(t[1:] > t[:-1])
    if np.any(unsorted):
        problems.append(f"times are not strictly increasing within a clip at row {_first(unsorted) + 1}")
    return problems


def _name_problems(h5: h5py.File, clips: int) -> list[str]:
    problems = []
    tables = {}
    for table, column in (("identities", "identity"), ("videos", "video")):
        names = list(h5[f"{table}/name"].asstr()[:])
        tables[table] = names
        if len(set(names)) != len(names):
            problems.append(f"{table}/name has duplicate names")
        index = h5[f"clips/{column}"][:clips]
        if clips and (index.min() < 0 or index.max() >= len(names)):
            problems.append(f"clips/{column} points outside {table}/name")
    if not problems:
        identity, video = h5["clips/identity"][:clips], h5["clips/video"][:clips]
        keys = {
            (tables["identities"][i], tables["videos"][v], n)
            for i, v, n in zip(identity, video, h5["clips/name"].asstr()[:clips], strict=True)
        }
        if len(keys) != clips:
            problems.append("two clips share the same (identity, video, name) key")
    return problems


def _frame_problems(h5: h5py.File, rows: int, size: int, tolerance: float) -> list[str]:
    problems: list[str] = []
    frames = h5["frames"]
    labels = json.loads(frames["detector"].attrs["labels"])
    low, high = -tolerance * size, (1 + tolerance) * size
    for start in range(0, rows, _BLOCK):
        stop = min(rows, start + _BLOCK)
        detector = frames["detector"][start:stop]
        if np.any(detector >= len(labels)):
            problems.append(
                f"frames/detector has an unknown code at row {start + _first(detector >= len(labels))}"
            )
        crop, source = frames["landmarks"][start:stop], frames["source_landmarks"][start:stop]
        matrix = frames["matrix"][start:stop]
        for name, values in (("landmarks", crop), ("source_landmarks", source), ("matrix", matrix)):
            bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
            if np.any(bad):
                problems.append(f"frames/{name} is not finite at row {start + _first(bad)}")
        present = detector != NO_LANDMARKS
        empty = ~present & (np.abs(crop).reshape(len(crop), -1).max(axis=1, initial=0) > 0)
        if np.any(empty):
            problems.append(
                f"row {start + _first(empty)} has no landmarks (detector 'none') but non-zero values"
            )
        outside = present & ((crop < low) | (crop > high)).reshape(len(crop), -1).any(axis=1)
        if np.any(outside):
            problems.append(
                f"{int(outside.sum())} frames have crop landmarks more than {tolerance:.0%} of the crop outside "
                f"it (first: row {start + _first(outside)})"
            )
        mapped = np.einsum("nij,nkj->nki", matrix[..., :2], source) + matrix[:, None, :, 2]
        off = present & (np.abs(mapped - crop).reshape(len(crop), -1).max(axis=1, initial=0) > 0.05 * size)
        if np.any(off):
            problems.append(
                f"{int(off.sum())} frames have crop landmarks that are not matrix x source_landmarks "
                f"(first: row {start + _first(off)})"
            )
    return problems


def _jpeg_problems(h5: h5py.File, rows: int) -> list[str]:
    start, length = h5["frames/jpeg_start"][:rows], h5["frames/jpeg_size"][:rows].astype(np.int64)
    if rows == 0:
        return []
    problems = []
    if start[0] != 0 or np.any(start[1:] != start[:-1] + length[:-1]):
        problems.append("frames/jpeg_start does not follow the frame sizes contiguously")
    if np.any(length <= 0):
        problems.append(f"frame {_first(length <= 0)} has an empty JPEG")
    if start[-1] + length[-1] > h5["frames/jpeg"].shape[0]:
        problems.append("frames/jpeg is shorter than the frames' offsets need")
    return problems


def _descriptor_problems(h5: h5py.File, rows: int) -> list[str]:
    problems = []
    for kind, dataset in h5["descriptors"].items():
        if dataset.ndim != 2 or dataset.dtype != np.float16:
            problems.append(f"descriptors/{kind} is not float16 [N, D]")
            continue
        if dataset.shape[0] != rows:
            problems.append(f"descriptors/{kind} covers {dataset.shape[0]} of {rows} frames; describe again")
            continue
        for start in range(0, rows, _BLOCK):
            if not np.all(np.isfinite(dataset[start : start + _BLOCK])):
                problems.append(f"descriptors/{kind} has non-finite values in rows {start}..")
                break
    return problems


def validate(path: str | Path, tolerance: float = 0.25) -> list[str]:
    """Problems found in the store at ``path`` (empty when sound): counters vs dataset lengths, clip row
    ranges contiguous and covering, clip keys unique, times strictly increasing within clips, landmarks
    finite, inside the crop within ``tolerance`` × S and equal to ``matrix`` applied to
    ``source_landmarks`` (within 5 % of S), JPEG offsets, failure and descriptor tables.

    Raises :class:`FerclError` when the file cannot be opened as a face store at all."""
    path = Path(path)
    h5 = open_for_reading(path, require_record=False)
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            record = read_record(fd)
        finally:
            os.close(fd)
        problems = [] if record is not None else [no_record_message(path).split(": ", 1)[1]]
        problems += structure_problems(h5)
        if problems:
            return problems
        attrs = h5.attrs
        rows, clips = int(attrs["committed_rows"]), int(attrs["committed_clips"])
        failures = int(attrs["committed_failures"])
        problems = _lengths(h5, rows, clips, failures, str(attrs["encoding"]))
        if problems:
            return problems
        problems += _clip_problems(h5, rows, clips)
        problems += _name_problems(h5, clips)
        problems += _frame_problems(h5, rows, int(attrs["crop_size"]), tolerance)
        if attrs["encoding"] == "jpeg":
            problems += _jpeg_problems(h5, rows)
        failure_clip = h5["failures/clip"][:failures]
        if failures and (failure_clip.min() < 0 or failure_clip.max() >= clips):
            problems.append("failures/clip points outside the clips")
        problems += _descriptor_problems(h5, rows)
        return problems
    finally:
        h5.close()
