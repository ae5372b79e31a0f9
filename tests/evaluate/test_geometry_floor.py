"""The landmark-geometry floor: offsets from the template, measured in inter-ocular distances."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fercl_cli.evaluate.features import clean_inputs
from fercl_cli.evaluate.geometry_floor import (
    FEATURE_DIM,
    LandmarkGeometry,
    crop_template,
    geometry_features,
    template_box,
)
from fercl_cli.faces.template import DEFAULT_TEMPLATE
from fercl_cli.faces.types import Face


def test_geometry_features_against_a_slow_reference():
    rng = np.random.default_rng(0)
    template = crop_template(56)
    landmarks = template[None] + rng.normal(0, 2, (3, 68, 2))
    features = geometry_features(landmarks, template)
    iod = np.hypot(*(template[45] - template[36]))
    for b in range(3):
        for k in range(68):
            for axis in range(2):
                expected = (landmarks[b, k, axis] - template[k, axis]) / iod
                assert features[b, 2 * k + axis] == pytest.approx(expected, abs=1e-6)
    assert features.shape == (3, FEATURE_DIM) and features.dtype == np.float32


def test_the_template_follows_the_centre_crop_of_the_stored_crop():
    # input 56 px is the centre of a 64 px stored crop (the paper's 112 of 128): 4 px off each side
    np.testing.assert_allclose(crop_template(56), DEFAULT_TEMPLATE.points(64) - 4)
    box = template_box(crop_template(56))
    assert 0 <= box[0] < box[2] <= 56 and 0 <= box[1] < box[3] <= 56


class _Backend:
    """Returns the template shifted by one pixel right, and records the images it was given."""

    def __init__(self) -> None:
        self.images: list[np.ndarray] = []

    def refit(self, image: np.ndarray, box: np.ndarray) -> Face:
        self.images.append(image)
        points = crop_template(image.shape[0]) + np.array([1.0, 0.0])
        return Face(
            box=np.asarray(box, np.float32),
            landmarks=points.astype(np.float32),
            score=0.0,
            detector="tracked",
        )


def test_the_module_sees_the_uint8_crop_and_returns_the_offsets():
    rng = np.random.default_rng(1)
    crops = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    backend = _Backend()
    features = LandmarkGeometry(backend)(clean_inputs(crops, 56, "cpu"))
    assert features.shape == (2, FEATURE_DIM) and features.dtype == torch.float32
    np.testing.assert_array_equal(backend.images[0], crops[0, 4:60, 4:60])  # the centre crop, undone exactly
    template = crop_template(56)
    iod = np.hypot(*(template[45] - template[36]))
    np.testing.assert_allclose(features[:, 0::2].numpy(), 1 / iod, rtol=1e-5)
    np.testing.assert_allclose(features[:, 1::2].numpy(), 0, atol=1e-6)
    with pytest.raises(ValueError, match=r"images must be float \[B, 3, H, H\]"):
        LandmarkGeometry(backend)(torch.zeros(2, 3, 8, 9))
