"""The swap bank (``swaps.h5``): FaceSwap images made once from a face store, read at training time.

It lives beside the face store because it is written the same way (journaled HDF5, one writer, the
lifecycle of :class:`~fercl_cli.store.writer_base.JournaledWriter`), so training reads only ``store/``.

Layout (``docs/swap-describe.md`` has the full table): swaps are rows of ``swaps/*`` (source row,
donor row, donor identity, image, landmarks), written in ascending source-row order, so the swaps of
one store row are contiguous; ``index/start`` and ``index/count`` (one entry per store row) give them
in O(1); ``index/status`` says why a row has none. Images are uint8 RGB crops in the donor's (head's)
crop frame; landmarks are float32 crop pixels.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from fercl_cli import __version__
from fercl_cli.errors import FerclError
from fercl_cli.store.files import Writable
from fercl_cli.store.swap_bank_file import (
    BANK_KIND,
    BANK_SCHEMA,
    open_bank_for_reading,
    open_bank_for_writing,
)
from fercl_cli.store.writer_base import JournaledWriter

if TYPE_CHECKING:
    from fercl_cli.store.reader import FaceStore

# ``index/status`` codes (their labels are stored as JSON in the dataset's ``labels`` attribute).
STATUS_LABELS = ("not chosen", "swapped", "no landmarks", "no donor of another identity")
NOT_CHOSEN, SWAPPED, NO_LANDMARKS, NO_DONOR = range(len(STATUS_LABELS))
_N_POINTS = 68


@dataclass(frozen=True)
class BankSwap:
    """One stored swap.

    Attributes:
        image: uint8 [S, S, 3] RGB, the source's inner face on the donor's head (donor's crop frame).
        landmarks: float32 [68, 2] of the result, crop pixels.
        source: store row of the expression source; donor: store row of the head donor.
        donor_identity: index into the store's ``identities/name``.
    """

    image: np.ndarray
    landmarks: np.ndarray
    source: int
    donor: int
    donor_identity: int


def _settings(
    crop_size: int, store_frames: int, store_created: str, config: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "crop_size": int(crop_size),
        "store_frames": int(store_frames),
        "store_created": str(store_created),
        "config": json.dumps(dict(config), sort_keys=True),
    }


class SwapBankWriter(JournaledWriter):
    """Create or resume the bank at ``path`` for a given store and configuration.

    Sources are added in batches in plan order (ascending store row); :meth:`commit` makes everything
    added so far durable. Resuming checks that the store and the configuration are the same and
    exposes :attr:`committed_sources`, the number of planned sources already done.

    Args:
        path: the bank file.
        crop_size: S of the store's crops.
        store_frames: the store's committed frame count (N; ``index/*`` have N entries).
        store_created: the store's ``created`` attribute (a resumed bank must come from the same store).
        store_path: recorded for people (not compared: stores may move).
        config: the swap settings (per_frame, frames, feather_px, blur_fraction, seed), JSON-serialisable.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        crop_size: int,
        store_frames: int,
        store_created: str,
        store_path: str,
        config: Mapping[str, Any],
    ) -> None:
        self.path = Path(path)
        self.crop_size = int(crop_size)
        self._settings = _settings(crop_size, store_frames, store_created, config)
        self._store_frames = int(store_frames)
        if self.path.exists():
            self._file = open_bank_for_writing(self.path)
            try:
                self._check_settings()
            except BaseException:
                self._file.close(keep=False)
                raise
        else:
            self._file = self._create(store_path)
        attrs = self._file.h5.attrs
        self.committed_sources = int(attrs["committed_sources"])
        self.committed_swaps = int(attrs["committed_swaps"])
        self._sources = self.committed_sources
        self._swaps = self.committed_swaps
        self._last_row = int(attrs["last_source_row"])

    def _create(self, store_path: str) -> Writable:
        def fill(h5: h5py.File) -> None:
            h5.attrs.update({"kind": BANK_KIND, "fercl_schema": BANK_SCHEMA, "fercl_version": __version__})
            h5.attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            h5.attrs["store"] = str(store_path)
            h5.attrs.update(self._settings)
            h5.attrs.update({"committed_sources": 0, "committed_swaps": 0, "last_source_row": -1})
            size = self.crop_size
            swaps = h5.create_group("swaps")
            for name, dtype, shape, chunk in (
                ("source", np.int64, (), 4096),
                ("donor", np.int64, (), 4096),
                ("donor_identity", np.int32, (), 4096),
                ("image", np.uint8, (size, size, 3), 1),
                ("landmarks", np.float32, (_N_POINTS, 2), 64),
            ):
                swaps.create_dataset(
                    name, (0, *shape), dtype, maxshape=(None, *shape), chunks=(chunk, *shape)
                )
            index = h5.create_group("index")
            n = self._store_frames
            chunk = max(1, min(n, 65536))
            index.create_dataset("start", (n,), np.int64, chunks=(chunk,) if n else None, fillvalue=0)
            index.create_dataset("count", (n,), np.int32, chunks=(chunk,) if n else None, fillvalue=0)
            status = index.create_dataset(
                "status", (n,), np.uint8, chunks=(chunk,) if n else None, fillvalue=0
            )
            status.attrs["labels"] = json.dumps(STATUS_LABELS)

        return self._create_published(fill)

    def _check_settings(self) -> None:
        attrs = self._file.h5.attrs
        differences = [
            f"{key} (bank {attrs.get(key)!r}, now {wanted!r})"
            for key, wanted in self._settings.items()
            if (attrs.get(key).item() if isinstance(attrs.get(key), np.generic) else attrs.get(key)) != wanted
        ]
        if differences:
            raise FerclError(
                f"{self.path}: made from another store or with other settings: {'; '.join(differences)}; "
                f"use a new --out or delete {self.path} to start over"
            )

    def add(
        self,
        rows: np.ndarray,
        status: np.ndarray,
        counts: np.ndarray,
        donors: np.ndarray,
        donor_identity: np.ndarray,
        images: np.ndarray,
        landmarks: np.ndarray,
    ) -> None:
        """Add the next planned sources.

        Args:
            rows: int [b] store rows, ascending and above every row added before.
            status: uint8 [b] status codes (``SWAPPED`` for rows with swaps).
            counts: int [b] swaps per row; they follow each other in the arrays below.
            donors: int [m] donor rows, m = counts.sum(); donor_identity: int [m].
            images: uint8 [m, S, S, 3] RGB; landmarks: float32 [m, 68, 2] crop pixels.
        """
        self._check_usable()
        rows = np.asarray(rows, np.int64)
        counts = np.asarray(counts, np.int64)
        m = int(counts.sum())
        size = self.crop_size
        if len(rows) and (
            np.any(np.diff(rows) <= 0) or rows[0] <= self._last_row or rows[-1] >= self._store_frames
        ):
            raise ValueError("rows must be ascending store rows after the rows already added")
        if np.asarray(images).shape != (m, size, size, 3) or np.asarray(landmarks).shape != (m, _N_POINTS, 2):
            raise ValueError(f"need {m} images [S, S, 3] with S = {size} and {m} landmark sets [68, 2]")
        if len(donors) != m or len(donor_identity) != m or len(status) != len(rows):
            raise ValueError("donors and donor_identity need one entry per swap, status one per row")
        h5 = self._file.h5
        if len(rows):
            start = self._swaps + np.cumsum(counts) - counts
            lo, hi = int(rows[0]), int(rows[-1]) + 1
            for name, values in (("start", start), ("count", counts), ("status", status)):
                dataset = h5["index"][name]
                block = dataset[lo:hi]
                block[rows - lo] = values
                dataset[lo:hi] = block
            self._last_row = int(rows[-1])
        for name, values in (
            ("source", np.repeat(rows, counts)),
            ("donor", donors),
            ("donor_identity", donor_identity),
            ("image", images),
            ("landmarks", landmarks),
        ):
            dataset = h5["swaps"][name]
            dataset.resize(self._swaps + m, axis=0)
            if m:
                dataset[self._swaps :] = values
        self._swaps += m
        self._sources += len(rows)

    def _write_staged(self) -> bool:
        attrs = self._file.h5.attrs
        attrs["committed_sources"] = self._sources
        attrs["committed_swaps"] = self._swaps
        attrs["last_source_row"] = self._last_row
        return True

    def _committed(self) -> None:
        self.committed_sources, self.committed_swaps = self._sources, self._swaps


class SwapBank:
    """A read-only swap bank, safe in DataLoader workers (the file is opened lazily per process).

    Args:
        path: the bank file.
        store: optional :class:`~fercl_cli.store.reader.FaceStore` the bank will be used with; opening
            checks that the bank was made from it (:meth:`check_store`).

    Attributes:
        path; n_swaps; n_store_frames (N); crop_size; config (dict); store (path recorded at creation).
    """

    def __init__(self, path: str | Path, store: FaceStore | None = None) -> None:
        self.path = Path(path)
        self._h5: h5py.File | None = None
        self._pid = -1
        h5 = self._file()
        attrs = {k: v.item() if isinstance(v, np.generic) else v for k, v in h5.attrs.items()}
        self.n_swaps = int(attrs["committed_swaps"])
        self.n_sources_done = int(attrs["committed_sources"])
        self.n_store_frames = int(attrs["store_frames"])
        self.crop_size = int(attrs["crop_size"])
        self.store = str(attrs["store"])
        self.store_created = str(attrs["store_created"])
        self.config: dict[str, Any] = json.loads(attrs["config"])
        self._start = h5["index/start"][:]
        self._count = h5["index/count"][:]
        self._status = h5["index/status"][:]
        self._donor_identity = h5["swaps/donor_identity"][: self.n_swaps]
        if store is not None:
            self.check_store(store)

    def _file(self) -> h5py.File:
        if self._h5 is None or self._pid != os.getpid():
            self._h5 = open_bank_for_reading(self.path)
            self._pid = os.getpid()
        return self._h5

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_h5"], state["_pid"] = None, -1
        return state

    def close(self) -> None:
        """Close this process's file handle (reopened on next access)."""
        if self._h5 is not None and self._pid == os.getpid():
            self._h5.close()
        self._h5 = None

    def __len__(self) -> int:
        return self.n_swaps

    def check_store(self, store: FaceStore) -> None:
        """Raise :class:`FerclError` unless the bank was made from ``store`` (same committed frame count
        and ``created`` stamp)."""
        found = (int(store.n_frames), str(store.attrs.get("created", "")))
        if found != (self.n_store_frames, self.store_created):
            raise FerclError(
                f"{self.path}: made from another store ({self.n_store_frames} frames, created "
                f"{self.store_created}), not {store.path} ({found[0]} frames, created {found[1]}); "
                f"run `fercl swap {store.path} --out {self.path.name}` again"
            )

    def count(self, row: int) -> int:
        """Number of swaps whose expression source is store row ``row``."""
        return int(self._count[row])

    def status(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """uint8 status codes (``STATUS_LABELS``) of store rows."""
        return self._status[slice(None) if rows is None else rows]

    def swaps_of(self, row: int) -> range:
        """Bank rows of the swaps of store row ``row`` (empty when it has none)."""
        start = int(self._start[row])
        return range(start, start + int(self._count[row]))

    def swap(self, index: int) -> BankSwap:
        """Bank row ``index``."""
        if not 0 <= index < self.n_swaps:
            raise IndexError(f"swap index must be in 0..{self.n_swaps - 1}, got {index}")
        swaps = self._file()["swaps"]
        return BankSwap(
            image=swaps["image"][index],
            landmarks=swaps["landmarks"][index],
            source=int(swaps["source"][index]),
            donor=int(swaps["donor"][index]),
            donor_identity=int(swaps["donor_identity"][index]),
        )

    def random_swap(self, row: int, rng: np.random.Generator) -> BankSwap | None:
        """A uniformly chosen swap of store row ``row``, or None when it has none (use the plain frame)."""
        count = int(self._count[row])
        if count == 0:
            return None
        return self.swap(int(self._start[row]) + int(rng.integers(count)))

    def sample(
        self, rows: np.ndarray, rng: np.random.Generator, avoid: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A random swap for each store row in ``rows`` (int [n]), uniformly among its swaps whose donor
        identity is not in ``avoid`` (int identity indices, e.g. the people in the training batch).

        Returns:
            images uint8 [n, S, S, 3], landmarks float32 [n, 68, 2] and found bool [n]; where ``found``
            is False the row has no swap (or only swaps onto avoided heads) and its entries are zeros.
        """
        rows = np.asarray(rows, np.int64).reshape(-1)
        size = self.crop_size
        images = np.zeros((len(rows), size, size, 3), np.uint8)
        landmarks = np.zeros((len(rows), 68, 2), np.float32)
        found = np.zeros(len(rows), bool)
        picks = np.zeros(len(rows), np.int64)
        banned = np.zeros(0, np.int64) if avoid is None else np.asarray(avoid, np.int64).reshape(-1)
        for i, row in enumerate(rows):
            start, count = int(self._start[row]), int(self._count[row])
            allowed = np.flatnonzero(~np.isin(self._donor_identity[start : start + count], banned))
            if len(allowed):
                found[i] = True
                picks[i] = start + int(allowed[int(rng.random() * len(allowed))])
        swaps = self._file()["swaps"]
        for i in np.flatnonzero(found):
            swaps["image"].read_direct(images, np.s_[picks[i] : picks[i] + 1], np.s_[i : i + 1])
            landmarks[i] = swaps["landmarks"][picks[i]]
        return images, landmarks, found

    def summary(self) -> dict[str, int]:
        """Swaps and per-status row counts (``not chosen`` excluded)."""
        counts = np.bincount(self._status, minlength=len(STATUS_LABELS))
        out = {"swaps": self.n_swaps}
        out.update(
            {label: int(counts[code]) for code, label in enumerate(STATUS_LABELS) if code != NOT_CHOSEN}
        )
        return out
