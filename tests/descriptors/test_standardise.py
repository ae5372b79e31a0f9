import numpy as np
import pytest

from fercl_cli.descriptors.standardise import GroupStandardiser


def test_streaming_statistics_equal_one_shot_centring_and_scaling():
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1, 2], 20)
    raw = rng.normal(size=(60, 3)) * [1.0, 5.0, 0.1] + np.array([[0, 0, 0], [10, -3, 1], [-4, 2, 8]])[groups]
    valid = np.ones(60, bool)
    valid[7] = False
    whole = GroupStandardiser([("a", 2, 1.0), ("b", 1, 0.5)], 3)
    whole.update(raw, valid, groups)
    streamed = GroupStandardiser([("a", 2, 1.0), ("b", 1, 0.5)], 3)
    for rows in (slice(0, 25), slice(25, 60)):
        streamed.update(raw[rows], valid[rows], groups[rows])
    out, again = whole.apply(raw, valid, groups), streamed.apply(raw, valid, groups)
    np.testing.assert_allclose(out.values, again.values, atol=1e-6)
    assert out.valid.tolist() == valid.tolist() and np.all(out.values[7] == 0)
    # before L2 normalisation: centred per group, unit within-group std, part b weighted 0.5
    mean = np.stack([raw[valid & (groups == g)].mean(0) for g in range(3)])
    centred = (raw - mean[groups])[valid]
    expected = centred / np.sqrt((centred**2).sum(0) / (59 - 3)) * [1 / np.sqrt(2), 1 / np.sqrt(2), 0.5]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(out.values[valid], expected, atol=1e-5)


def test_groups_with_one_frame_have_no_reference_and_bad_shapes_are_refused():
    st = GroupStandardiser([("a", 2, 1.0)], 2)
    raw, groups = np.array([[1.0, 2.0], [3.0, 1.0], [0.0, 5.0]]), np.array([0, 0, 1])
    st.update(raw, np.ones(3, bool), groups)
    assert st.apply(raw, np.ones(3, bool), groups).valid.tolist() == [True, True, False]
    with pytest.raises(ValueError, match=r"need raw \[n, 2\]"):
        st.update(np.zeros((3, 3)), np.ones(3, bool), groups)
    with pytest.raises(ValueError, match="group ids"):
        st.update(raw, np.ones(3, bool), np.array([0, 0, 2]))
