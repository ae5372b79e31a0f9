"""The append-only, crash-safe, resumable face-store writer.

Clips are the unit of work: :meth:`FaceStoreWriter.add_clip` stages a whole clip (its frames and
failure records) in memory, :meth:`FaceStoreWriter.commit` writes every staged clip and makes it
durable atomically (see :mod:`fercl_cli.store.journal`). A process killed at any moment leaves the
store exactly as of its last commit; opening it again resumes, and
:attr:`FaceStoreWriter.committed_keys` tells the caller which clips to skip.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from fercl_cli import __version__
from fercl_cli.errors import FerclError
from fercl_cli.store.codec import encode_jpeg
from fercl_cli.store.files import Writable, open_for_writing
from fercl_cli.store.schema import (
    DETECTOR_LABELS,
    ENCODINGS,
    FRAME_COLUMNS,
    NO_LANDMARKS,
    SCHEMA_VERSION,
    STORE_KIND,
    ClipFrames,
    Failure,
    chunk_rows,
)
from fercl_cli.store.writer_base import JournaledWriter

ClipKey = tuple[str, str, str]
_STR = h5py.string_dtype()
_JPEG_CHUNK = 32768
_MAX_PENDING_BYTES = 256 << 20
_DESCRIPTIONS = {
    "frames/image": "uint8 RGB aligned crop [N,S,S,3]",
    "frames/jpeg": "uint8 stream of concatenated JPEG files (RGB crops)",
    "frames/jpeg_start": "int64 byte offset of each frame's JPEG in frames/jpeg",
    "frames/jpeg_size": "int32 byte length of each frame's JPEG",
    "frames/landmarks": "float32 68 points (x, y), crop pixels",
    "frames/source_landmarks": "float32 68 points (x, y), source pixels",
    "frames/bbox": "float32 face box (x0, y0, x1, y1), source pixels",
    "frames/matrix": "float32 2x3 similarity, source pixels -> crop pixels",
    "frames/score": "float32 detector confidence",
    "frames/clip": "int32 index into clips/",
    "frames/t": "float32 seconds from the start of the video",
    "frames/frame_number": "int32 frame index in the decoded video",
    "frames/detector": "uint8 code into the attribute labels (JSON)",
    "clips/identity": "int32 index into identities/",
    "clips/video": "int32 index into videos/",
    "clips/name": "utf-8 clip name",
    "clips/start": "int64 first row of the clip",
    "clips/stop": "int64 one past the clip's last row",
    "identities/name": "utf-8 identity name",
    "videos/name": "utf-8 video name",
    "failures/clip": "int32 clip the record was committed with",
    "failures/source": "utf-8 file (and frame) at fault",
    "failures/stage": "utf-8 pipeline stage",
    "failures/reason": "utf-8 explanation",
}


def _json_roundtrip(config: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return json.loads(json.dumps(dict(config or {}), sort_keys=True))
    except TypeError as exc:
        raise ValueError(f"config must be JSON-serialisable: {exc}") from None


def _create_extendible(
    group: h5py.Group, name: str, dtype: Any, row_shape: tuple[int, ...], chunk: int
) -> None:
    group.create_dataset(
        name, shape=(0, *row_shape), maxshape=(None, *row_shape), chunks=(chunk, *row_shape), dtype=dtype
    )


def _append(dataset: h5py.Dataset, start: int, values: np.ndarray | list) -> None:
    """Write ``values`` at rows ``start:`` of ``dataset``, growing it to exactly the new length."""
    stop = start + len(values)
    dataset.resize(stop, axis=0)
    if stop > start:
        dataset[start:stop] = values


def create_schema(h5: h5py.File, crop_size: int, encoding: str) -> None:
    """Create the empty groups and datasets of a store (see ``docs/store.md``)."""
    frames = h5.create_group("frames")
    size = crop_size
    if encoding == "raw":
        _create_extendible(frames, "image", np.uint8, (size, size, 3), 1)
    else:
        _create_extendible(frames, "jpeg", np.uint8, (), _JPEG_CHUNK)
        _create_extendible(frames, "jpeg_start", np.int64, (), chunk_rows((), 8))
        _create_extendible(frames, "jpeg_size", np.int32, (), chunk_rows((), 4))
    for name, (dtype, shape) in FRAME_COLUMNS.items():
        _create_extendible(frames, name, dtype, shape, chunk_rows(shape, np.dtype(dtype).itemsize))
    frames["detector"].attrs["labels"] = json.dumps(DETECTOR_LABELS)
    clips = h5.create_group("clips")
    for name, dtype in (("identity", np.int32), ("video", np.int32), ("start", np.int64), ("stop", np.int64)):
        _create_extendible(clips, name, dtype, (), chunk_rows((), np.dtype(dtype).itemsize))
    _create_extendible(clips, "name", _STR, (), 1024)
    for table in ("identities", "videos"):
        _create_extendible(h5.create_group(table), "name", _STR, (), 1024)
    failures = h5.create_group("failures")
    _create_extendible(failures, "clip", np.int32, (), chunk_rows((), 4))
    for name in ("source", "stage", "reason"):
        _create_extendible(failures, name, _STR, (), 1024)
    h5.create_group("descriptors")
    for name, text in _DESCRIPTIONS.items():
        if name in h5:
            h5[name].attrs["description"] = text


class FaceStoreWriter(JournaledWriter):
    """Append clips to the face store at ``path``, creating it or resuming it.

    Args:
        path: the ``.h5`` store. If it exists it is resumed: it must have been created with the same
            settings, else :class:`FerclError` names the differing ones.
        crop_size: S, the side of the square aligned crops in pixels.
        fps: frame rate the frames were sampled at (25/6 for VoxCeleb1); 0 for still images.
        detector: face backend, e.g. ``"dlib"``.
        template: the alignment template's description (``Template.describe()``).
        encoding: ``"raw"`` (uint8 pixels, one frame per chunk) or ``"jpeg"`` (4-8x smaller).
        jpeg_quality: JPEG quality 1-100 (``encoding="jpeg"`` only).
        config: the settings that determine the store's content (JSON-serialisable; not paths, worker
            counts or shard numbers); compared on resume and on merge.
        shard: ``"I/N"`` when this store holds shard I of N, else ``""``.

    Example::

        with FaceStoreWriter("faces.h5", crop_size=128, fps=25 / 6, detector="dlib", template=t) as w:
            for key, frames, failures in clips:
                if key not in w.committed_keys:
                    w.add_clip(*key, frames, failures)
                    w.commit()
    """

    def __init__(
        self,
        path: str | Path,
        *,
        crop_size: int,
        fps: float,
        detector: str,
        template: str,
        encoding: str = "raw",
        jpeg_quality: int = 90,
        config: Mapping[str, Any] | None = None,
        shard: str = "",
    ) -> None:
        if int(crop_size) != crop_size or crop_size < 8:
            raise ValueError(f"crop_size must be an integer of at least 8 px, got {crop_size}")
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
        if not 1 <= int(jpeg_quality) <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {jpeg_quality}")
        if not math.isfinite(fps) or fps < 0:
            raise ValueError(f"fps must be a finite number >= 0, got {fps}")
        self.path = Path(path)
        self.crop_size = int(crop_size)
        self.encoding = encoding
        self._format: dict[str, Any] = {
            "crop_size": self.crop_size,
            "encoding": encoding,
            "jpeg_quality": int(jpeg_quality),
            "fps": float(fps),
            "detector": str(detector),
            "template": str(template),
            "shard": str(shard),
        }
        self._config = _json_roundtrip(config)
        self._pending: list[tuple[ClipKey, dict[str, Any], list[Failure]]] = []
        self._pending_bytes = 0
        self._broken = False
        if self.path.exists():
            self._file = open_for_writing(self.path)
            try:
                self._check_settings()
                self._load_index()
            except BaseException:
                self._file.close(keep=False)
                raise
        else:
            self._file = self._create()
            self._load_index()

    # -- public ---------------------------------------------------------------------------------
    @property
    def committed_keys(self) -> frozenset[ClipKey]:
        """``(identity, video, clip name)`` of every committed clip."""
        return frozenset(self._keys[: self._clips])

    @property
    def n_frames(self) -> int:
        """Committed frames (rows)."""
        return self._rows

    @property
    def n_clips(self) -> int:
        """Committed clips."""
        return self._clips

    def has_clip(self, identity: str, video: str, name: str) -> bool:
        """True when the clip is committed or staged."""
        return (identity, video, name) in self._key_set

    def add_clip(
        self,
        identity: str,
        video: str,
        name: str,
        frames: ClipFrames | Any | None = None,
        failures: Sequence[Failure | tuple[str, str, str]] = (),
    ) -> None:
        """Stage one clip: ``frames`` (a :class:`ClipFrames` or any object with its attributes; ``None``
        for a clip that produced no frame) and its ``failures``. Nothing is durable before :meth:`commit`;
        staged clips are committed automatically once they hold more than 256 MiB."""
        self._check_usable()
        key = (str(identity), str(video), str(name))
        if key in self._key_set:
            raise ValueError(f"clip {key} is already in {self.path}; skip keys in committed_keys")
        records = [Failure(*(str(part) for part in failure)) for failure in failures]
        columns = self._columns(frames, key)
        self._pending.append((key, columns, records))
        self._keys.append(key)
        self._key_set.add(key)
        self._pending_bytes += sum(
            value.nbytes for value in columns.values() if isinstance(value, np.ndarray)
        )
        self._pending_bytes += sum(len(blob) for blob in columns.get("encoded", ()))
        if self._pending_bytes > _MAX_PENDING_BYTES:
            self.commit()

    def commit(self) -> int:
        """Write every staged clip and make it durable atomically; returns the committed frame count."""
        super().commit()
        return self._rows

    def _write_staged(self) -> bool:
        if not self._pending:
            return False
        self._write_pending()
        return True

    def _committed(self) -> None:
        self._rows += sum(len(columns["t"]) for _, columns, _ in self._pending)
        self._clips += len(self._pending)
        self._failures += sum(len(records) for _, _, records in self._pending)
        self._identities_committed = len(self._identities)
        self._videos_committed = len(self._videos)
        self._pending.clear()
        self._pending_bytes = 0

    # -- opening ------------------------------------------------------------------------------
    def _create(self) -> Writable:
        def fill(h5: h5py.File) -> None:
            create_schema(h5, self.crop_size, self.encoding)
            h5.attrs["fercl_schema"] = SCHEMA_VERSION
            h5.attrs["kind"] = STORE_KIND
            h5.attrs["fercl_version"] = __version__
            h5.attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for key, value in self._format.items():
                h5.attrs[key] = value
            h5.attrs["config"] = json.dumps(self._config, sort_keys=True)
            for counter in ("committed_rows", "committed_clips", "committed_failures"):
                h5.attrs[counter] = 0

        return self._create_published(fill)

    def _check_settings(self) -> None:
        attrs = self._file.h5.attrs
        differences = []
        for key, wanted in self._format.items():
            if key == "jpeg_quality" and self.encoding == "raw":
                continue
            stored = attrs.get(key)
            stored = stored.item() if isinstance(stored, np.generic) else stored
            same = math.isclose(stored, wanted) if key == "fps" and stored is not None else stored == wanted
            if not same:
                differences.append(f"{key} (store {stored!r}, now {wanted!r})")
        stored_config = json.loads(attrs.get("config", "{}"))
        for key in sorted(set(stored_config) | set(self._config)):
            if stored_config.get(key) != self._config.get(key):
                differences.append(
                    f"config.{key} (store {stored_config.get(key)!r}, now {self._config.get(key)!r})"
                )
        if differences:
            raise FerclError(
                f"{self.path}: created with different settings: {'; '.join(differences)}; "
                f"use a new --out or delete {self.path} to start over"
            )

    def _load_index(self) -> None:
        h5 = self._file.h5
        self._rows = int(h5.attrs["committed_rows"])
        self._clips = int(h5.attrs["committed_clips"])
        self._failures = int(h5.attrs["committed_failures"])
        self._jpeg_bytes = 0
        if self.encoding == "jpeg" and self._rows:
            last = self._rows - 1
            self._jpeg_bytes = int(h5["frames/jpeg_start"][last]) + int(h5["frames/jpeg_size"][last])
        self._identities = {name: i for i, name in enumerate(h5["identities/name"].asstr()[:])}
        self._videos = {name: i for i, name in enumerate(h5["videos/name"].asstr()[:])}
        self._identities_committed = len(self._identities)
        self._videos_committed = len(self._videos)
        identity_names, video_names = list(self._identities), list(self._videos)
        clip_identity = h5["clips/identity"][: self._clips]
        clip_video = h5["clips/video"][: self._clips]
        clip_names = h5["clips/name"].asstr()[: self._clips]
        self._keys: list[ClipKey] = [
            (identity_names[i], video_names[v], str(n))
            for i, v, n in zip(clip_identity, clip_video, clip_names, strict=True)
        ]
        self._key_set = set(self._keys)

    # -- staging ------------------------------------------------------------------------------
    def _columns(self, frames: ClipFrames | Any | None, key: ClipKey) -> dict[str, Any]:
        """Checked, converted per-frame arrays of one clip (``encoded`` JPEGs or ``image`` pixels)."""
        size = self.crop_size
        if frames is None:
            columns = {name: np.zeros((0, *shape), dtype) for name, (dtype, shape) in FRAME_COLUMNS.items()}
            columns["image" if self.encoding == "raw" else "encoded"] = (
                np.zeros((0, size, size, 3), np.uint8) if self.encoding == "raw" else []
            )
            return columns
        n = len(frames.t)
        columns: dict[str, Any] = {}
        for name, (dtype, shape) in FRAME_COLUMNS.items():
            if name in ("clip", "detector"):
                continue
            value = np.asarray(getattr(frames, name))
            if value.shape != (n, *shape):
                raise ValueError(f"clip {key}: {name} must have shape {(n, *shape)}, got {value.shape}")
            if not np.all(np.isfinite(value)) and name not in ("landmarks", "source_landmarks"):
                raise ValueError(f"clip {key}: {name} has NaN or infinite values")
            columns[name] = value.astype(dtype)
        columns["detector"] = self._detector_codes(frames.detector, n, key)
        missing = columns["detector"] == NO_LANDMARKS
        for name in ("landmarks", "source_landmarks"):
            columns[name][missing] = 0.0
            if not np.all(np.isfinite(columns[name])):
                raise ValueError(
                    f"clip {key}: {name} has NaN or infinite values where detector is not 'none'"
                )
        if n > 1 and not np.all(np.diff(columns["t"]) > 0):
            raise ValueError(f"clip {key}: t must be strictly increasing (frames in time order)")
        encoded = getattr(frames, "encoded", None)
        if encoded is not None:
            if self.encoding != "jpeg":
                raise ValueError(f"clip {key}: encoded JPEG frames need a store created with encoding='jpeg'")
            if len(encoded) != n or not all(isinstance(blob, bytes) and blob for blob in encoded):
                raise ValueError(f"clip {key}: encoded must hold {n} non-empty byte strings")
            columns["encoded"] = list(encoded)
            return columns
        image = frames.image
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.shape != (n, size, size, 3):
            shape = getattr(image, "shape", None)
            raise ValueError(f"clip {key}: image must be uint8 {(n, size, size, 3)} RGB, got {shape}")
        if self.encoding == "jpeg":
            columns["encoded"] = encode_jpeg(image, self._format["jpeg_quality"])
        else:
            columns["image"] = image
        return columns

    @staticmethod
    def _detector_codes(detector: Sequence[str] | np.ndarray, n: int, key: ClipKey) -> np.ndarray:
        values = np.asarray(detector)
        if values.shape != (n,):
            raise ValueError(f"clip {key}: detector must have {n} entries, got shape {values.shape}")
        if values.dtype.kind in "iu":
            if n and (values.min() < 0 or values.max() >= len(DETECTOR_LABELS)):
                raise ValueError(f"clip {key}: detector codes must be in 0..{len(DETECTOR_LABELS) - 1}")
            return values.astype(np.uint8)
        lookup = {label: code for code, label in enumerate(DETECTOR_LABELS)}
        unknown = sorted({str(v) for v in values} - set(lookup))
        if unknown:
            raise ValueError(
                f"clip {key}: unknown detector labels {unknown}; use {', '.join(DETECTOR_LABELS)}"
            )
        return np.array([lookup[str(v)] for v in values], np.uint8)

    # -- committing -----------------------------------------------------------------------------
    def _write_pending(self) -> None:
        h5 = self._file.h5
        rows, clips, failures = self._rows, self._clips, self._failures
        starts, stops, identity, video, names = [], [], [], [], []
        failure_rows: list[tuple[int, Failure]] = []
        frame_columns: dict[str, list[np.ndarray]] = {name: [] for name in FRAME_COLUMNS}
        pixels: list[np.ndarray] = []
        blobs: list[bytes] = []
        at = rows
        for offset, (key, columns, records) in enumerate(self._pending):
            n = len(columns["t"])
            starts.append(at)
            stops.append(at + n)
            at += n
            identity.append(self._identities.setdefault(key[0], len(self._identities)))
            video.append(self._videos.setdefault(key[1], len(self._videos)))
            names.append(key[2])
            columns["clip"] = np.full(n, clips + offset, np.int32)
            for name in FRAME_COLUMNS:
                frame_columns[name].append(columns[name])
            if "image" in columns:
                pixels.append(columns["image"])
            blobs.extend(columns.get("encoded", ()))
            failure_rows.extend((clips + offset, record) for record in records)
        frames = h5["frames"]
        for name, parts in frame_columns.items():
            _append(frames[name], rows, np.concatenate(parts))
        if self.encoding == "raw":
            _append(frames["image"], rows, np.concatenate(pixels))
        else:
            sizes = np.array([len(blob) for blob in blobs], np.int64)
            _append(frames["jpeg_start"], rows, self._jpeg_bytes + np.cumsum(sizes) - sizes)
            _append(frames["jpeg_size"], rows, sizes.astype(np.int32))
            _append(frames["jpeg"], self._jpeg_bytes, np.frombuffer(b"".join(blobs), np.uint8))
            self._jpeg_bytes += int(sizes.sum())
        _append(h5["clips/start"], clips, np.array(starts, np.int64))
        _append(h5["clips/stop"], clips, np.array(stops, np.int64))
        _append(h5["clips/identity"], clips, np.array(identity, np.int32))
        _append(h5["clips/video"], clips, np.array(video, np.int32))
        _append(h5["clips/name"], clips, np.array(names, dtype=object))
        _append(
            h5["identities/name"],
            self._identities_committed,
            list(self._identities)[self._identities_committed :],
        )
        _append(h5["videos/name"], self._videos_committed, list(self._videos)[self._videos_committed :])
        _append(h5["failures/clip"], failures, np.array([clip for clip, _ in failure_rows], np.int32))
        for field in ("source", "stage", "reason"):
            _append(
                h5[f"failures/{field}"],
                failures,
                np.array([getattr(r, field) for _, r in failure_rows], object),
            )
        h5.attrs["committed_rows"] = at
        h5.attrs["committed_clips"] = clips + len(self._pending)
        h5.attrs["committed_failures"] = failures + len(failure_rows)
