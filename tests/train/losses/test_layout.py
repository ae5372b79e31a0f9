import pytest

from fercl_cli.train.losses import view_index


def test_view_index_layout():
    pair, clip = view_index(2, True)
    assert pair.tolist() == [0, 1, 2, 3, 0, 1, 2, 3] and clip.tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    pair, clip = view_index(3, False)
    assert pair.tolist() == clip.tolist() == [0, 1, 2, 0, 1, 2]
    with pytest.raises(ValueError, match="batch_size"):
        view_index(0, True)
