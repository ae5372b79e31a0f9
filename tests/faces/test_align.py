import numpy as np
import pytest

from fercl_cli.faces import geometry
from fercl_cli.faces import landmarks as lm
from fercl_cli.faces.align import align_face
from fercl_cli.faces.template import DEFAULT_TEMPLATE


def _similarity(angle_deg, scale, tx, ty):
    a = np.deg2rad(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), tx], [scale * np.sin(a), scale * np.cos(a), ty]])


def test_procrustes_recovers_a_known_similarity():
    src = np.random.default_rng(1).uniform(0, 200, (30, 2))
    true = _similarity(17.0, 1.7, -12.0, 40.0)
    fitted = geometry.similarity_transform(src, geometry.apply(true, src))
    np.testing.assert_allclose(fitted, true, atol=1e-9)
    np.testing.assert_allclose(
        geometry.apply(geometry.invert(true), geometry.apply(true, src)), src, atol=1e-9
    )


def test_procrustes_never_reflects_and_rejects_degenerate_input():
    src = np.random.default_rng(2).uniform(0, 1, (10, 2))
    mirrored = src * np.array([-1.0, 1.0])
    assert np.linalg.det(geometry.similarity_transform(src, mirrored)[:, :2]) > 0
    with pytest.raises(ValueError, match="one place"):
        geometry.similarity_transform(np.ones((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="N >= 2"):
        geometry.similarity_transform(np.zeros((1, 2)), np.zeros((1, 2)))


def test_crop_source_round_trip_within_half_a_pixel(backend, grace_hopper):
    face = backend.detect(grace_hopper)[0]
    aligned = align_face(grace_hopper, face.landmarks, size=128)
    assert aligned.image.shape == (128, 128, 3) and aligned.image.dtype == np.uint8
    assert aligned.landmarks.dtype == np.float32
    back = aligned.to_source(aligned.landmarks)
    np.testing.assert_allclose(back, face.landmarks, atol=0.5)
    grid = np.stack(np.meshgrid(np.arange(0, 128, 7), np.arange(0, 128, 7)), -1).reshape(-1, 2).astype(float)
    np.testing.assert_allclose(geometry.apply(aligned.matrix, aligned.to_source(grid)), grid, atol=0.5)


def test_crop_shows_the_face_where_the_template_says(backend, grace_hopper, astronaut):
    for image in (grace_hopper, astronaut):
        face = backend.detect(image)[0]
        aligned = align_face(image, face.landmarks, size=128)
        template = DEFAULT_TEMPLATE.points(128)
        assert np.abs(aligned.landmarks[lm.RIGID] - template[lm.RIGID]).mean() < 3.0
        # Detecting again on the crop finds the landmarks where the transform put them.
        again = backend.detect(aligned.image)
        assert again, "the aligned crop must still look like a face to dlib"
        err = np.abs(again[0].landmarks - aligned.landmarks).mean()
        assert err < 0.06 * lm.inter_ocular(aligned.landmarks)


def test_alignment_undoes_rotation_and_scale(backend, grace_hopper):
    import cv2

    face = backend.detect(grace_hopper)[0]
    base = align_face(grace_hopper, face.landmarks, size=96)
    turn = _similarity(12.0, 0.8, 60.0, -20.0)
    warped = cv2.warpAffine(grace_hopper, turn, (560, 520), borderMode=cv2.BORDER_REPLICATE)
    moved = align_face(warped, geometry.apply(turn, face.landmarks), size=96)
    np.testing.assert_allclose(moved.landmarks, base.landmarks, atol=1e-3)
    diff = np.abs(moved.image.astype(int) - base.image.astype(int))
    assert np.median(diff) <= 8


def test_bad_alignment_input():
    with pytest.raises(ValueError, match=r"\[68, 2\]"):
        align_face(np.zeros((50, 50, 3), np.uint8), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        align_face(np.zeros((50, 50, 3), np.uint8), np.full((68, 2), np.nan))
    with pytest.raises(ValueError, match="uint8"):
        align_face(np.zeros((50, 50), np.uint8), np.zeros((68, 2)))
