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
