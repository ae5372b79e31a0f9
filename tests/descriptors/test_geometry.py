import numpy as np
import pytest

from fercl_cli.descriptors.geometry import (
    config,
    geometry_descriptors,
    parts,
    raw_features,
    raw_size,
    shape_features,
)
from fercl_cli.faces import geometry as similarity
from fercl_cli.faces.template import MEAN_SHAPE
from tests.factories.portraits import aligned


def _batch():
    (a, al), (g, gl) = aligned()
    return np.stack([a, g]), np.stack([al, gl])


def _moved(image, landmarks, angle_deg, scale, shift):
    import cv2

    size = image.shape[0]
    matrix = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle_deg, scale)
    matrix[:, 2] += shift
    warped = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return warped, similarity.apply(matrix, landmarks).astype(np.float32)


def _open_mouth(landmarks, px):
    out = landmarks.copy()
    out[..., [56, 57, 58, 65, 66, 67], 1] += px  # lower lip down
    return out


def test_raw_features_shapes_and_determinism():
    images, landmarks = _batch()
    raw, ok = raw_features(images, landmarks)
    assert raw.shape == (2, raw_size()) == (2, config()["dim"]) and raw.dtype == np.float32
    assert [name for name, _, _ in parts()] == ["measures", "shapes", "hog"] and ok.all()
    np.testing.assert_array_equal(raw, raw_features(images.copy(), landmarks.copy())[0])
    np.testing.assert_allclose(raw_features(images[1:], landmarks[1:])[0][0], raw[1], atol=1e-6)


def test_raw_features_ignore_position_scale_and_rotation():
    images, landmarks = _batch()
    raw, _ = raw_features(images, landmarks)
    geometric = parts()[0][1] + parts()[1][1]
    for k in range(2):
        image, lm = _moved(images[k], landmarks[k], angle_deg=12.0, scale=0.8, shift=(5.0, -4.0))
        again, _ = raw_features(image[None], lm[None])
        np.testing.assert_allclose(
            again[0, :geometric], raw[k, :geometric], atol=1e-4
        )  # exactly, up to rounding
        hog, hog_moved = raw[k, geometric:], again[0, geometric:]
        assert hog @ hog_moved / np.linalg.norm(hog) / np.linalg.norm(hog_moved) > 0.8  # resampled pixels


def test_shapes_of_the_template_are_the_template():
    shapes = shape_features(MEAN_SHAPE[None] * 40 + 64)
    again = shape_features(
        similarity.apply(np.array([[0.0, -1.5, 40.0], [1.5, 0.0, -3.0]]), MEAN_SHAPE[None])
    )
    np.testing.assert_allclose(shapes, again, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(shapes[0, :24].reshape(-1, 2), axis=1).mean(), 1.0, atol=0.2)


def test_identity_centred_descriptors_match_expression_across_people():
    images, landmarks = _batch()
    rng = np.random.default_rng(0)
    frames, lms, people, mouth = [], [], [], []
    for person in range(2):
        for opened in (0, 1):
            for _ in range(3):  # small landmark jitter: three frames per person and expression
                frames.append(images[person])
                lms.append(_open_mouth(landmarks[person], 8.0 * opened) + rng.normal(0, 0.3, (68, 2)))
                people.append(person)
                mouth.append(opened)
    people, mouth = np.array(people), np.array(mouth)
    out = geometry_descriptors(np.stack(frames), np.stack(lms), groups=people)
    assert out.values.shape == (12, raw_size()) and out.valid.all()
    np.testing.assert_allclose(np.linalg.norm(out.values, axis=1), 1.0, atol=1e-5)
    sims = out.values @ out.values.T
    np.fill_diagonal(sims, -np.inf)
    other_person = people[:, None] != people[None, :]
    nearest_elsewhere = np.where(other_person, sims, -np.inf).argmax(axis=1)
    assert (mouth[nearest_elsewhere] == mouth).all()  # the other person's frame with the same mouth


def test_frames_without_usable_landmarks_or_reference_are_flagged_zero_vectors():
    images, landmarks = _batch()
    images = np.concatenate([images, images, images[:1]])
    bad = landmarks.copy()
    bad[0, 5] = np.nan  # one missing point
    bad[1] = 0.0  # all points at one place
    lms = np.concatenate([landmarks, bad, _open_mouth(landmarks[:1], 5.0)])
    out = geometry_descriptors(
        images, lms, valid=np.array([True, False, True, True, True]), groups=np.array([0, 0, 1, 1, 0])
    )
    # row 1: not valid; rows 2, 3: unusable landmarks (so group 1 has no usable frame at all)
    assert out.valid.tolist() == [True, False, False, False, True]
    assert np.all(out.values[1:4] == 0) and not np.isnan(out.values).any()
    alone = geometry_descriptors(images[:2], landmarks, groups=np.array([0, 1]))
    assert not alone.valid.any()  # one frame per identity: nothing to compare it with


def test_progress_and_bad_arguments():
    images, landmarks = _batch()
    seen = []
    raw_features(np.concatenate([images] * 3), np.concatenate([landmarks] * 3), progress=seen.append, chunk=4)
    assert seen == [4, 2]
    with pytest.raises(ValueError, match="uint8"):
        raw_features(images.astype(np.float32), landmarks)
    with pytest.raises(ValueError, match="one per image"):
        raw_features(images, landmarks[:1])
