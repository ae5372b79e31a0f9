import numpy as np
import pytest
import torch

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.features import (
    clean_inputs,
    extract_features,
    precision_name,
    resolve_device,
    stored_size,
)
from fercl_cli.train.views import IMAGENET_MEAN, IMAGENET_STD


def test_stored_size_keeps_the_pretraining_ratio():
    assert stored_size(112) == 128
    assert stored_size(32) == 37
    with pytest.raises(ValueError, match="at least 16"):
        stored_size(8)


def test_clean_inputs_centre_crop_and_imagenet_normalisation():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(2, 10, 10, 3), dtype=np.uint8)
    x = clean_inputs(batch, 6, "cpu")
    assert x.shape == (2, 3, 6, 6) and x.dtype == torch.float32
    expected = (batch[:, 2:8, 2:8].astype(np.float32) / 255 - IMAGENET_MEAN) / IMAGENET_STD
    np.testing.assert_allclose(x.permute(0, 2, 3, 1).numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match="larger than"):
        clean_inputs(batch, 12, "cpu")
    with pytest.raises(ValueError, match="uint8"):
        clean_inputs(batch.astype(np.float32), 6, "cpu")


def test_extract_features_matches_a_plain_forward_and_ignores_batch_size():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    images = np.random.default_rng(1).integers(0, 256, size=(7, 12, 12, 3), dtype=np.uint8)
    calls = []
    features = extract_features(
        module, images, input_size=8, batch_size=3, progress=lambda *a: calls.append(a)
    )
    assert features.shape == (7, 4) and features.dtype == np.float32
    with torch.no_grad():
        direct = module(clean_inputs(images, 8, "cpu")).numpy()
    np.testing.assert_allclose(features, direct, atol=1e-5)
    np.testing.assert_allclose(
        extract_features(module, images, input_size=8, batch_size=7), features, atol=1e-6
    )
    assert calls[0][1:] == (0, 7) and calls[-1][1:] == (7, 7)


def test_devices():
    assert resolve_device("cpu").type == "cpu"
    assert precision_name(resolve_device("cpu")) == "fp32"
    with pytest.raises(FerclError, match="--device must be one of"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(FerclError, match="no CUDA device"):
            resolve_device("cuda")
