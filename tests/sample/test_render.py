from dataclasses import replace

import numpy as np
import pytest

from fercl_cli.faces.landmarks import eye_centres, inter_ocular
from fercl_cli.sample.expressions import mouth_opening
from fercl_cli.sample.motion import NEUTRAL_STATE
from fercl_cli.sample.portrait import (
    MASTER_EYES,
    MASTER_IOD,
    blend_portraits,
    mirrored,
    portrait_from_photo,
    to_master,
)
from fercl_cli.sample.render import View, render

VIEW = View(width=224, height=224, iod=50.0, eye_x=112.0, eye_y=98.0)


@pytest.fixture(scope="module")
def astronaut(backend):
    from skimage import data

    image = data.astronaut()
    return portrait_from_photo(image, backend.detect(image)[0].landmarks)


def _detected(backend, image):
    faces = backend.detect(image)
    assert faces, "no face detected in a rendered frame"
    return faces[0].landmarks.astype(np.float64)


def test_portrait_puts_the_eyes_at_the_master_position(astronaut):
    right, left = eye_centres(to_master(astronaut.landmarks))
    np.testing.assert_allclose((right + left) / 2, MASTER_EYES, atol=1.0)
    assert inter_ocular(to_master(astronaut.landmarks)) == pytest.approx(MASTER_IOD, rel=0.03)
    assert mouth_opening(astronaut.landmarks) == pytest.approx(0.0, abs=1e-9)  # the smile is closed


def test_neutral_render_places_the_face_where_the_view_says(astronaut):
    shown = render(astronaut, NEUTRAL_STATE, VIEW)
    assert shown.image.shape == (224, 224, 3) and shown.image.dtype == np.uint8
    assert shown.landmarks.shape == (68, 2) and shown.landmarks.dtype == np.float32
    right, left = eye_centres(shown.landmarks)
    np.testing.assert_allclose((right + left) / 2, [112, 98], atol=1.0)


@pytest.mark.parametrize("expression", ["neutral", "happy", "surprise", "anger"])
def test_ground_truth_landmarks_match_what_dlib_finds(astronaut, backend, expression):
    state = replace(NEUTRAL_STATE, expression=expression, intensity=0.0 if expression == "neutral" else 1.0)
    shown = render(astronaut, state, VIEW)
    found = _detected(backend, shown.image)
    error = np.linalg.norm(found - shown.landmarks, axis=1).mean() / inter_ocular(shown.landmarks)
    assert error < 0.1


def test_detected_mouth_opening_grows_with_surprise_intensity(astronaut, backend):
    levels = [0.0, 0.25, 0.5, 0.75, 1.0]
    opening = []
    for level in levels:
        shown = render(astronaut, replace(NEUTRAL_STATE, expression="surprise", intensity=level), VIEW)
        found = _detected(backend, shown.image)
        opening.append(mouth_opening(found) / inter_ocular(found))
    assert np.corrcoef(levels, opening)[0, 1] > 0.95
    assert opening[-1] > opening[0] + 0.15


def test_detected_mouth_corners_rise_with_happiness_and_brows_fall_with_anger(astronaut, backend):
    def detected(expression):
        state = replace(
            NEUTRAL_STATE, expression=expression, intensity=0.0 if expression == "neutral" else 1.0
        )
        found = _detected(backend, render(astronaut, state, VIEW).image)
        return found, inter_ocular(found)

    neutral, iod = detected("neutral")
    happy, _ = detected("happy")
    anger, _ = detected("anger")
    assert (neutral[[48, 54], 1].mean() - happy[[48, 54], 1].mean()) / iod > 0.05
    assert (anger[[20, 21, 22, 23], 1].mean() - neutral[[20, 21, 22, 23], 1].mean()) / iod > 0.03


def test_head_pose_moves_the_ground_truth_landmarks(astronaut):
    still = render(astronaut, NEUTRAL_STATE, VIEW).landmarks
    turned = render(astronaut, replace(NEUTRAL_STATE, yaw=12.0), VIEW).landmarks
    rolled = render(astronaut, replace(NEUTRAL_STATE, roll=10.0), VIEW).landmarks
    assert turned[30, 0] - still[30, 0] > 0.2 * 50  # the nose tip swings right
    right, left = eye_centres(rolled)
    assert np.degrees(np.arctan2(-(left - right)[1], (left - right)[0])) == pytest.approx(10.0, abs=1.5)


def test_mirroring_twice_and_blending(astronaut):
    twice = mirrored(mirrored(astronaut))
    np.testing.assert_array_equal(twice.image, astronaut.image)
    np.testing.assert_allclose(twice.landmarks, astronaut.landmarks)
    other = mirrored(astronaut)
    blend = blend_portraits(astronaut, other, 0.7)
    assert blend.image.shape == astronaut.image.shape
    # The donor is mirrored back when that matches the host's turn, so the mean shape is the host's own.
    np.testing.assert_allclose(blend.landmarks, astronaut.landmarks, atol=1e-9)
    with pytest.raises(ValueError, match="weight"):
        blend_portraits(astronaut, other, 1.0)
