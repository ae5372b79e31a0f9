"""Checks for the store tests: a store holds exactly the clips :mod:`tests.factories.clips` wrote, and
an HDF5 file's datasets as arrays."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from fercl_cli.store.reader import FaceStore
from tests.factories.clips import ClipSpec, make_frames


def assert_store_holds(store: FaceStore, specs: list[ClipSpec]) -> None:
    """The store's committed clips are exactly ``specs``, in order, with exactly their content."""
    assert store.n_clips == len(specs)
    assert [store.clip_key(c) for c in range(store.n_clips)] == [spec.key for spec in specs]
    assert store.n_frames == sum(spec.frames for spec in specs)
    failures = [(c, f) for c, spec in enumerate(specs) for f in spec.failures]
    assert store.failures() == failures
    for c, spec in enumerate(specs):
        rows = store.clip_rows(c)
        expected = make_frames(spec, store.crop_size)
        if expected is None:
            assert len(rows) == 0
            continue
        index = slice(rows.start, rows.stop)
        has = np.array([label != "none" for label in expected.detector])
        assert np.array_equal(store.has_landmarks(index), has)
        assert np.array_equal(store.landmarks(index)[has], expected.landmarks[has])
        assert not store.landmarks(index)[~has].any()
        for name in ("bbox", "matrix", "score", "t", "frame_number"):
            assert np.array_equal(store.column(name, index), getattr(expected, name)), name
        assert np.all(store.column("clip", index) == c)
        if store.encoding == "raw":
            assert np.array_equal(store.images(index), expected.image)


def dataset_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of an HDF5 file as an array (strings decoded), keyed by its path."""
    arrays: dict[str, np.ndarray] = {}

    def visit(name: str, item: object) -> None:
        if isinstance(item, h5py.Dataset):
            arrays[name] = item.asstr()[()] if h5py.check_string_dtype(item.dtype) else item[()]

    with h5py.File(path, "r", locking=False) as h5:
        h5.visititems(visit)
    return arrays
