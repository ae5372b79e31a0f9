import json

import numpy as np
import pytest
import torch

from fercl_cli.errors import FerclError
from fercl_cli.train import checkpoint
from fercl_cli.train.config import resolve
from fercl_cli.train.loop import pretrain

# A run that takes seconds on a CPU: 24 px ResNet-18, 2 clips a batch (3 batches an epoch of the tiny store).
TINY_RUN = dict(
    arch="resnet18", size=24, batch_clips=2, epochs=2, workers=0, device="cpu", warmup_epochs=0.5, seed=3
)


def _config(store, out, **overrides):
    return resolve({}, {"store": str(store), "out": str(out), **TINY_RUN, **overrides})


def test_a_short_run_writes_config_metrics_and_a_loadable_checkpoint(tiny_store, tmp_path):
    events = []
    summary = pretrain(_config(tiny_store, tmp_path / "run"), on_event=lambda k, p: events.append((k, p)))
    assert summary.stopped == "finished" and summary.steps == 6 and summary.epochs_done == 2
    assert np.isfinite(summary.last_loss)
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(1, 7))
    assert {"loss", "contrastive_accuracy", "lr", "images_per_s", "data_wait"} <= set(lines[0])
    assert json.loads((tmp_path / "run" / "config.json").read_text())["arch"] == "resnet18"
    saved = checkpoint.load(tmp_path / "run")
    assert saved["epoch"] == 2 and saved["batch"] == 0 and saved["step"] == 6
    assert [k for k, _ in events].count("epoch") == 2 and events[0][0] == "start" and events[-1][0] == "end"


def test_stop_and_resume_is_bit_for_bit(tiny_store, tmp_path):
    straight = pretrain(_config(tiny_store, tmp_path / "a", epochs=3))
    pretrain(_config(tiny_store, tmp_path / "b", epochs=3, max_steps=4))  # stops inside epoch 2
    partial = checkpoint.load(tmp_path / "b")
    assert (partial["epoch"], partial["batch"], partial["reason"]) == (1, 1, "max_steps")
    resumed = pretrain(_config(tiny_store, tmp_path / "b", epochs=3), resume=True)
    assert resumed.steps == straight.steps == 9
    a, b = checkpoint.load(tmp_path / "a")["model"], checkpoint.load(tmp_path / "b")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    logged = [json.loads(x)["step"] for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert logged == list(range(1, 10))


def test_hardneg_off_and_timeaug_off_run(tiny_store, tmp_path):
    summary = pretrain(_config(tiny_store, tmp_path / "r", hard_neg=False, time_aug=False, epochs=1))
    assert summary.steps == 3 and np.isfinite(summary.last_loss)


def test_maskfn_gets_each_views_stored_descriptor_and_logs_its_terms(tiny_store, tmp_path, monkeypatch):
    """Every step hands MaskFN the stored descriptor of each view's frame (float32 [V, 8], ``valid`` false
    exactly for the all-zero rows) and logs l1, l2, matched and the loss of a slow per-anchor reference."""
    import shutil

    from fercl_cli.store.descriptors import write_descriptors
    from fercl_cli.store.reader import FaceStore
    from fercl_cli.train import data, loop
    from fercl_cli.train.losses import MaskFNLoss
    from tests.train.losses.reference import maskfn_loop

    store = tmp_path / "faces.h5"
    shutil.copy(tiny_store, store)
    n = FaceStore(store).n_frames
    # Values the store's float16 holds exactly, so that what the batches carry can be compared exactly.
    values = np.random.default_rng(0).normal(size=(n, 8)).astype(np.float16).astype(np.float32)
    values[::3] = 0  # frames without a usable descriptor
    write_descriptors(store, "geometry", values, {"source": "test"})

    rows_seen: list[np.ndarray] = []
    real_getitem = data.PretrainBatches.__getitem__

    def getitem(self, key):
        item = real_getitem(self, key)
        rows_seen.append(item["rows"].numpy().copy())
        return item

    calls: list[dict[str, torch.Tensor]] = []

    class RecordingMaskFN(MaskFNLoss):
        def forward(self, z, pair, clip, descriptors, valid):
            seen = dict(z=z, pair=pair, clip=clip, descriptors=descriptors, valid=valid)
            calls.append({name: t.detach().clone() for name, t in seen.items()})
            return super().forward(z, pair, clip, descriptors, valid)

    monkeypatch.setattr(data.PretrainBatches, "__getitem__", getitem)
    monkeypatch.setattr(loop, "MaskFNLoss", RecordingMaskFN)
    config = _config(store, tmp_path / "m", mask_fn="top1-other-clip", epochs=1)
    summary = pretrain(config)
    records = [json.loads(x) for x in (tmp_path / "m" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows_seen) == len(calls) == len(records) == summary.steps == 3
    for rows, call, record in zip(rows_seen, calls, records, strict=True):
        views = len(rows)  # 4 views a clip with HardNeg
        desc, valid = call["descriptors"], call["valid"]
        assert desc.shape == (views, 8) and desc.dtype == torch.float32
        assert valid.shape == (views,) and valid.dtype == torch.bool
        np.testing.assert_array_equal(desc.numpy(), np.stack([values[r] for r in rows]))
        assert valid.tolist() == [any(x != 0 for x in values[r]) for r in rows]
        args = (
            call["z"].double(),
            call["pair"].tolist(),
            call["clip"].tolist(),
            desc.double(),
            valid.tolist(),
        )
        kwargs = dict(mode="top1-other-clip", tau=config.temperature, threshold=config.mask_threshold)
        l1, chosen = maskfn_loop(*args, lam=0.0, **kwargs)
        l1_plus_l2, _ = maskfn_loop(*args, lam=1.0, **kwargs)
        loss, _ = maskfn_loop(*args, lam=config.mask_lambda, **kwargs)
        assert record["l1"] == pytest.approx(float(l1), rel=1e-5)
        assert record["l2"] == pytest.approx(float(l1_plus_l2 - l1), rel=1e-4, abs=1e-5)
        assert record["matched"] == pytest.approx(sum(map(bool, chosen)) / views)
        assert record["loss"] == pytest.approx(float(loss), rel=1e-5)
    valid_seen = torch.cat([call["valid"] for call in calls])
    assert valid_seen.any() and not valid_seen.all()  # frames with and without a descriptor were batched
    assert any(record["matched"] > 0 for record in records)  # and false negatives were found


def test_bad_requests_are_clear(tiny_store, tmp_path):
    with pytest.raises(FerclError, match="larger than the 6 clips"):
        pretrain(_config(tiny_store, tmp_path / "x", batch_clips=7))
    with pytest.raises(FerclError, match="fercl describe"):
        pretrain(_config(tiny_store, tmp_path / "y", mask_fn="top1"))
    pretrain(_config(tiny_store, tmp_path / "z", epochs=1))
    with pytest.raises(FerclError, match="--resume"):
        pretrain(_config(tiny_store, tmp_path / "z", epochs=1))
    with pytest.raises(FerclError, match="different settings: lr"):
        pretrain(_config(tiny_store, tmp_path / "z", epochs=1, lr=1e-2), resume=True)


@pytest.mark.parametrize("arch", ["smallcnn", "resnet18-cifar"])
def test_a_small_arch_run_evaluates_through_resolve_backbone_with_the_trained_features(
    arch, tiny_store, tmp_path, monkeypatch
):
    from fercl_cli.evaluate.backbones import resolve_backbone
    from fercl_cli.train import loop

    built = []
    monkeypatch.setattr(loop, "build_model", _recording(built, loop.build_model))
    summary = pretrain(_config(tiny_store, tmp_path / "run", arch=arch, epochs=1, size=32))
    assert summary.stopped == "finished" and np.isfinite(summary.last_loss)
    (trained,) = built
    backbone = resolve_backbone(str(tmp_path / "run"))
    assert (backbone.kind, backbone.arch, backbone.config["arch"]) == ("fercl", arch, arch)
    assert backbone.feature_dim == {"smallcnn": 256, "resnet18-cifar": 512}[arch]
    assert resolve_backbone(str(tmp_path / "run" / "last.pt"), arch=arch).arch == arch
    x = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = trained.eval().backbone(x)
        got = backbone.module(x)
    assert got.shape == (3, backbone.feature_dim)
    torch.testing.assert_close(got, expected)
    with pytest.raises(FerclError, match=f"is a {arch} backbone, not the resnet18 asked for with --arch"):
        resolve_backbone(str(tmp_path / "run"), arch="resnet18")


def _recording(built, build):
    def record(arch):
        built.append(build(arch))
        return built[-1]

    return record


def test_resume_conflicts_name_what_changes_the_computation(tiny_store, tmp_path):
    from fercl_cli.train.loop import resume_conflicts

    saved = _config(tiny_store, tmp_path / "a", epochs=2).to_dict()
    assert resume_conflicts(saved, _config(tiny_store, tmp_path / "b", epochs=2, workers=1)) == []
    longer = _config(tiny_store, tmp_path / "a", epochs=3)
    assert resume_conflicts(saved, longer) == []  # a longer run may go on ...
    assert resume_conflicts(saved, longer, extend=False) == ["epochs"]  # ... but is not a fresh one
    assert resume_conflicts(saved, _config(tiny_store, tmp_path / "a", epochs=1)) == ["epochs"]
    assert resume_conflicts(saved, _config(tiny_store, tmp_path / "a", epochs=2, lr=1e-2, seed=5)) == [
        "lr",
        "seed",
    ]
