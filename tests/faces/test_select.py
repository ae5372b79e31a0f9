import numpy as np
import pytest

from fercl_cli.faces.select import choose_face, iou
from fercl_cli.faces.types import Face


def _face(box, score):
    return Face(np.array(box, np.float32), score, np.zeros((68, 2), np.float32), "hog")


def test_iou_of_known_boxes():
    assert iou(np.array([0, 0, 10, 10]), np.array([5, 0, 15, 10])) == pytest.approx(50 / 150)
    assert iou(np.array([0, 0, 1, 1]), np.array([2, 2, 3, 3])) == 0.0


def test_rules():
    big_weak, small_strong, other = (
        _face([0, 0, 100, 100], 0.2),
        _face([200, 0, 250, 50], 1.5),
        _face([300, 300, 360, 360], 0.9),
    )
    faces = [big_weak, small_strong, other]
    assert choose_face(faces, "best") is small_strong
    assert choose_face(faces, "largest") is big_weak
    assert choose_face(faces, "track", previous_box=np.array([305, 305, 362, 362])) is other
    assert choose_face(faces, "track", previous_box=np.array([900, 900, 950, 950])) is small_strong
    assert choose_face(faces, "track") is small_strong
    assert choose_face([], "best") is None
    with pytest.raises(ValueError, match="best, largest, track"):
        choose_face(faces, "closest")
