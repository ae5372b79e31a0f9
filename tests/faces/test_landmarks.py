import numpy as np
import pytest

from fercl_cli.faces import landmarks as lm
from fercl_cli.faces.template import MEAN_SHAPE


def test_groups_partition_all_68_points():
    allpts = np.concatenate(list(lm.GROUPS.values()))
    assert sorted(allpts.tolist()) == list(range(68))


def test_mirror_is_an_involution_and_maps_eyes_to_eyes():
    assert (lm.MIRROR[lm.MIRROR] == np.arange(68)).all()
    assert set(lm.MIRROR[lm.RIGHT_EYE]) == set(lm.LEFT_EYE)
    assert set(lm.MIRROR[lm.OUTER_MOUTH]) == set(lm.OUTER_MOUTH)


def test_flip_landmarks_twice_is_identity_and_template_is_mirror_symmetric():
    pts = np.random.default_rng(0).uniform(0, 100, (68, 2))
    assert np.allclose(lm.flip_landmarks(lm.flip_landmarks(pts, 100), 100), pts)
    mirrored = MEAN_SHAPE[lm.MIRROR] * np.array([-1.0, 1.0])
    assert np.allclose(mirrored, MEAN_SHAPE, atol=1e-9)


def test_inter_ocular_of_template_is_one():
    assert lm.inter_ocular(MEAN_SHAPE) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="68, 2"):
        lm.eye_centres(np.zeros((5, 2)))
