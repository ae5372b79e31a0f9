"""The colour correction's brow-band bleaching: a purpose-built case (a head with a light fringe, a face
source with thick dark brows under a dark hat), measured in both modes; the measure and the skin means."""

import cv2
import numpy as np
import pytest

from fercl_cli.faces.landmarks import inter_ocular
from fercl_cli.swap.bleach import PATCHY, bleached_fraction, brow_band
from fercl_cli.swap.colour import HIGHLIGHT, MAX_GAIN, correct_colours, local_mean, skin_weights
from fercl_cli.swap.face_swap import swap_face, swap_transform, warp_source
from tests.factories.portraits import aligned


def _light_fringe(image, landmarks):
    """A blond fringe painted down to just above the brows."""
    image = image.copy()
    top = int(landmarks[17:27, 1].min() - 0.12 * inter_ocular(landmarks))
    image[: max(top, 0)] = (235, 215, 170)
    return image


def _thick_brows(image, landmarks):
    image = image.copy()
    thickness = max(2, int(0.18 * inter_ocular(landmarks)))
    for brow in (range(17, 22), range(22, 27)):
        cv2.polylines(
            image, [np.round(landmarks[list(brow)]).astype(np.int32)], False, (25, 20, 18), thickness
        )
    return image


@pytest.mark.parametrize("dark_brows", [False, True])
def test_skin_correction_does_not_bleach_the_brow_band_where_the_paper_one_does(dark_brows):
    (astronaut, astronaut_lm), (hopper, hopper_lm) = aligned()
    head = _light_fringe(astronaut, astronaut_lm)
    face = _thick_brows(hopper, hopper_lm) if dark_brows else hopper  # Grace Hopper wears a dark cap
    source = warp_source(face, swap_transform(astronaut_lm, hopper_lm), head.shape[:2])
    paper = swap_face(head, astronaut_lm, face, hopper_lm, colour="paper")
    skin = swap_face(head, astronaut_lm, face, hopper_lm, colour="skin")
    assert bleached_fraction(paper.image, head, source, astronaut_lm) > PATCHY, "positive control"
    assert bleached_fraction(skin.image, head, source, astronaut_lm) < 0.2 * PATCHY


def test_bleached_fraction_counts_only_band_pixels_made_white():
    (head, lm), _ = aligned()
    band = brow_band(head.shape[:2], lm)
    assert 0.005 < band.mean() < 0.1
    rows, cols = np.nonzero(band)
    dim = np.full_like(head, 120)
    swapped = dim.copy()
    swapped[rows[::2], cols[::2]] = 250
    assert bleached_fraction(swapped, dim, dim, lm) == pytest.approx(len(rows[::2]) / len(rows))
    bright = dim.copy()
    bright[band] = 240  # already white in the head: not bleaching
    assert bleached_fraction(swapped, bright, dim, lm) == 0.0
    outside = dim.copy()
    outside[~band] = 255
    assert bleached_fraction(outside, dim, dim, lm) == 0.0


def test_skin_weights_keep_cheeks_and_nose_and_drop_brows_eyes_mouth_and_hair():
    (head, lm), _ = aligned()
    weights = skin_weights(head.shape[:2], lm)

    def at(point):
        x, y = np.round(point).astype(int)
        return weights[y, x]

    assert at(lm[30]) == 1 and at((lm[2] + lm[31]) / 2) == 1  # nose tip, a cheek
    for point in (lm[19], lm[24], lm[37:40].mean(0), lm[62], lm[66]):
        assert at(point) == 0
    assert weights[: int(lm[17:27, 1].min()) - 1].sum() == 0  # nothing above the brows


def test_local_mean_ignores_everything_outside_the_weights():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 96, 3)).astype(np.float32)
    weights = np.zeros((96, 96), np.float32)
    weights[30:70, 25:75] = 1
    image[weights == 1] = (180, 120, 90)
    mean = local_mean(image, weights, sigma=12.0)
    np.testing.assert_allclose(mean[20:80, 15:85], np.broadcast_to([180, 120, 90], (60, 70, 3)), atol=0.5)
    np.testing.assert_allclose(mean[0, 0], [180, 120, 90], atol=0.5)  # far away: the weighted mean
    with pytest.raises(ValueError, match="no skin"):
        local_mean(image, np.zeros_like(weights), 12.0)


def test_skin_gain_is_clamped():
    (head, head_lm), (face, face_lm) = aligned()
    matrix = swap_transform(head_lm, face_lm)
    source = warp_source((face // 4).astype(np.uint8), matrix, head.shape[:2])
    source_lm = face_lm @ matrix[:, :2].T + matrix[:, 2]
    bright = np.clip(head.astype(int) + 120, 0, 255).astype(np.uint8)
    corrected = correct_colours(bright, source, head_lm, source_lm)
    gain = corrected / np.maximum(source.astype(np.float32), 1)
    assert gain[source > 10].max() <= MAX_GAIN + 1e-4


def test_skin_correction_never_brightens_past_the_heads_skin_level():
    (_, lm), _ = aligned()
    head = np.full((128, 128, 3), 150, np.uint8)
    face = np.full((128, 128, 3), 100, np.uint8)
    x, y = np.round((lm[2] + lm[31]) / 2).astype(int)  # a cheek highlight in the face
    face[y - 2 : y + 3, x - 2 : x + 3] = 140
    corrected = correct_colours(head, face, lm, lm)
    np.testing.assert_allclose(corrected[y, x], HIGHLIGHT * 150, atol=1.0)  # not 140 × 1.5 = 210
    np.testing.assert_allclose(corrected[y + 10, x + 10], 150, atol=1.0)  # plain skin: the head's level
    with pytest.raises(ValueError, match="landmarks"):
        correct_colours(head, face, lm)
    with pytest.raises(ValueError, match="colour mode"):
        correct_colours(head, face, lm, lm, mode="lab")
