"""Pretraining under torchrun: 2 CPU processes with gloo train exactly like one process on the same global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from fercl_cli.store.reader import FaceStore
from fercl_cli.train import checkpoint
from fercl_cli.train.data import DataConfig, PretrainBatches
from fercl_cli.train.loop import _global_rows, draw
from fercl_cli.train.sampling import ClipSampler, SamplerConfig
from fercl_cli.train.views import paper_views, sample_params


def _batches(store_path, rank, world, batch_clips):
    store = FaceStore(store_path)
    sampler = ClipSampler(
        store.clip_start, store.clip_stop, store.fps, SamplerConfig(seed=4), store.clip_identity, rank, world
    )
    return PretrainBatches(store, sampler, DataConfig(batch_clips=batch_clips, hard_neg=True))


def test_ranks_hold_the_single_process_batch_and_its_view_parameters(tiny_store):
    single = _batches(tiny_store, 0, 1, 4)[(0, 0)]["rows"].view(4, 4)  # views × clips
    for rank in range(2):
        local = _batches(tiny_store, rank, 2, 2)[(0, 0)]["rows"].view(4, 2)
        rows = _global_rows(2, 2, rank, 2)
        assert torch.equal(local[:2].flatten(), single[:2].flatten()[rows])
        assert torch.equal(local[2:].flatten(), single[2:].flatten()[rows])
        view1, _ = paper_views(24, 32)
        mine = draw(view1, torch.Generator().manual_seed(9), rows, 8)
        every = sample_params(8, view1, torch.Generator().manual_seed(9))
        assert torch.equal(mine.crop_x, every.crop_x[rows]) and torch.equal(
            mine.jitter_factors, every.jitter_factors[rows]
        )


def test_torchrun_two_gloo_processes_train_like_one(tiny_store, tmp_path):
    common = [
        str(tiny_store),
        "--arch",
        "resnet18",
        "--size",
        "24",
        "--epochs",
        "1",
        "--workers",
        "0",
        "--device",
        "cpu",
        "--seed",
        "4",
        "--json",
        "--warmup-epochs",
        "0",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    entry = str(Path(__file__).with_name("ddp_entry.py"))
    single = subprocess.run(
        [
            sys.executable,
            entry,
            "pretrain",
            *common,
            "--batch-clips",
            "4",
            "--out",
            str(tmp_path / "one"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert single.returncode == 0, single.stderr
    ddp = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            entry,
            "pretrain",
            *common,
            "--batch-clips",
            "2",
            "--out",
            str(tmp_path / "two"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    summary = json.loads(ddp.stdout)  # rank 0 alone prints
    assert summary["steps"] == json.loads(single.stdout)["steps"]
    one = [json.loads(x) for x in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    two = [json.loads(x) for x in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert len(one) == len(two)
    for a, b in zip(one, two, strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-4 * a["loss"], (a["step"], a["loss"], b["loss"])
    w1, w2 = checkpoint.load(tmp_path / "one")["model"], checkpoint.load(tmp_path / "two")["model"]
    # Adam turns float reduction-order noise into updates of up to a fraction of lr (3e-4) per step.
    assert all(torch.allclose(w1[k], w2[k], atol=1e-4, rtol=0) for k in w1)
