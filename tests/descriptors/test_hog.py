import numpy as np
import pytest

from fercl_cli.descriptors.hog import hog, hog_size


def _stripes(vertical: bool) -> np.ndarray:
    line = (np.arange(32) // 4 % 2) * 200.0
    return np.tile(line, (32, 1)) if vertical else np.tile(line[:, None], (1, 32))


def _bin_energy(feature: np.ndarray, bins: int = 9) -> np.ndarray:
    return feature.reshape(-1, bins).sum(axis=0)


def test_gradient_orientation_goes_to_the_right_bin():
    out = hog(np.stack([_stripes(vertical=True), _stripes(vertical=False)]), cell=8, bins=9)
    assert out.shape == (2, hog_size(32, 32, 8, 9)) == (2, 4 * 36) and out.dtype == np.float32
    vertical, horizontal = _bin_energy(out[0]), _bin_energy(out[1])
    # x gradients (vertical stripes) are 0°: split between the bins centred at 0° and 160° (wrap-around);
    # y gradients are 90°: the bin centred at 90°.
    assert vertical[0] == pytest.approx(vertical[8]) and vertical[0] > 0
    assert vertical[[1, 2, 3, 4, 5, 6, 7]].sum() == pytest.approx(0, abs=1e-5)
    assert horizontal.argmax() == 4 and horizontal[4] > 0.99 * horizontal.sum()


def test_blocks_are_l2_hys_normalised_and_contrast_invariant():
    patch = np.random.default_rng(0).uniform(0, 255, (2, 16, 32))
    out = hog(patch, cell=8, bins=9).reshape(2, 2, 36)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-4)
    np.testing.assert_allclose(hog(patch * 0.5 + 10, 8, 9), hog(patch, 8, 9), atol=1e-5)
    assert np.all(hog(np.zeros((1, 16, 16)), 8, 9) == 0)


def test_rejects_patch_sizes_that_do_not_tile():
    with pytest.raises(ValueError, match="multiple of 16"):
        hog(np.zeros((1, 20, 32)))
    with pytest.raises(ValueError, match=r"\[N, H, W\]"):
        hog(np.zeros((20, 32)))
