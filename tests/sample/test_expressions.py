import numpy as np
import pytest

from fercl_cli.faces.landmarks import MIRROR
from fercl_cli.faces.template import MEAN_SHAPE
from fercl_cli.sample.expressions import (
    AFFECTNET_CODE,
    EXPRESSIONS,
    FER2013_CODE,
    displacement,
    mouth_opening,
    neutral_rest,
    speech_displacement,
    valence_arousal,
)


def test_codes_follow_affectnet_and_fer2013():
    assert [AFFECTNET_CODE[e] for e in EXPRESSIONS] == list(range(8))
    assert AFFECTNET_CODE["contempt"] == 7 and AFFECTNET_CODE["anger"] == 6
    assert FER2013_CODE == {
        "anger": 0, "disgust": 1, "fear": 2, "happy": 3, "sad": 4, "surprise": 5, "neutral": 6
    }  # fmt: skip


def test_displacement_scales_with_intensity_and_neutral_is_rest():
    assert not displacement("neutral", 1.0).any()
    full = displacement("happy", 1.0)
    assert full.shape == (68, 2)
    np.testing.assert_allclose(displacement("happy", 0.5), 0.5 * full)
    with pytest.raises(ValueError, match="unknown expression"):
        displacement("bored", 1.0)
    with pytest.raises(ValueError, match="intensity"):
        displacement("happy", 1.5)


@pytest.mark.parametrize("expression", [e for e in EXPRESSIONS if e != "contempt"])
def test_symmetric_expressions_are_mirror_symmetric(expression):
    d = displacement(expression, 1.0)
    mirrored = d[MIRROR] * np.array([-1.0, 1.0])
    np.testing.assert_allclose(mirrored, d, atol=1e-12)


def test_contempt_is_one_sided():
    d = displacement("contempt", 1.0)
    assert np.abs(d[54]).sum() > 0 and not d[48].any()


def test_expressions_move_the_parts_their_action_units_name():
    rest = neutral_rest(MEAN_SHAPE)

    def shape(e):
        return rest + displacement(e, 1.0)

    # surprise: jaw drop and raised brows; happy: corners up; sad: corners down; anger: brows down.
    assert mouth_opening(shape("surprise")) > mouth_opening(rest) + 0.3
    assert shape("surprise")[17:27, 1].mean() < rest[17:27, 1].mean() - 0.1
    assert shape("happy")[[48, 54], 1].mean() < rest[[48, 54], 1].mean() - 0.1
    assert shape("sad")[[48, 54], 1].mean() > rest[[48, 54], 1].mean() + 0.05
    assert shape("anger")[[21, 22], 1].mean() > rest[[21, 22], 1].mean() + 0.05


def test_valence_arousal_are_in_range_with_the_expected_signs():
    for e in EXPRESSIONS:
        v, a = valence_arousal(e, 1.0)
        assert -1 <= v <= 1 and -1 <= a <= 1
    assert valence_arousal("happy", 1.0)[0] > 0 > valence_arousal("sad", 1.0)[0]
    assert valence_arousal("anger", 1.0)[1] > 0 > valence_arousal("sad", 1.0)[1]
    assert valence_arousal("fear", 0.5) == pytest.approx(tuple(0.5 * x for x in valence_arousal("fear", 1.0)))
    assert valence_arousal("neutral", 0.0) == (0.0, 0.0)


def test_neutral_rest_closes_an_open_smile():
    smile = MEAN_SHAPE + displacement("happy", 1.0) + speech_displacement(0.2)
    assert mouth_opening(smile) > 0.2
    rest = neutral_rest(smile)
    assert mouth_opening(rest) == pytest.approx(0.0, abs=1e-9)
    lip_line = rest[[61, 62, 63], 1].mean()
    assert abs(rest[[48, 54], 1].mean() - lip_line) < 0.05  # corners levelled
    assert rest[54, 0] - rest[48, 0] <= 0.85 + 1e-9
    np.testing.assert_allclose(rest[17:48], smile[17:48])  # brows, nose and eyes kept


def test_speech_opens_the_mouth_by_its_amount():
    rest = neutral_rest(MEAN_SHAPE)
    assert mouth_opening(rest + speech_displacement(0.06)) - mouth_opening(rest) == pytest.approx(
        0.056, abs=0.003
    )
    with pytest.raises(ValueError):
        speech_displacement(-0.1)
