import numpy as np
import pytest

from fercl_cli.store.reader import FaceStore
from fercl_cli.store.swap_bank import SwapBank
from fercl_cli.swap.generate import build_bank
from fercl_cli.swap.sheet import save_swap_sheet, swap_sheet
from tests.factories.stores import write_portrait_store


def test_sheet_is_a_labelled_grid_of_source_donor_swap_triplets(tmp_path):
    store_path = write_portrait_store(tmp_path / "faces.h5", frames=1)
    build_bank(store_path, tmp_path / "swaps.h5")
    bank, store = SwapBank(tmp_path / "swaps.h5"), FaceStore(store_path)
    assert len(bank) >= 3
    sheet = swap_sheet(bank, store, n=3, tile=64, per_row=2)
    gap = 4
    assert sheet.shape == (18 + 2 * 64, 2 * 3 * 64 + gap, 3) and sheet.dtype == np.uint8
    swap = bank.swap(int(np.sort(np.random.default_rng(0).choice(len(bank), 3, replace=False))[0]))
    import cv2

    source = cv2.resize(store.image(swap.source), (64, 64))
    np.testing.assert_array_equal(
        sheet[18 : 18 + 40, :64], source[:40]
    )  # first tile = its source (above the caption)
    plain = swap_sheet(bank, store, n=3, tile=64, per_row=2)
    marked = swap_sheet(bank, store, n=3, tile=64, per_row=2, landmarks=True)

    def green(image):
        return int(((image[..., 1] > 200) & (image[..., 0] < 60) & (image[..., 2] < 60)).sum())

    assert green(marked) > green(plain) + 20  # the landmark points are drawn only when asked for
    path = save_swap_sheet(bank, store, tmp_path / "sheet.png", n=10)
    assert path.stat().st_size > 0
    with pytest.raises(ValueError, match="n must be"):
        swap_sheet(bank, store, n=0)
