import pickle

import h5py
import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.writer import FaceStoreWriter
from tests.factories.clips import SETTINGS, clip_specs, make_frames, write_clips
from tests.store.checks import assert_store_holds


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("reader") / "faces.h5"
    write_clips(path, clip_specs(12))
    return path


def test_rows_and_clips_read_back_exactly(store_path):
    assert_store_holds(FaceStore(store_path), clip_specs(12))


def test_images_in_any_row_order_match_single_reads(store_path):
    store = FaceStore(store_path)
    rows = np.array([5, 0, 17, 5, 3])
    batch = store.images(rows)
    assert batch.shape == (5, 16, 16, 3) and batch.dtype == np.uint8
    for i, row in enumerate(rows):
        assert np.array_equal(batch[i], store.image(int(row)))
    assert np.array_equal(store.landmarks(rows)[2], store.landmarks(17))
    assert np.array_equal(store.column("t", slice(0, 10, 3)), store.column("t")[0:10:3])
    assert store.images([]).shape == (0, 16, 16, 3)


def test_rows_outside_the_committed_frames_are_refused(store_path):
    store = FaceStore(store_path)
    with pytest.raises(IndexError, match="committed"):
        store.images([store.n_frames])
    with pytest.raises(IndexError):
        store.column("t", -1)
    with pytest.raises(KeyError, match="unknown frame column"):
        store.column("pixels")
    with pytest.raises(IndexError):
        store.clip_rows(store.n_clips)


def test_clip_index_and_name_tables(store_path):
    store = FaceStore(store_path)
    specs = clip_specs(12)
    assert store.clip_start.dtype == np.int64 and store.clip_identity.dtype == np.int32
    assert np.array_equal(store.clip_stop - store.clip_start, [spec.frames for spec in specs])
    assert all(isinstance(name, str) for name in store.identity_names + store.video_names + store.clip_names)
    assert [store.identity_names[i] for i in store.clip_identity] == [spec.identity for spec in specs]
    assert [store.video_names[v] for v in store.clip_video] == [spec.video for spec in specs]
    assert store.fps == pytest.approx(25 / 6) and store.crop_size == 16 and store.encoding == "raw"


def test_readers_see_only_committed_clips_while_a_writer_is_busy(tmp_path):
    specs = clip_specs(4)
    path = tmp_path / "faces.h5"
    with FaceStoreWriter(path, **SETTINGS) as writer:
        for spec in specs[:2]:
            writer.add_clip(*spec.key, make_frames(spec), spec.failures)
        writer.commit()
        writer.add_clip(*specs[2].key, make_frames(specs[2]), specs[2].failures)
        assert_store_holds(FaceStore(path), specs[:2])
    assert_store_holds(FaceStore(path), specs[:3])


class _Frames:
    """A minimal torch Dataset over a store: (image, landmarks) per row."""

    def __init__(self, store):
        self.store = store

    def __len__(self):
        return len(self.store)

    def __getitem__(self, row):
        return self.store.image(row), self.store.landmarks(row)


def test_dataloader_workers_open_their_own_handle(store_path):
    import torch

    store = FaceStore(store_path)
    store.image(0)  # the parent's handle is open before the workers fork
    clone = pickle.loads(pickle.dumps(store))
    assert clone._h5 is None and np.array_equal(clone.image(3), store.image(3))
    loader = torch.utils.data.DataLoader(_Frames(store), batch_size=4, num_workers=2)
    images = torch.cat([batch[0] for batch in loader]).numpy()
    landmarks = torch.cat([batch[1] for batch in loader]).numpy()
    assert np.array_equal(images, store.images(np.arange(len(store))))
    assert np.array_equal(landmarks, store.landmarks())


def test_missing_and_non_hdf5_files_are_one_line_errors(tmp_path):
    with pytest.raises(FerclError, match="no such face store"):
        FaceStore(tmp_path / "absent.h5")
    with pytest.raises(FerclError, match="not a file"):
        FaceStore(tmp_path)
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5\n" * 100)
    with pytest.raises(FerclError, match="not an HDF5 file"):
        FaceStore(text)


def test_foreign_hdf5_file_is_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["frames/image"] = np.zeros((2, 4, 4, 3), np.uint8)
    with pytest.raises(FerclError, match="not a fercl face store"):
        FaceStore(path)


def test_newer_schema_is_refused_with_upgrade_advice(tmp_path):
    path = tmp_path / "faces.h5"
    write_clips(path, clip_specs(2))
    with h5py.File(path, "r+", locking=False) as h5:
        h5.attrs["fercl_schema"] = 99
    with pytest.raises(FerclError, match="schema 99.*upgrade fercl"):
        FaceStore(path)


def test_truncated_copy_is_refused(tmp_path, store_path):
    data = store_path.read_bytes()
    for cut in (len(data) // 2, 600):
        path = tmp_path / f"cut{cut}.h5"
        path.write_bytes(data[:cut])
        with pytest.raises(FerclError, match="truncated"):
            FaceStore(path)
