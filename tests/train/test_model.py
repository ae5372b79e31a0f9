import pytest
import torch
from torch import nn

from fercl_cli.train.model import ARCHS, backbone_state_dict, build_backbone, build_model


def _no_downloads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("model code tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_forward_shapes_and_unit_projections(arch, monkeypatch):
    _no_downloads(monkeypatch)
    torch.manual_seed(0)
    model = build_model(arch).eval()
    features, z = model(torch.rand(2, 3, 32, 32))
    assert features.shape == (2, ARCHS[arch]) and z.shape == (2, 128)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(2))
    first, relu, last = model.head
    assert (first.in_features, first.out_features) == (ARCHS[arch], ARCHS[arch])
    assert isinstance(relu, nn.ReLU) and (last.in_features, last.out_features) == (ARCHS[arch], 128)


def test_backbone_state_dict_loads_into_a_fresh_backbone():
    torch.manual_seed(0)
    model = build_model("resnet18", projection_dim=16).eval()
    state = backbone_state_dict(nn.DataParallel(model))
    assert not any(key.startswith(("fc.", "head.")) for key in state)
    backbone, feature_dim = build_backbone("resnet18")
    backbone.load_state_dict(state, strict=True)
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(backbone.eval()(x), model(x)[0])
    assert feature_dim == 512
    state["conv1.weight"].zero_()
    assert model.backbone.conv1.weight.abs().sum() > 0  # a copy, not the live weights


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="resnet18"):
        build_model("vgg16")
    with pytest.raises(ValueError, match="projection_dim"):
        build_model("resnet18", projection_dim=0)
    with pytest.raises(ValueError, match="images"):
        build_model("resnet18")(torch.rand(2, 32, 32))
    with pytest.raises(TypeError, match="ContrastiveModel"):
        backbone_state_dict(nn.Linear(2, 2))


@pytest.mark.parametrize("arch", ["smallcnn", "resnet18-cifar"])
@pytest.mark.parametrize("size", [24, 32, 56, 64])
def test_small_input_backbones_give_float_features_at_several_sizes(arch, size, monkeypatch):
    _no_downloads(monkeypatch)
    torch.manual_seed(0)
    backbone, feature_dim = build_backbone(arch)
    features = backbone.eval()(torch.rand(3, 3, size, size))
    assert features.shape == (3, feature_dim) == (3, ARCHS[arch]) and features.dtype == torch.float32
    assert torch.isfinite(features).all() and features.std() > 0


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_every_backbone_has_batchnorm_and_no_classifier(arch):
    backbone, _ = build_backbone(arch)
    norms = [m for m in backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) >= 8
    assert not any(isinstance(m, nn.Linear) for m in backbone.modules())


def test_the_arch_names_are_one_list():
    from fercl_cli.train import archs

    assert archs.ARCH_NAMES == ("resnet18", "resnet50", "resnet18-cifar", "smallcnn")
    assert tuple(ARCHS) == archs.ARCH_NAMES and ARCHS["smallcnn"] == 256 and ARCHS["resnet18-cifar"] == 512
    assert archs.arch_error("--arch", "vgg16") == (
        "--arch must be one of resnet18, resnet50, resnet18-cifar, smallcnn, got 'vgg16'"
    )


def test_smallcnn_has_four_stages_of_32_to_256_channels_each_halving_the_resolution():
    from fercl_cli.train.model import SmallCNN

    backbone, _ = build_backbone("smallcnn")
    assert isinstance(backbone, SmallCNN) and len(backbone.stages) == 4
    x, sides = torch.rand(2, 3, 56, 56), []
    for stage, width in zip(backbone.stages, (32, 64, 128, 256), strict=True):
        convs = [m for m in stage if isinstance(m, nn.Conv2d)]
        assert [c.out_channels for c in convs] == [width, width] and convs[0].stride == (2, 2)
        x = stage(x)
        sides.append(x.shape[-1])
    assert sides == [28, 14, 7, 4]
    assert sum(p.numel() for p in backbone.parameters()) < 1_300_000


def test_resnet18_cifar_has_a_3x3_stride_1_stem_and_keeps_resolution():
    backbone, _ = build_backbone("resnet18-cifar")
    conv1 = backbone.conv1
    assert (conv1.kernel_size, conv1.stride, conv1.padding) == ((3, 3), (1, 1), (1, 1))
    assert isinstance(backbone.maxpool, nn.Identity)
    seen = []
    backbone.layer4.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape)) and None)
    backbone(torch.rand(1, 3, 32, 32))
    assert seen[0][-2:] == (4, 4)  # 32 / 8 (torchvision's stem would leave 1 × 1)
    plain = dict(build_backbone("resnet18")[0].state_dict())
    cifar = backbone.state_dict()
    assert cifar.keys() == plain.keys()
    assert {k for k in cifar if cifar[k].shape != plain[k].shape} == {"conv1.weight"}
