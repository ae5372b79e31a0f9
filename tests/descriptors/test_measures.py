import numpy as np

from fercl_cli.descriptors.measures import MEASURES, expression_measures, face_frame
from fercl_cli.faces import geometry
from fercl_cli.faces.template import MEAN_SHAPE


def _measure(landmarks, name):
    return expression_measures(landmarks[None])[0, MEASURES.index(name)]


def test_face_frame_puts_the_eyes_at_minus_and_plus_half():
    turned = geometry.apply(np.array([[0.0, -50.0, 100.0], [50.0, 0.0, 20.0]]), MEAN_SHAPE)  # 90°, ×50
    frame = face_frame(turned[None])[0]
    np.testing.assert_allclose(frame, face_frame(MEAN_SHAPE[None])[0], atol=1e-9)
    np.testing.assert_allclose(frame, MEAN_SHAPE, atol=2e-3)  # the template's eyes sit at (∓0.5, 0)
    np.testing.assert_allclose(
        expression_measures(turned[None]), expression_measures(MEAN_SHAPE[None]), atol=1e-6
    )


def test_measures_move_with_the_expression_they_name():
    neutral = MEAN_SHAPE.copy()
    opened = neutral.copy()
    opened[[56, 57, 58, 65, 66, 67], 1] += 0.2
    assert _measure(opened, "mouth_open") > _measure(neutral, "mouth_open") + 0.15
    smile = neutral.copy()
    smile[[48, 54], 1] -= 0.1
    smile[48, 0] -= 0.05
    smile[54, 0] += 0.05
    assert _measure(smile, "mouth_corners") < _measure(neutral, "mouth_corners") - 0.09
    assert _measure(smile, "mouth_width") > _measure(neutral, "mouth_width")
    surprised = neutral.copy()
    surprised[17:27, 1] -= 0.1
    surprised[[37, 38, 43, 44], 1] -= 0.03
    assert _measure(surprised, "right_brow_raise") > _measure(neutral, "right_brow_raise") + 0.05
    assert _measure(surprised, "left_eye_open") > _measure(neutral, "left_eye_open")
    frown = neutral.copy()
    frown[21, 0] += 0.05
    frown[22, 0] -= 0.05
    assert _measure(frown, "brow_gap") < _measure(neutral, "brow_gap") - 0.09
    assert len(MEASURES) == expression_measures(neutral[None]).shape[1] == 11
