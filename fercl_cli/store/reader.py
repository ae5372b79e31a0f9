"""Random access to a face store, safe in ``torch.utils.data.DataLoader`` workers.

The HDF5 file is opened lazily in each process (and reopened after a fork); a pickled
:class:`FaceStore` carries only its path and small cached arrays. Only committed rows are visible.
Images are read frame by frame, never the whole dataset.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.store.codec import decode_jpeg
from fercl_cli.store.files import open_for_reading, track_reader
from fercl_cli.store.schema import FRAME_COLUMNS, NO_LANDMARKS, Failure
from fercl_cli.store.structure import check_structure

Rows = int | slice | np.ndarray | list[int] | None


class FaceStore:
    """A read-only face store. Opening checks the file: :class:`FerclError` for missing, non-HDF5,
    foreign, truncated or newer-schema files.

    Attributes:
        path: the store file.
        n_frames / ``len(store)``: committed frames (rows); n_clips: committed clips.
        crop_size: S; encoding: ``"raw"`` or ``"jpeg"``; fps; detector; template; schema_version.
        config: the producing command's settings (dict); attrs: every file attribute (dict).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._h5: h5py.File | None = None
        self._pid = -1
        self._cache: dict[str, Any] = {}
        track_reader(self)
        h5 = self._file()
        check_structure(h5, self.path)  # once, here; worker processes reopen with the header check only
        self.attrs: dict[str, Any] = {
            key: value.item() if isinstance(value, np.generic) else value for key, value in h5.attrs.items()
        }
        self.n_frames = int(self.attrs["committed_rows"])
        self.n_clips = int(self.attrs["committed_clips"])
        self.n_failures = int(self.attrs["committed_failures"])
        self.crop_size = int(self.attrs["crop_size"])
        self.encoding = str(self.attrs["encoding"])
        self.fps = float(self.attrs["fps"])
        self.detector = str(self.attrs["detector"])
        self.template = str(self.attrs["template"])
        self.schema_version = int(self.attrs["fercl_schema"])
        self.config: dict[str, Any] = json.loads(self.attrs.get("config", "{}"))
        self.detector_labels: list[str] = json.loads(h5["frames/detector"].attrs["labels"])
        for group, name, count in (("frames", "t", self.n_frames), ("clips", "start", self.n_clips)):
            if h5[group][name].shape[0] < count:
                raise FerclError(
                    f"{self.path}: {group}/{name} is shorter than the committed count; damaged file"
                )

    def limit_to(self, clips: int, frames: int) -> None:
        """Read the store as it was when it held ``clips`` clips and ``frames`` rows (a store only grows,
        so an earlier commit is a prefix of it); used to resume a run on the rows it started with."""
        if not (0 < clips <= self.n_clips and 0 < frames <= self.n_frames):
            raise FerclError(
                f"{self.path}: holds {self.n_clips} clips / {self.n_frames} frames, fewer than the "
                f"{clips} / {frames} the run started with; resume on the store it was trained on"
            )
        self.n_clips, self.n_frames = clips, frames
        self._cache.clear()

    # -- process-local file handle ----------------------------------------------------------------
    def _file(self) -> h5py.File:
        if self._h5 is None or self._pid != os.getpid():
            self._h5 = open_for_reading(self.path)
            self._pid = os.getpid()
        return self._h5

    def close(self) -> None:
        """Close this process's file handle (reopened on next access)."""
        if self._h5 is not None and self._pid == os.getpid():
            self._h5.close()
        self._h5 = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_h5"], state["_pid"] = None, -1
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        track_reader(self)

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        return f"FaceStore({str(self.path)!r}, frames={self.n_frames}, clips={self.n_clips})"

    # -- frames -----------------------------------------------------------------------------
    def _rows(self, rows: Rows) -> np.ndarray | slice:
        """``rows`` as a slice within the committed rows or an int64 index array; IndexError if out of range."""
        if rows is None:
            return slice(0, self.n_frames)
        if isinstance(rows, slice):
            start, stop, step = rows.indices(self.n_frames)
            return slice(start, stop) if step == 1 else np.arange(start, stop, step)
        index = np.asarray(rows)
        if index.size == 0:
            return np.zeros(0, np.int64)
        if index.dtype.kind not in "iu":
            raise IndexError(f"rows must be integers, got {index.dtype}")
        index = index.astype(np.int64).reshape(-1)
        if index.size and (index.min() < 0 or index.max() >= self.n_frames):
            raise IndexError(f"rows must be in 0..{self.n_frames - 1} (committed frames of {self.path})")
        return index

    @staticmethod
    def _gather(dataset: h5py.Dataset, index: np.ndarray | slice) -> np.ndarray:
        if isinstance(index, slice):
            return dataset[index]
        if index.size == 0:
            return np.zeros((0, *dataset.shape[1:]), dataset.dtype)
        low, high = int(index.min()), int(index.max()) + 1
        if high - low <= max(4 * index.size, 4096):
            return dataset[low:high][index - low]
        unique, inverse = np.unique(index, return_inverse=True)
        return dataset[unique][inverse]

    def column(self, name: str, rows: Rows = None) -> np.ndarray:
        """A per-frame column (``landmarks``, ``source_landmarks``, ``bbox``, ``matrix``, ``score``,
        ``clip``, ``t``, ``frame_number``, ``detector``; dtypes and units in ``docs/store.md``) at ``rows``
        (int → one row, slice/array → [n, ...], None → all committed rows)."""
        if name not in FRAME_COLUMNS:
            raise KeyError(f"unknown frame column {name!r}; choose one of {', '.join(FRAME_COLUMNS)}")
        single = isinstance(rows, (int, np.integer))
        values = self._gather(self._file()["frames"][name], self._rows([rows] if single else rows))
        return values[0] if single else values

    def landmarks(self, rows: Rows = None) -> np.ndarray:
        """float32 [n, 68, 2] landmarks in crop pixels (zeros where :meth:`has_landmarks` is False)."""
        return self.column("landmarks", rows)

    def has_landmarks(self, rows: Rows = None) -> np.ndarray:
        """bool [n]: the frame has usable landmarks (its detector code is not ``"none"``)."""
        return self.column("detector", rows) != NO_LANDMARKS

    def image(self, row: int) -> np.ndarray:
        """uint8 [S, S, 3] RGB aligned crop of frame ``row``."""
        return self.images([row])[0]

    def images(self, rows: Rows) -> np.ndarray:
        """uint8 [n, S, S, 3] RGB aligned crops, read frame by frame (or as one slice when contiguous)."""
        if rows is None:
            raise ValueError("images() needs the rows to read; the image dataset is never read whole")
        index = self._rows(rows)
        frames = self._file()["frames"]
        size = self.crop_size
        if isinstance(index, slice):
            index = np.arange(index.start, index.stop)
        out = np.empty((index.size, size, size, 3), np.uint8)
        if self.encoding == "raw":
            dataset = frames["image"]
            if index.size and np.all(np.diff(index) == 1):
                dataset.read_direct(out, np.s_[index[0] : index[-1] + 1])
            else:
                for i, row in enumerate(index):
                    dataset.read_direct(out, np.s_[row : row + 1], np.s_[i : i + 1])
            return out
        start, length = self._jpeg_index()
        stream = frames["jpeg"]
        for i, row in enumerate(index):
            begin = int(start[row])
            try:
                out[i] = decode_jpeg(stream[begin : begin + int(length[row])], size)
            except ValueError as exc:
                raise FerclError(f"{self.path}: frame {row}: {exc}; the file is damaged") from None
        return out

    def encoded(self, rows: Rows) -> list[bytes]:
        """The stored JPEG file of each row (``encoding="jpeg"`` stores only), e.g. for a GPU decoder."""
        if self.encoding != "jpeg":
            raise ValueError(f"{self.path} stores raw pixels, not JPEG; use images()")
        index = self._rows(rows)
        index = np.arange(index.start, index.stop) if isinstance(index, slice) else index
        start, length = self._jpeg_index()
        if index.size == 0:
            return []
        low, high = int(start[index].min()), int((start[index] + length[index]).max())
        if high - low <= max(8 * int(length[index].sum()), 1 << 20):
            block = self._file()["frames/jpeg"][low:high].tobytes()
            return [block[int(start[r]) - low : int(start[r] + length[r]) - low] for r in index]
        stream = self._file()["frames/jpeg"]
        return [stream[int(start[r]) : int(start[r] + length[r])].tobytes() for r in index]

    def _jpeg_index(self) -> tuple[np.ndarray, np.ndarray]:
        if "jpeg" not in self._cache:
            frames = self._file()["frames"]
            count = self.n_frames
            self._cache["jpeg"] = (frames["jpeg_start"][:count], frames["jpeg_size"][:count])
        return self._cache["jpeg"]

    # -- clips and name tables --------------------------------------------------------------------
    def _clip_array(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self._file()["clips"][name][: self.n_clips]
        return self._cache[name]

    def _names(self, path: str, count: int | None = None) -> list[str]:
        if path not in self._cache:
            dataset = self._file()[path]
            self._cache[path] = list(dataset.asstr()[: dataset.shape[0] if count is None else count])
        return self._cache[path]

    @property
    def clip_start(self) -> np.ndarray:
        """int64 [C] first row of each clip."""
        return self._clip_array("start")

    @property
    def clip_stop(self) -> np.ndarray:
        """int64 [C] one past the last row of each clip (``stop - start`` frames, possibly 0)."""
        return self._clip_array("stop")

    @property
    def clip_identity(self) -> np.ndarray:
        """int32 [C] index into :attr:`identity_names`."""
        return self._clip_array("identity")

    @property
    def clip_video(self) -> np.ndarray:
        """int32 [C] index into :attr:`video_names`."""
        return self._clip_array("video")

    @property
    def clip_names(self) -> list[str]:
        """Clip names, [C]."""
        return self._names("clips/name", self.n_clips)

    @property
    def identity_names(self) -> list[str]:
        """Identity names; ``clip_identity`` indexes them."""
        return self._names("identities/name")

    @property
    def video_names(self) -> list[str]:
        """Video names; ``clip_video`` indexes them."""
        return self._names("videos/name")

    def clip_rows(self, clip: int) -> range:
        """The rows of clip ``clip``."""
        if not 0 <= clip < self.n_clips:
            raise IndexError(f"clip must be in 0..{self.n_clips - 1}, got {clip}")
        return range(int(self.clip_start[clip]), int(self.clip_stop[clip]))

    def clip_key(self, clip: int) -> tuple[str, str, str]:
        """``(identity, video, clip name)`` of clip ``clip``, the key writers resume by."""
        self.clip_rows(clip)
        return (
            self.identity_names[int(self.clip_identity[clip])],
            self.video_names[int(self.clip_video[clip])],
            self.clip_names[clip],
        )

    def failures(self) -> list[tuple[int, Failure]]:
        """Every committed failure record with the index of the clip it was committed with."""
        h5 = self._file()
        count = self.n_failures
        clips = h5["failures/clip"][:count]
        fields = [h5[f"failures/{name}"].asstr()[:count] for name in ("source", "stage", "reason")]
        return [(int(clip), Failure(*(str(f[i]) for f in fields))) for i, clip in enumerate(clips)]

    # -- descriptors ---------------------------------------------------------------------------
    @property
    def descriptor_kinds(self) -> list[str]:
        """Names of the descriptor slots present (``descriptors/<kind>``)."""
        return sorted(self._file()["descriptors"])

    def descriptor_attrs(self, kind: str) -> dict[str, Any]:
        """The attributes recorded with descriptor slot ``kind``."""
        dataset = self._descriptor(kind)
        return {
            key: value.item() if isinstance(value, np.generic) else value
            for key, value in dataset.attrs.items()
        }

    def descriptors(self, kind: str, rows: Rows = None) -> np.ndarray:
        """float16 [n, D] descriptors of ``rows``; an all-zero row marks a frame without a usable one."""
        return self._gather(self._descriptor(kind), self._rows(rows))

    def _descriptor(self, kind: str) -> h5py.Dataset:
        group = self._file()["descriptors"]
        if kind not in group:
            raise FerclError(
                f"{self.path}: no '{kind}' descriptors (has: {', '.join(sorted(group)) or 'none'}); "
                "run `fercl describe` first"
            )
        dataset = group[kind]
        if dataset.shape[0] != self.n_frames:
            raise FerclError(
                f"{self.path}: '{kind}' descriptors cover {dataset.shape[0]} of {self.n_frames} frames "
                "(frames were added later); run `fercl describe` again"
            )
        return dataset
