import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision import models

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.backbones import builtin_hash, infer_resnet_arch, resolve_backbone
from fercl_cli.train import checkpoint
from tests.evaluate.data import make_checkpoint


def _same_weights(module: torch.nn.Module, state: dict[str, torch.Tensor]) -> bool:
    own = module.state_dict()
    return own.keys() == state.keys() and all(torch.equal(own[k], state[k]) for k in own)


def test_a_run_directory_loads_its_backbone_and_hashes_the_file(tmp_path: Path):
    run = make_checkpoint(tmp_path / "run", seed=3)
    backbone = resolve_backbone(str(run))
    assert (backbone.kind, backbone.arch, backbone.feature_dim) == ("fercl", "resnet18", 512)
    assert backbone.path == run / "last.pt"
    assert backbone.hash == "sha256:" + hashlib.sha256((run / "last.pt").read_bytes()).hexdigest()
    saved = checkpoint.load(run)["model"]
    expected = {k.removeprefix("backbone."): v for k, v in saved.items() if k.startswith("backbone.")}
    assert _same_weights(backbone.module, expected)
    assert not backbone.module.training
    assert backbone.config["arch"] == "resnet18"
    assert backbone.module(torch.zeros(2, 3, 32, 32)).shape == (2, 512)


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path: Path):
    run = make_checkpoint(tmp_path / "run")
    with pytest.raises(FerclError, match="is a resnet18 backbone, not the resnet50 asked for with --arch"):
        resolve_backbone(str(run / "last.pt"), arch="resnet50")


def test_missing_and_foreign_checkpoints_are_explained(tmp_path: Path):
    with pytest.raises(FerclError, match="checkpoint not found"):
        resolve_backbone(str(tmp_path / "nowhere"))
    checkpoint.save(tmp_path / "odd.pt", {"model": {"head.0.weight": torch.zeros(2, 2)}, "config": {}})
    with pytest.raises(FerclError, match="holds no backbone weights"):
        resolve_backbone(str(tmp_path / "odd.pt"))


@pytest.mark.parametrize("prefix", ["torchvision:", "imagenet:"])
def test_torchvision_weights_infer_the_architecture_and_drop_fc(tmp_path: Path, prefix):
    torch.manual_seed(0)
    state = models.resnet18(weights=None).state_dict()
    torch.save(state, tmp_path / "resnet18.pth")
    backbone = resolve_backbone(f"{prefix}{tmp_path / 'resnet18.pth'}")
    assert (backbone.kind, backbone.arch) == ("torchvision", "resnet18")
    assert _same_weights(backbone.module, {k: v for k, v in state.items() if not k.startswith("fc.")})
    assert backbone.hash.startswith("sha256:")
    with pytest.raises(FerclError, match="the weights are a resnet18, not the resnet50"):
        resolve_backbone(f"{prefix}{tmp_path / 'resnet18.pth'}", arch="resnet50")


def test_imagenet_bad_files_are_explained(tmp_path: Path):
    with pytest.raises(FerclError, match="fercl never downloads weights"):
        resolve_backbone(f"imagenet:{tmp_path / 'absent.pth'}")
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(FerclError, match="not a torchvision resnet18 or resnet50 state dict"):
        resolve_backbone(f"imagenet:{tmp_path / 'other.pth'}")
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(FerclError, match="not a readable torch state-dict file"):
        resolve_backbone(f"imagenet:{tmp_path / 'text.pth'}")


def test_random_is_seeded_and_named_by_arch_and_seed():
    a, b = resolve_backbone("random", arch="resnet18"), resolve_backbone("random", arch="resnet18")
    assert a.hash == "random-bn512:resnet18:0" and a.kind == "random" and a.path is None
    assert a.bn_calibration == {"images_at_most": 512, "split": "train"}
    raw = resolve_backbone("random-raw", arch="resnet18")
    assert raw.hash == "random:resnet18:0" and raw.kind == "random" and raw.bn_calibration is None
    assert _same_weights(a.module, b.module.state_dict()) and _same_weights(raw.module, a.module.state_dict())
    other = resolve_backbone("random", arch="resnet18", seed=1)
    assert not torch.equal(other.module.conv1.weight, a.module.conv1.weight)
    with pytest.raises(
        FerclError,
        match=r"--checkpoint random needs --arch \(one of resnet18, resnet50, resnet18-cifar, smallcnn\)",
    ):
        resolve_backbone("random")
    with pytest.raises(FerclError, match="--arch must be one of"):
        resolve_backbone("random", arch="vgg16")


def test_pixels_are_the_image_average_pooled_to_16_by_16_per_channel():
    pixels = resolve_backbone("pixels", arch="smallcnn")  # arch is ignored: there is no network
    assert (pixels.kind, pixels.arch, pixels.feature_dim, pixels.path) == ("pixels", "pixels", 768, None)
    assert pixels.hash == builtin_hash("pixels", None) == "pixels:16"
    images = torch.rand(2, 3, 64, 64)
    features = pixels.module(images)
    assert features.shape == (2, 768)
    # the slow way: channel c, block (i, j) of 4×4 pixels
    expected = images.reshape(2, 3, 16, 4, 16, 4).mean(dim=(3, 5)).reshape(2, -1)
    torch.testing.assert_close(features, expected)
    assert builtin_hash("random", "smallcnn") == "random-bn512:smallcnn:0"
    assert builtin_hash("runs/demo", "smallcnn") is None


def test_infer_resnet_arch_from_keys_and_shapes():
    assert infer_resnet_arch(models.resnet50(weights=None).state_dict()) == "resnet50"
    wrapped = {f"module.{k}": v for k, v in models.resnet18(weights=None).state_dict().items()}
    assert infer_resnet_arch(wrapped) == "resnet18"
    assert infer_resnet_arch({"conv1.weight": torch.zeros(1)}) is None


def _slow_batchnorm_statistics(module, batch):
    """Reference: each BatchNorm layer's input mean and unbiased variance over the whole batch, from
    forward hooks on the raw-statistics network (one pass, eval mode changes nothing before the layer)."""
    stats = {}

    def hook(name):
        def record(layer, inputs, output):
            x = inputs[0].double()
            stats[name] = (x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=True))

        return record

    handles = [
        m.register_forward_hook(hook(n))
        for n, m in module.named_modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ]
    module.train()
    with torch.no_grad():
        module(batch)
    for h in handles:
        h.remove()
    return stats


def test_batchnorm_calibration_matches_the_statistics_of_its_images_and_keeps_weights():
    from fercl_cli.evaluate.calibrate import calibrate_batchnorm, calibration_rows
    from fercl_cli.evaluate.features import clean_inputs

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 40, 40, 3), dtype=np.uint8)
    rows = calibration_rows(np.arange(2, 10), limit=6)
    assert rows.tolist() == [2, 3, 5, 6, 8, 9]
    backbone = resolve_backbone("random", arch="resnet18")
    weights = {k: v.clone() for k, v in backbone.module.state_dict().items() if "running" not in k}
    used = calibrate_batchnorm(backbone.module, images, rows, input_size=32, batch_size=64)
    assert used == 6 and not backbone.module.training
    reference = resolve_backbone("random", arch="resnet18").module
    expected = _slow_batchnorm_statistics(reference, clean_inputs(images[rows], 32, "cpu"))
    for name, layer in backbone.module.named_modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            mean, var = expected[name]
            torch.testing.assert_close(layer.running_mean.double(), mean, rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(layer.running_var.double(), var, rtol=1e-3, atol=1e-5)
            assert layer.momentum == 0.1
    now = backbone.module.state_dict()
    assert all(torch.equal(now[k], v) for k, v in weights.items() if "num_batches" not in k)
    raw = resolve_backbone("random-raw", arch="resnet18").module
    assert torch.equal(raw.bn1.running_var, torch.ones_like(raw.bn1.running_var))
    assert not torch.allclose(backbone.module.bn1.running_var, raw.bn1.running_var)


@pytest.mark.parametrize("arch", ["smallcnn", "resnet18-cifar"])
def test_random_and_fercl_checkpoints_of_the_small_archs(arch, tmp_path: Path):
    from fercl_cli.evaluate.calibrate import calibrate_batchnorm

    floor = resolve_backbone("random", arch=arch)
    assert (floor.arch, floor.kind, floor.hash) == (arch, "random", f"random-bn512:{arch}:0")
    assert floor.module(torch.rand(2, 3, 32, 32)).shape == (2, floor.feature_dim)
    images = np.random.default_rng(0).integers(0, 256, (6, 37, 37, 3), dtype=np.uint8)
    before = floor.module.state_dict()
    before = {k: v.clone() for k, v in before.items()}
    assert calibrate_batchnorm(floor.module, images, np.arange(6), input_size=32, batch_size=4) == 6
    after = floor.module.state_dict()
    assert not torch.equal(after[_first_running_mean(after)], before[_first_running_mean(after)])
    run = make_checkpoint(tmp_path / "run", arch=arch, seed=2)
    backbone = resolve_backbone(str(run))
    assert (backbone.kind, backbone.arch, backbone.feature_dim) == ("fercl", arch, floor.feature_dim)
    saved = checkpoint.load(run)["model"]
    assert _same_weights(
        backbone.module,
        {k.removeprefix("backbone."): v for k, v in saved.items() if k.startswith("backbone.")},
    )


def _first_running_mean(state) -> str:
    return next(k for k in state if k.endswith("running_mean"))


def test_a_small_arch_checkpoint_is_not_taken_for_a_torchvision_resnet(tmp_path: Path):
    from fercl_cli.evaluate.resnet_names import infer_arch

    cifar = models.resnet18(weights=None).state_dict()
    cifar["conv1.weight"] = torch.zeros(64, 3, 3, 3)
    assert infer_resnet_arch(cifar) is None and infer_arch(cifar) == "resnet18-cifar"
    torch.save(cifar, tmp_path / "cifar.pth")
    with pytest.raises(FerclError, match="not a torchvision resnet18 or resnet50 state dict"):
        resolve_backbone(f"torchvision:{tmp_path / 'cifar.pth'}")


def test_bad_arch_names_are_one_line_listing_the_valid_ones():
    from fercl_cli.evaluate.request import EvaluateRequest
    from fercl_cli.train.config import resolve

    message = "--arch must be one of resnet18, resnet50, resnet18-cifar, smallcnn, got 'vgg16'"
    for call in (
        lambda: resolve_backbone("random", arch="vgg16"),
        lambda: EvaluateRequest("affectnet", "random", Path("."), arch="vgg16").check(),
        lambda: resolve({}, {"store": "s.h5", "out": "o", "arch": "vgg16"}),
    ):
        with pytest.raises(FerclError) as error:
            call()
        assert str(error.value) == message


def test_expected_hash_is_the_hash_evaluation_records_without_loading(tmp_path: Path):
    from fercl_cli.evaluate.backbones import expected_hash

    run = make_checkpoint(tmp_path / "run")
    loaded = resolve_backbone(str(run)).hash
    assert expected_hash(str(run), None) == loaded == expected_hash(str(run / "last.pt"), "resnet18")
    torch.save(models.resnet18(weights=None).state_dict(), tmp_path / "r18.pth")
    assert (
        expected_hash(f"torchvision:{tmp_path / 'r18.pth'}", None)
        == resolve_backbone(f"torchvision:{tmp_path / 'r18.pth'}").hash
    )
    assert expected_hash("random", "resnet18") == "random-bn512:resnet18:0"
    assert expected_hash("random-raw", "smallcnn", seed=2) == "random:smallcnn:2"
    assert expected_hash("pixels", None).startswith("pixels:")
