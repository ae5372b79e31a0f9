import cv2
import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.sheet import contact_sheet, sample_rows, save_contact_sheet
from fercl_cli.store.writer import FaceStoreWriter
from tests.factories.clips import SETTINGS, clip_specs, write_clips


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("sheet") / "faces.h5"
    write_clips(path, clip_specs(10))
    return FaceStore(path)


def test_sampled_rows_are_distinct_sorted_and_seeded(store):
    rows = sample_rows(store, 8, seed=3)
    assert len(set(rows)) == 8 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, sample_rows(store, 8, seed=3))
    assert len(sample_rows(store, 10_000, seed=0)) == store.n_frames


def test_sheet_is_a_grid_of_crops_with_landmarks_drawn(store):
    rows = np.array([0, 1, 2, 4, 5, 6, 7])
    sheet = contact_sheet(store, rows, columns=3, tile=64)
    assert sheet.shape == (3 * 64, 3 * 64, 3) and sheet.dtype == np.uint8
    first = sheet[:64, :64]
    plain = cv2.resize(store.image(0), (64, 64), interpolation=cv2.INTER_LINEAR)
    green = (first[..., 1] == 255) & (first[..., 0] == 0) & (first[..., 2] == 0)
    assert green.sum() > 20  # landmark points, drawn in RGB green
    assert np.array_equal(first[:10, :10], plain[:10, :10])  # the crop itself, away from the drawing
    assert not sheet[2 * 64 :, 64:].any()  # two empty cells after 7 tiles


def test_saved_sheet_is_a_bgr_png_of_the_rgb_sheet(store, tmp_path):
    path = tmp_path / "sheet.png"
    rows = save_contact_sheet(store, path, n=4, seed=1)
    written = cv2.imread(str(path))
    assert np.array_equal(written[..., ::-1], contact_sheet(store, rows))
    with pytest.raises(FerclError, match="could not write"):
        save_contact_sheet(store, tmp_path / "sheet.unknown-extension", n=2)


def test_empty_store_has_no_sheet(tmp_path):
    path = tmp_path / "empty.h5"
    FaceStoreWriter(path, **SETTINGS).close()
    with pytest.raises(FerclError, match="no frames"):
        save_contact_sheet(FaceStore(path), tmp_path / "sheet.png")
