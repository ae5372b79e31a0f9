import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.descriptors import write_descriptors
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.validate import validate
from tests.factories.clips import clip_specs, write_clips


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "faces.h5"
    write_clips(path, clip_specs(6))
    return path


def test_descriptors_round_trip_as_float16_with_attrs_and_can_be_replaced(store_path):
    rows = FaceStore(store_path).n_frames
    values = np.random.default_rng(0).normal(size=(rows, 8)).astype(np.float32)
    values[3] = 0.0  # a frame without a usable descriptor
    write_descriptors(store_path, "geometry", values, {"weights_sha256": "none", "version": 2})
    store = FaceStore(store_path)
    assert store.descriptor_kinds == ["geometry"]
    stored = store.descriptors("geometry")
    assert stored.dtype == np.float16 and stored.shape == (rows, 8)
    assert np.array_equal(stored, values.astype(np.float16))
    assert np.array_equal(store.descriptors("geometry", [5, 1]), stored[[5, 1]])
    assert not store.descriptors("geometry", 3).any()
    attrs = store.descriptor_attrs("geometry")
    assert attrs["kind"] == "geometry" and attrs["weights_sha256"] == "none" and attrs["version"] == 2
    write_descriptors(store_path, "geometry", np.ones((rows, 3)))
    assert store.descriptors("geometry").shape == (rows, 3)  # the open store sees the new slot
    assert FaceStore(store_path).descriptors("geometry").shape == (rows, 3)
    assert validate(store_path) == []


def test_descriptor_values_are_checked(store_path):
    rows = FaceStore(store_path).n_frames
    with pytest.raises(ValueError, match="has .* frames but"):
        write_descriptors(store_path, "geometry", np.zeros((rows + 1, 4)))
    with pytest.raises(ValueError, match="NaN, infinite or beyond float16"):
        write_descriptors(store_path, "geometry", np.full((rows, 4), 1e6))
    with pytest.raises(ValueError, match="2-D"):
        write_descriptors(store_path, "geometry", np.zeros(rows))
    with pytest.raises(ValueError, match="kind"):
        write_descriptors(store_path, "../x", np.zeros((rows, 4)))
    assert FaceStore(store_path).descriptor_kinds == []  # failed writes left nothing behind


def test_missing_or_stale_slots_are_one_line_errors(store_path):
    store = FaceStore(store_path)
    with pytest.raises(FerclError, match="no 'resnet18' descriptors"):
        store.descriptors("resnet18")
    write_descriptors(store_path, "geometry", np.ones((store.n_frames, 2)))
    write_clips(store_path, clip_specs(8))
    with pytest.raises(FerclError, match="describe. again"):
        FaceStore(store_path).descriptors("geometry")
