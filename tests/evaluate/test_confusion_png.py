from pathlib import Path

import cv2
import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.confusion_png import CELL, render_confusion, write_confusion_png


def test_cells_are_shaded_by_row_rate(tmp_path: Path):
    matrix = np.array([[9, 1], [0, 5]])
    picture = render_confusion(matrix, ["Neutral", "Happy"], "test")
    assert picture.dtype == np.uint8 and picture.ndim == 3
    path = write_confusion_png(tmp_path / "cm.png", matrix, ["Neutral", "Happy"], "AffectNet linear")
    on_disk = cv2.imread(str(path))
    assert on_disk is not None and on_disk.shape[0] > 2 * CELL
    full = np.all(on_disk == (150, 40, 0), axis=2)  # the BGR shade of a rate of 1 (Happy → Happy)
    assert full.sum() >= (CELL - 2) ** 2 - 400  # one cell, less the text drawn on it
    halves = render_confusion(np.array([[1, 1], [1, 1]]), ["a", "b"], "t")
    assert not np.all(halves == (150, 40, 0), axis=2).any()


def test_bad_shapes_and_names_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="must be \\[2, 2\\]"):
        render_confusion(np.zeros((3, 3)), ["a", "b"], "t")
    with pytest.raises(FerclError, match="ending in .png"):
        write_confusion_png(tmp_path / "cm.jpg", np.eye(2), ["a", "b"], "t")
