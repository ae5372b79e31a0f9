import numpy as np
import pytest

from fercl_cli.store.reader import FaceStore
from fercl_cli.swap.bank import SwapBank
from fercl_cli.swap.generate import build_bank
from fercl_cli.swap.sheet import save_swap_sheet, swap_sheet
from tests.swap.stores import write_store


def test_sheet_shows_source_donor_and_swap_per_line(tmp_path):
    store_path = write_store(tmp_path / "faces.h5", frames=1)
    build_bank(store_path, tmp_path / "swaps.h5")
    bank, store = SwapBank(tmp_path / "swaps.h5"), FaceStore(store_path)
    sheet = swap_sheet(bank, store, n=3, tile=64)
    assert sheet.shape == (3 * 64, 3 * 64, 3) and sheet.dtype == np.uint8
    assert (sheet[..., 1] == 255).any()  # green landmark points on the swaps
    path = save_swap_sheet(bank, store, tmp_path / "sheet.png", n=10)
    assert path.stat().st_size > 0
    with pytest.raises(ValueError, match="n must be"):
        swap_sheet(bank, store, n=0)
