import numpy as np
import pytest
import torch
from torchvision.models import resnet18, resnet34

from fercl_cli.descriptors.crops import paper_crops
from fercl_cli.descriptors.resnet import _to_tensor, config, load_resnet18, resnet18_descriptors
from fercl_cli.errors import FerclError
from tests.factories.portraits import aligned


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "resnet18-random.pth"
    torch.save(resnet18(weights=None).state_dict(), path)
    return path


def _batch():
    (a, al), (g, gl) = aligned()
    return np.stack([a, g, a]), np.stack([al, gl, al])


def test_random_initialised_resnet18_gives_unit_1024_d_descriptors(weights):
    model = load_resnet18(weights)
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    images, landmarks = _batch()
    seen = []
    out = resnet18_descriptors(images, landmarks, model, batch=2, progress=seen.append)
    assert seen == [2, 1]
    assert out.values.shape == (3, 1024) and out.values.dtype == np.float32 and out.valid.all()
    np.testing.assert_allclose(np.linalg.norm(out.values, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out.values[0], out.values[2], atol=1e-5)  # deterministic, batch-independent
    assert out.values[0] @ out.values[1] < 0.9999
    # eyes then mouth, each the pooled 512-d feature of the ImageNet-normalised 64×64 crop
    eyes, mouths = paper_crops(images[1:2], landmarks[1:2], np.ones(1, bool))
    with torch.no_grad():
        expected = torch.cat([model(_to_tensor(eyes, "cpu")), model(_to_tensor(mouths, "cpu"))], 1)[0].numpy()
    np.testing.assert_allclose(out.values[1], expected / np.linalg.norm(expected), atol=1e-4)


def test_state_dict_without_the_classifier_loads_and_config_records_the_hash(weights, tmp_path):
    state = {k: v for k, v in torch.load(weights, weights_only=True).items() if not k.startswith("fc.")}
    torch.save(state, tmp_path / "backbone.pth")
    load_resnet18(tmp_path / "backbone.pth")
    cfg = config(weights)
    assert cfg["kind"] == "resnet18" and len(cfg["weights_sha256"]) == 64 and cfg["dim"] == 1024
    assert cfg["weights_file"] == "resnet18-random.pth"


def test_frames_without_landmarks_are_flagged(weights):
    images, landmarks = _batch()
    landmarks[1] = np.nan
    out = resnet18_descriptors(images, landmarks, load_resnet18(weights), valid=np.array([True, True, False]))
    assert out.valid.tolist() == [True, False, False] and np.all(out.values[1:] == 0)


def test_missing_or_wrong_weights_give_clear_errors(tmp_path):
    with pytest.raises(FerclError, match="needs ImageNet weights: pass --weights"):
        load_resnet18(None)
    with pytest.raises(FerclError, match="no such weights file; pass --weights"):
        load_resnet18(tmp_path / "absent.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(FerclError, match="junk.pth: not a readable PyTorch weights file"):
        load_resnet18(tmp_path / "junk.pth")
    torch.save(resnet34(weights=None).state_dict(), tmp_path / "resnet34.pth")
    with pytest.raises(
        FerclError, match=r"resnet34.pth: not a ResNet-18 state dict \(\d+ unexpected, e.g. layer"
    ):
        load_resnet18(tmp_path / "resnet34.pth")
    torch.save({"model": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(FerclError, match="other.pth: not a ResNet-18 state dict .*missing"):
        load_resnet18(tmp_path / "other.pth")


def test_unavailable_device_is_a_clear_error(weights, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    images, landmarks = _batch()
    with pytest.raises(FerclError, match="--device cuda: no CUDA device"):
        resnet18_descriptors(images, landmarks, load_resnet18(weights), device="cuda")
    with pytest.raises(FerclError, match="--device tpu"):
        resnet18_descriptors(images, landmarks, load_resnet18(weights), device="tpu")
