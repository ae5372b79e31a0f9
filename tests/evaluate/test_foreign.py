"""--checkpoint with other libraries' files: each convention built the way that library saves it, from a
seeded torchvision ResNet whose weights the loaded backbone must equal."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision import models
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.errors import FerclError
from fercl_cli.evaluate.backbones import resolve_backbone
from tests.evaluate.data import INPUT_SIZE, make_fer2013_csv


def _resnet(arch: str = "resnet18", seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = getattr(models, arch)(weights=None)
    with torch.no_grad():  # running statistics that differ from a fresh module's
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(7)
    return model


def _backbone_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if not k.startswith("fc.")}


def _prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {prefix + k: v for k, v in state.items()}


def _other(model: nn.Module) -> dict[str, torch.Tensor]:
    """The same names with other values: a momentum/key encoder that must not be the one loaded."""
    return {k: v + 1 if v.is_floating_point() else v for k, v in _backbone_state(model).items()}


def _optimizer_state() -> dict:
    """What ``optimizer.state_dict()`` holds after a step (momentum buffers, parameter groups)."""
    layer = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    layer(torch.ones(3, 4)).sum().backward()
    optimizer.step()
    return optimizer.state_dict()


def _torchvision(model: nn.Module) -> object:
    return model.state_dict()  # fc included, as torchvision saves it


def _torchvision_old(model: nn.Module) -> object:
    """Weights files from before BatchNorm's num_batches_tracked counter."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def _data_parallel(model: nn.Module) -> object:
    return _prefixed("module.", model.state_dict())


def _solo_learn(model: nn.Module) -> object:
    state = {
        **_prefixed("backbone.", _backbone_state(model)),
        **_prefixed("momentum_backbone.", _other(model)),
        "projector.0.weight": torch.randn(2048, 512),
        "classifier.weight": torch.randn(10, 512),
        "classifier.bias": torch.zeros(10),
    }
    return {
        "epoch": 999,
        "global_step": 12345,
        "pytorch-lightning_version": "2.1.0",
        "state_dict": state,
        "loops": {"fit_loop": {"epoch_progress": {"current": {"completed": 999}}}},
        "hyper_parameters": {"method": "byol", "backbone": "resnet18"},
    }


def _lightly_sequential(model: nn.Module) -> object:
    """lightly's examples: nn.Sequential(*list(resnet.children())[:-1]) in a LightningModule."""
    wrapper = nn.Module()
    wrapper.backbone = nn.Sequential(*list(model.children())[:-1])
    wrapper.projection_head = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 128))
    return {"epoch": 10, "state_dict": wrapper.state_dict()}


def _lightly_bare(model: nn.Module) -> object:
    """torch.save(model.state_dict()) of a lightly module holding the torchvision backbone."""
    return {
        **_prefixed("backbone.", _backbone_state(model)),
        "projection_head.layers.0.weight": torch.zeros(1),
    }


def _lightly_lightning(model: nn.Module) -> object:
    return {
        "state_dict": {**_prefixed("model.backbone.", _backbone_state(model)), "model.head.w": torch.zeros(1)}
    }


def _simclr(model: nn.Module) -> object:
    """sthalles/SimCLR and the paper's SSL-FER: checkpoint_XXXX.pth.tar, the MLP head inside backbone.fc."""
    simclr = nn.Module()
    simclr.backbone = model
    dim = model.fc.in_features
    head = model.fc
    model.fc = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 128))
    state = simclr.state_dict()
    model.fc = head
    return {"epoch": 100, "arch": "resnet18", "state_dict": state, "optimizer": _optimizer_state()}


def _moco_v2(model: nn.Module) -> object:
    state = {
        **_prefixed("module.encoder_k.", _other(model)),
        **_prefixed("module.encoder_q.", _backbone_state(model)),
        "module.encoder_q.fc.0.weight": torch.randn(512, 512),
        "module.encoder_q.fc.2.weight": torch.randn(128, 512),
        "module.queue": torch.randn(128, 64),
        "module.queue_ptr": torch.zeros(1, dtype=torch.long),
    }
    return {"epoch": 200, "arch": "resnet18", "state_dict": state, "optimizer": _optimizer_state()}


def _moco_v3(model: nn.Module) -> object:
    state = {
        **_prefixed("module.momentum_encoder.", _other(model)),
        **_prefixed("module.base_encoder.", _backbone_state(model)),
        "module.predictor.0.weight": torch.randn(64, 256),
    }
    return {"epoch": 100, "arch": "resnet18", "state_dict": state}


def _simclr_encoder(model: nn.Module) -> object:
    """SimCLR ports that keep the ResNet as ``self.encoder`` next to ``self.projector``."""
    return {**_prefixed("encoder.", _backbone_state(model)), "projector.0.weight": torch.randn(64, 512)}


def _compiled(model: nn.Module) -> object:
    return _prefixed("_orig_mod.", _backbone_state(model))


TORCHVISION = ("torchvision", "torchvision keys in the file")  # the kind and description these load as
CONVENTIONS: dict[str, tuple[Callable[[nn.Module], object], str, str]] = {
    "torchvision": (_torchvision, *TORCHVISION),
    "torchvision-old": (_torchvision_old, *TORCHVISION),
    "data-parallel": (_data_parallel, *TORCHVISION),
    "compiled": (_compiled, *TORCHVISION),
    "solo-learn": (_solo_learn, "imported", "keys under 'backbone.' in 'state_dict'"),
    "lightly-sequential": (_lightly_sequential, "imported", "nn.Sequential positions in 'state_dict'"),
    "lightly-bare": (_lightly_bare, "imported", "keys under 'backbone.' in the file"),
    "lightly-lightning": (_lightly_lightning, "imported", "keys under 'model.backbone.' in 'state_dict'"),
    "simclr": (_simclr, "imported", "keys under 'backbone.' in 'state_dict'"),
    "moco-v2": (_moco_v2, "imported", "keys under 'encoder_q.' in 'state_dict'; MoCo v1/v2"),
    "moco-v3": (_moco_v3, "imported", "keys under 'base_encoder.' in 'state_dict'; MoCo v3"),
    "simclr-encoder": (_simclr_encoder, "imported", "keys under 'encoder.' in the file"),
}


@pytest.mark.parametrize("name", CONVENTIONS)
def test_each_convention_loads_exactly_the_online_backbone(tmp_path: Path, name: str):
    build, kind, described = CONVENTIONS[name]
    model = _resnet(seed=len(name))
    expected = _backbone_state(model)
    path = tmp_path / f"{name}.pth.tar"
    torch.save(build(model), path)
    backbone = resolve_backbone(str(path))
    assert (backbone.arch, backbone.kind, backbone.path) == ("resnet18", kind, path)
    assert described in backbone.description
    loaded = backbone.module.state_dict()
    assert loaded.keys() == expected.keys()
    for key, value in expected.items():
        if key.endswith("num_batches_tracked") and name == "torchvision-old":
            continue
        assert torch.equal(loaded[key], value), key
    model.fc = nn.Identity()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(backbone.module(x), model.eval()(x))


def test_resnet50_is_read_from_the_shapes_and_arch_is_checked(tmp_path: Path):
    model = _resnet("resnet50")
    path = tmp_path / "moco50.pth.tar"
    torch.save(_moco_v2(model), path)
    backbone = resolve_backbone(str(path), arch="resnet50")
    assert (backbone.arch, backbone.feature_dim) == ("resnet50", 2048)
    assert torch.equal(backbone.module.layer4[2].conv3.weight, model.layer4[2].conv3.weight)
    with pytest.raises(
        FerclError, match="moco50.pth.tar: the weights are a resnet50, not the resnet18 asked"
    ):
        resolve_backbone(str(path), arch="resnet18")


def test_an_unrelated_state_dict_names_its_keys(tmp_path: Path):
    torch.save({"state_dict": models.vgg11(weights=None).state_dict()}, tmp_path / "vgg.ckpt")
    with pytest.raises(FerclError) as caught:
        resolve_backbone(str(tmp_path / "vgg.ckpt"))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'vgg.ckpt'}: no ResNet-18/50 backbone found")
    assert "unexpected keys in 'state_dict': features.0.weight, features.0.bias, features.3.weight" in message
    assert "\n" not in message


def test_other_depths_and_cifar_stems_are_refused(tmp_path: Path):
    torch.save(models.resnet34(weights=None).state_dict(), tmp_path / "r34.pth")
    with pytest.raises(FerclError, match="r34.pth: no ResNet-18/50 backbone found"):
        resolve_backbone(str(tmp_path / "r34.pth"))
    cifar = _resnet()
    cifar.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    torch.save({"state_dict": _prefixed("backbone.", _backbone_state(cifar))}, tmp_path / "cifar.ckpt")
    with pytest.raises(
        FerclError,
        match=r"under 'backbone\.' in 'state_dict' have ResNet names but other shapes \(conv1\.weight is "
        r"\[64, 3, 3, 3\] where resnet18 has \[64, 3, 7, 7\]\)",
    ):
        resolve_backbone(str(tmp_path / "cifar.ckpt"))


def test_a_file_that_is_no_state_dict_is_explained(tmp_path: Path):
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    with pytest.raises(FerclError, match="list.pt: holds a list, not a state dict"):
        resolve_backbone(str(tmp_path / "list.pt"))
    (tmp_path / "junk.ckpt").write_bytes(b"not a torch file")
    with pytest.raises(FerclError, match="junk.ckpt: not a readable checkpoint or weights file"):
        resolve_backbone(str(tmp_path / "junk.ckpt"))


class _Hyperparameters:
    """A pickled object in a Lightning-style checkpoint; unpickling it writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def test_a_foreign_checkpoint_with_a_pickled_object_is_refused_unrun(tmp_path: Path):
    marker = tmp_path / "marker"
    payload = _solo_learn(_resnet())
    payload["hyper_parameters"] = _Hyperparameters(marker)
    torch.save(payload, tmp_path / "solo.ckpt")
    with pytest.raises(
        FerclError, match=r"solo.ckpt: refused, it holds a pickled Python object \(exec\)"
    ) as caught:
        resolve_backbone(str(tmp_path / "solo.ckpt"))
    assert "another library's checkpoint that you trust: save its state dict alone" in str(caught.value)
    assert not marker.exists()


def test_evaluate_takes_a_foreign_checkpoint(tmp_path: Path):
    path = tmp_path / "solo.ckpt"
    torch.save(_solo_learn(_resnet()), path)
    fer = make_fer2013_csv(tmp_path / "fer" / "fer2013.csv")
    args = ["evaluate", "--task", "fer2013", "--data", str(fer), "--size", str(INPUT_SIZE), "--json"]
    result = CliRunner().invoke(app, [*args, "--checkpoint", str(path)])
    assert result.exit_code == 0, result.output
    checkpoint = json.loads(result.stdout)["checkpoint"]
    assert (checkpoint["kind"], checkpoint["arch"], checkpoint["path"]) == ("imported", "resnet18", str(path))
    assert "keys under 'backbone.' in 'state_dict'" in checkpoint["description"]
