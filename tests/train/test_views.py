from dataclasses import replace

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from fercl_cli.train.views import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PART_NAMES,
    ViewConfig,
    apply_view,
    augment,
    colour_jitter,
    gaussian_blur,
    grayscale,
    paper_views,
    sample_params,
)

# Part centres (x, y) in a 128 px crop, as in an aligned face.
CENTRES = {"right_eye": (40.0, 50.0), "left_eye": (88.0, 50.0), "mouth": (64.0, 95.0)}
PLAIN = ViewConfig(size=128, flip_p=0, jitter_p=0, blur_p=0, gray_p=0, occlusion_p=1)


def _landmarks(batch, scale=1.0):
    lm = np.full((68, 2), 64.0)
    ring = np.stack(
        [
            np.cos(np.linspace(0, 2 * np.pi, 6, endpoint=False)),
            np.sin(np.linspace(0, 2 * np.pi, 6, endpoint=False)),
        ],
        1,
    )
    lm[36:42] = CENTRES["right_eye"] + ring * [8, 3]
    lm[42:48] = CENTRES["left_eye"] + ring * [8, 3]
    mouth = np.stack(
        [
            np.cos(np.linspace(0, 2 * np.pi, 20, endpoint=False)),
            np.sin(np.linspace(0, 2 * np.pi, 20, endpoint=False)),
        ],
        1,
    )
    lm[48:68] = CENTRES["mouth"] + mouth * [14, 6]
    lm = (lm + 0.5) * scale - 0.5
    return np.repeat(lm[None], batch, 0).astype(np.float32)


def _images(batch, size=128, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (batch, size, size, 3), dtype=np.uint8)


def _unnormalise(x):
    return x * torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)


def test_output_shape_dtype_and_size():
    view1, view2 = paper_views()
    out = augment(_images(3), _landmarks(3), view1, 0)
    assert out.shape == (3, 3, 112, 112) and out.dtype == torch.float32
    small = augment(_images(2), _landmarks(2), ViewConfig(size=96), 0)
    assert small.shape == (2, 3, 96, 96)
    assert augment(_images(2, size=64), _landmarks(2, 0.5), view2, 0).shape == (2, 3, 112, 112)
    assert paper_views(64, 80)[1].size == 64 and paper_views(64, 80)[1].input_size == 80


def test_deterministic_given_a_seed_or_generator_and_numpy_equals_tensor_input():
    images, lm = _images(4), _landmarks(4)
    view1, _ = paper_views()
    first = augment(images, lm, view1, 7)
    torch.testing.assert_close(augment(torch.from_numpy(images), torch.from_numpy(lm), view1, 7), first)
    assert not torch.allclose(augment(images, lm, view1, 8), first)
    g = torch.Generator().manual_seed(7)
    torch.testing.assert_close(augment(images, lm, view1, g), first)
    assert not torch.allclose(augment(images, lm, view1, g), first)  # the generator moved on


@pytest.mark.parametrize("part", range(3))
def test_occlusion_covers_the_requested_part_with_the_mean_colour(part):
    images, lm = _images(2, seed=part), _landmarks(2)
    params = replace(sample_params(2, PLAIN, 0), part=torch.full((2,), part))
    out = _unnormalise(apply_view(images, lm, params, PLAIN))
    original = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    fill = original.mean(dim=(2, 3))
    for name, (cx, cy) in CENTRES.items():
        patch = (slice(None), slice(None), slice(int(cy) - 2, int(cy) + 3), slice(int(cx) - 4, int(cx) + 5))
        if name == PART_NAMES[part]:
            torch.testing.assert_close(
                out[patch], fill[:, :, None, None].expand_as(out[patch]), atol=1e-5, rtol=0
            )
        else:
            torch.testing.assert_close(out[patch], original[patch], atol=1e-5, rtol=0)
    changed = (out - original).abs().amax(dim=1) > 1e-4
    # The ellipse spans the part's landmark box widened by 10/224 of the crop on every side.
    margin = 128 * 10 / 224
    half = {"right_eye": (8, 3), "left_eye": (8, 3), "mouth": (14, 6)}[PART_NAMES[part]]
    area = np.pi * (half[0] + margin) * (half[1] * np.sin(np.pi / 3 if part < 2 else np.pi / 2) + margin)
    assert changed.sum(dim=(1, 2)).float().div(area).sub(1).abs().max() < 0.15


def test_occlusion_moves_with_crop_and_flip():
    images, lm = _images(3), _landmarks(3)
    cropped = replace(PLAIN, size=112)
    params = replace(
        sample_params(3, cropped, 1), crop_y=torch.tensor([0, 5, 16]), crop_x=torch.tensor([16, 3, 0])
    )
    full = apply_view(
        images,
        lm,
        replace(params, crop_y=torch.zeros(3, dtype=torch.long), crop_x=torch.zeros(3, dtype=torch.long)),
        PLAIN,
    )
    out = apply_view(images, lm, params, cropped)
    for i in range(3):
        y, x = int(params.crop_y[i]), int(params.crop_x[i])
        torch.testing.assert_close(out[i], full[i, :, y : y + 112, x : x + 112])
    flipped = apply_view(images, lm, replace(params, flip=torch.ones(3, dtype=torch.bool)), cropped)
    torch.testing.assert_close(flipped, out.flip(-1))


def test_missing_landmarks_mean_no_occlusion():
    images, lm = _images(2), _landmarks(2)
    lm[0] = np.nan
    out = _unnormalise(apply_view(images, lm, sample_params(2, PLAIN, 0), PLAIN))
    original = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    torch.testing.assert_close(out[0], original[0], atol=1e-5, rtol=0)
    assert not torch.allclose(out[1], original[1], atol=1e-3)


def test_parameter_probabilities_and_ranges():
    view1, view2 = paper_views()
    n = 4000
    p1, p2 = sample_params(n, view1, 0), sample_params(n, view2, 1)
    assert p1.jitter.all()
    for value, expected in [
        (p2.jitter, 0.8),
        (p1.occlude, 0.8),
        (p1.flip, 0.5),
        (p1.blur, 0.5),
        (p1.gray, 0.2),
    ]:
        assert abs(value.float().mean().item() - expected) < 0.03
    assert (torch.bincount(p1.part, minlength=3).float() / n - 1 / 3).abs().max() < 0.03
    assert p1.crop_y.min() == 0 and p1.crop_y.max() == 16 and p1.crop_x.max() == 16
    assert p1.sigma.min() >= 0.1 and p1.sigma.max() <= 2.0
    low, high = torch.tensor([0.6, 0.6, 0.6, -0.2]), torch.tensor([1.4, 1.4, 1.4, 0.2])
    assert ((p1.jitter_factors >= low) & (p1.jitter_factors <= high)).all()
    assert (p1.jitter_order.sort(dim=1).values == torch.arange(4)).all()


@pytest.mark.parametrize(("config", "always"), [(paper_views(8, 8)[0], True), (paper_views(8, 8)[1], False)])
def test_view_one_is_always_jittered_and_view_two_mostly(config, always):
    config = replace(config, flip_p=0, blur_p=0, gray_p=0, occlusion_p=0)
    images = _images(300, size=8, seed=3)
    lm = np.zeros((300, 68, 2), np.float32)
    params = sample_params(300, config, 4)
    jittered = apply_view(images, lm, params, config)
    plain = apply_view(images, lm, replace(params, jitter=torch.zeros(300, dtype=torch.bool)), config)
    changed = (jittered - plain).abs().amax(dim=(1, 2, 3)) > 1e-3
    assert changed.tolist() == params.jitter.tolist()
    assert changed.all() if always else 0.7 < changed.float().mean() < 0.9


def test_batched_colour_ops_equal_torchvision_per_image():
    x = torch.rand(6, 3, 10, 10, generator=torch.Generator().manual_seed(0))
    factors = torch.tensor([[0.6, 1.3, 0.7, -0.2], [1.4, 0.6, 1.4, 0.2], [1.0, 1.0, 1.0, 0.0]]).repeat(2, 1)
    ops = [TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue]
    for op in range(4):
        order = torch.full((6, 4), -1)
        order[:, 0] = op
        expected = torch.stack([ops[op](x[i], float(factors[i, op])) for i in range(6)])
        torch.testing.assert_close(colour_jitter(x, factors, order), expected, atol=1e-5, rtol=0)
    order = torch.stack([torch.randperm(4, generator=torch.Generator().manual_seed(i)) for i in range(6)])
    expected = []
    for i in range(6):
        image = x[i]
        for op in order[i].tolist():
            image = ops[op](image, float(factors[i, op]))
        expected.append(image)
    torch.testing.assert_close(colour_jitter(x, factors, order), torch.stack(expected), atol=1e-5, rtol=0)
    torch.testing.assert_close(grayscale(x), TF.rgb_to_grayscale(x))


def test_batched_blur_equals_torchvision_per_image():
    x = torch.rand(4, 3, 9, 9, generator=torch.Generator().manual_seed(1))
    sigma = torch.tensor([0.1, 0.5, 1.0, 2.0])
    expected = torch.stack([TF.gaussian_blur(x[i], [3, 3], [float(sigma[i])] * 2) for i in range(4)])
    torch.testing.assert_close(gaussian_blur(x, sigma, 3), expected, atol=1e-6, rtol=0)


def test_bad_inputs_are_rejected():
    images, lm = _images(2), _landmarks(2)
    view1, _ = paper_views()
    with pytest.raises(ValueError, match="uint8"):
        augment(images.astype(np.float32), lm, view1, 0)
    with pytest.raises(ValueError, match="uint8"):
        augment(images.transpose(0, 3, 1, 2), lm, view1, 0)
    with pytest.raises(ValueError, match="landmarks"):
        augment(images, lm[:1], view1, 0)
    with pytest.raises(ValueError, match="params"):
        apply_view(images, lm, sample_params(3, view1, 0), view1)
    with pytest.raises(ValueError, match="probability"):
        ViewConfig(jitter_p=1.5)
    with pytest.raises(ValueError, match="input_size"):
        ViewConfig(size=130)
    with pytest.raises(ValueError, match="odd"):
        ViewConfig(blur_kernel=4)
    with pytest.raises(ValueError, match="hue"):
        ViewConfig(jitter=(0.4, 0.4, 0.4, 0.7))
