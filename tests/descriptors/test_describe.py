import json

import numpy as np
import pytest
import torch
from torchvision.models import resnet18

from fercl_cli.descriptors.describe import describe_store, resolve_kind
from fercl_cli.descriptors.geometry import raw_size
from fercl_cli.errors import FerclError
from fercl_cli.store.reader import FaceStore
from tests.factories.stores import write_empty_store, write_portrait_store, write_store_without_landmarks


@pytest.fixture()
def store(tmp_path):
    return write_portrait_store(tmp_path / "faces.h5", frames=3, no_landmarks=((2, 1),))


def test_geometry_descriptors_are_stored_per_frame_with_flagged_rows_zero(store):
    seen = []
    summary = describe_store(store, progress=lambda d, t: seen.append((d, t)))
    assert (summary.kind, summary.frames, summary.valid, summary.flagged) == ("geometry", 12, 11, 1)
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)
    faces = FaceStore(store)
    values = faces.descriptors("geometry").astype(np.float32)
    assert values.shape == (12, raw_size())
    norms = np.linalg.norm(values, axis=1)
    assert norms[7] == 0 and np.allclose(np.delete(norms, 7), 1.0, atol=2e-3)
    attrs = faces.descriptor_attrs("geometry")
    assert attrs["dim"] == raw_size() and attrs["valid_frames"] == 11
    assert json.loads(attrs["config"])["kind"] == "geometry"
    assert not list(store.parent.glob(".describe-*"))  # scratch space removed
    # frames 1 and 2 of every identity have the same opposite stretches ("expressions"; frame 0 is the
    # unstretched mean): identity-centred descriptors find them in the other identities (identity 2,
    # whose frame 1 has no landmarks, has a lopsided mean and is left out of the check)
    identity, frame = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    sims = np.where(identity[:, None] != identity[None, :], values @ values.T, -np.inf)
    sims[:, identity == 2] = -np.inf
    stretched = (frame > 0) & (identity != 2)
    assert (frame[sims.argmax(axis=1)] == frame)[stretched].all()


def test_resnet18_descriptors_record_the_weights_hash(store, tmp_path):
    torch.manual_seed(0)
    torch.save(resnet18(weights=None).state_dict(), tmp_path / "r18.pth")
    summary = describe_store(store, weights=tmp_path / "r18.pth", batch=3)
    assert summary.kind == "resnet18" and summary.dim == 1024 and summary.valid == 11
    faces = FaceStore(store)
    assert faces.descriptors("resnet18").shape == (12, 1024)
    assert faces.descriptor_attrs("resnet18")["weights_sha256"] == summary.weights_sha256
    assert len(summary.weights_sha256) == 64


def test_kind_is_resolved_from_the_options():
    assert resolve_kind(None, None) == "geometry"
    assert resolve_kind(None, "w.pth") == "resnet18"
    with pytest.raises(FerclError, match="--weights is only used by --kind resnet18"):
        resolve_kind("geometry", "w.pth")
    with pytest.raises(FerclError, match="--kind vgg"):
        resolve_kind("vgg", None)


def test_bad_inputs_give_clear_errors(store, tmp_path):
    with pytest.raises(FerclError, match="no frames"):
        describe_store(write_empty_store(tmp_path / "empty.h5"))
    with pytest.raises(FerclError, match="no frame has landmarks"):
        describe_store(write_store_without_landmarks(tmp_path / "bare.h5"))
    with pytest.raises(FerclError, match="pass --weights"):
        describe_store(store, kind="resnet18")
    (tmp_path / "bad.pth").write_bytes(b"junk")
    with pytest.raises(FerclError, match="bad.pth: not a readable PyTorch weights file"):
        describe_store(store, weights=tmp_path / "bad.pth")
    with pytest.raises(FerclError, match="--batch-size 0"):
        describe_store(store, batch=0)
    assert FaceStore(store).descriptor_kinds == []
