import numpy as np
import pytest

from fercl_cli.faces import geometry
from fercl_cli.faces.landmarks import JAW, SWAP_ALIGN_POINTS
from fercl_cli.swap.colour import blur_sigma, correct_colours
from fercl_cli.swap.face_swap import swap_face, swap_transform
from tests.factories.portraits import aligned, stretch

INNER = np.arange(17, 68)  # brows, nose, eyes, mouth


def _similarity(angle_deg, scale, tx, ty):
    a = np.deg2rad(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), tx], [scale * np.sin(a), scale * np.cos(a), ty]])


def test_procrustes_on_the_paper_points_recovers_a_known_similarity():
    _, face_lm = aligned()[0]
    true = _similarity(-12.0, 0.8, 20.0, -7.0)
    head_lm = geometry.apply(true, face_lm)
    head_lm[JAW] += np.random.default_rng(0).normal(0, 15, (len(JAW), 2))  # jaw is not used to align
    np.testing.assert_allclose(swap_transform(head_lm, face_lm), true, atol=1e-9)
    assert not np.isin(JAW, SWAP_ALIGN_POINTS).any()


def test_swapping_a_face_onto_itself_gives_it_back():
    image, lm = aligned()[1]
    result = swap_face(image, lm, image, lm)
    assert result.image.dtype == np.uint8 and result.image.shape == image.shape
    assert result.landmarks.dtype == np.float32 and result.landmarks.shape == (68, 2)
    assert result.mask.dtype == np.float32 and result.mask.min() >= 0 and result.mask.max() <= 1
    assert np.abs(result.image.astype(int) - image.astype(int)).mean() < 1.0
    np.testing.assert_allclose(result.landmarks, lm, atol=1e-3)


def test_mask_covers_the_inner_face_with_a_feathered_edge():
    (head, head_lm), (face, face_lm) = aligned()
    hard = swap_face(head, head_lm, face, face_lm, feather_px=0).mask
    soft = swap_face(head, head_lm, face, face_lm, feather_px=3).mask
    assert set(np.unique(hard)) == {0.0, 1.0}
    partial = (soft > 0.02) & (soft < 0.98)
    assert partial.sum() > 4 * (hard.shape[0] // 8)  # a band of intermediate weights along the edge
    for point in np.rint(head_lm[17:68]).astype(int):  # the head's brows, eyes, nose and mouth
        assert hard[point[1], point[0]] == 1.0
    for point in np.rint(head_lm[[0, 16]]).astype(int):  # the jaw's ends stay the head's
        assert soft[point[1], point[0]] < 0.05


def _err(a, b):
    return float(np.linalg.norm(a - b, axis=-1).mean())


def _swap_and_refit(backend, head, face):
    head_img, head_lm = stretch(*head, 0.9, 1.12)  # a longer face: its jaw is not where the source's is
    face_img, face_lm = face
    result = swap_face(head_img, head_lm, face_img, face_lm)
    source_in_head = geometry.apply(swap_transform(head_lm, face_lm), face_lm)
    assert _err(head_lm[INNER], source_in_head[INNER]) > 2.5  # the two configurations really differ
    assert _err(head_lm[JAW], source_in_head[JAW]) > 4.0
    np.testing.assert_allclose(result.landmarks[INNER], source_in_head[INNER], atol=1e-3)
    np.testing.assert_allclose(result.landmarks[JAW], head_lm[JAW], atol=1e-3)
    found = backend.detect(result.image)
    assert found, "dlib must still find a face in the swap"
    return found[0].landmarks, head_lm, source_in_head


def test_swap_keeps_the_source_configuration_inside_and_the_donor_outside(backend):
    astronaut, hopper = aligned()
    # dlib places the astronaut's clean features more precisely than Grace Hopper's (glasses, wrinkles),
    # so each side of the claim is checked where the re-fit is reliable.
    refit, head_lm, source = _swap_and_refit(backend, head=hopper, face=astronaut)
    assert _err(refit[INNER], source[INNER]) < 0.6 * _err(refit[INNER], head_lm[INNER])
    refit, head_lm, source = _swap_and_refit(backend, head=astronaut, face=hopper)
    assert _err(refit[JAW], head_lm[JAW]) < 0.6 * _err(refit[JAW], source[JAW])


def test_bright_images_saturate_instead_of_wrapping_around():
    import cv2

    (head, head_lm), (face, face_lm) = aligned()
    bright_head = np.clip(head.astype(int) // 4 + 200, 0, 255).astype(np.uint8)
    dim_face = (face // 2).astype(np.uint8)
    warped = cv2.warpAffine(
        dim_face, swap_transform(head_lm, face_lm), head.shape[1::-1], borderMode=cv2.BORDER_REFLECT
    )
    corrected = correct_colours(bright_head, warped, head_lm, mode="paper")  # unclamped gain
    result = swap_face(bright_head, head_lm, dim_face, face_lm, colour="paper")
    inside = result.mask > 0.999
    assert (corrected[inside] > 256).sum() > 20  # the overflow really happens inside the face
    np.testing.assert_allclose(result.image[inside], np.clip(corrected[inside], 0, 255), atol=1.0)


def test_colour_correction_takes_the_head_colour_cast_in_rgb_order():
    (head, head_lm), (face, face_lm) = aligned()
    red_head = head.copy()
    red_head[..., 0] = np.clip(red_head[..., 0].astype(int) + 70, 0, 255)
    red_head[..., 2] = red_head[..., 2] // 2
    result = swap_face(red_head, head_lm, face, face_lm)
    inside = result.mask > 0.9
    red, blue = result.image[inside][:, 0].mean(), result.image[inside][:, 2].mean()
    plain = swap_face(head, head_lm, face, face_lm).image[inside]
    assert red - blue > (plain[:, 0].mean() - plain[:, 2].mean()) + 40


def test_kernel_and_argument_checks():
    _, lm = aligned()[0]
    assert blur_sigma(lm) == pytest.approx(0.6 * np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0)))
    image = aligned()[0][0]
    with pytest.raises(ValueError, match="uint8"):
        swap_face(image.astype(np.float32), lm, image, lm)
    with pytest.raises(ValueError, match="finite"):
        swap_face(image, np.full((68, 2), np.nan), image, lm)
    with pytest.raises(ValueError, match="fraction"):
        swap_face(image, lm, image, lm, blur_fraction=0)
    with pytest.raises(ValueError, match="feather"):
        swap_face(image, lm, image, lm, feather_px=-1)
