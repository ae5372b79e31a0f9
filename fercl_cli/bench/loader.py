"""``fercl bench loader``: pretraining 4-tuples/s per worker vs. the released code's per-sample detection.

Ours: one batch read from the store (sorted rows), then both augmentation pipelines, in one process.
Released-style, on the same frames: every frame of every 4-tuple is brought to the VoxCeleb interval-face
size (224 px), run through dlib's HOG detector (upsample 1) and 68-point predictor, aligned, then augmented.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from fercl_cli.bench.record import BenchResult, Row, torch_threads
from fercl_cli.store.reader import FaceStore
from fercl_cli.train.data import DataConfig, PretrainBatches
from fercl_cli.train.sampling import ClipSampler, SamplerConfig
from fercl_cli.train.views import augment, paper_views

TARGET_TUPLES_PER_S = 150.0
TARGET_RATIO = 10.0


def _views(images: np.ndarray, landmarks: np.ndarray, size: int, crop: int, seed: int) -> torch.Tensor:
    view1, view2 = paper_views(size, crop)
    generator = torch.Generator().manual_seed(seed)
    half = len(images) // 2
    return torch.cat(
        [
            augment(images[:half], landmarks[:half], view1, generator),
            augment(images[half:], landmarks[half:], view2, generator),
        ]
    )


def _bench_loader(
    store_path: str | Path, batch_clips: int = 32, batches: int = 8, size: int = 112, naive_tuples: int = 16
) -> BenchResult:
    """See :func:`bench_loader`."""
    import cv2

    from fercl_cli.faces.align import align_face
    from fercl_cli.faces.dlib_backend import DlibBackend

    store = FaceStore(store_path)
    sampler = ClipSampler(
        store.clip_start, store.clip_stop, store.fps, SamplerConfig(seed=0), store.clip_identity
    )
    batch_clips = min(batch_clips, store.n_clips)
    dataset = PretrainBatches(store, sampler, DataConfig(batch_clips=batch_clips, hard_neg=True))
    keys = [(e, b) for e in range(1000) for b in range(dataset.num_batches(e))][:batches]
    start = time.perf_counter()
    read_only = sum(int(dataset[key]["clip"].shape[0]) for key in keys) / (time.perf_counter() - start)
    start = time.perf_counter()
    tuples = 0
    for epoch, index in keys:
        item = dataset[(epoch, index)]
        _views(item["images"].numpy(), item["landmarks"].numpy(), size, store.crop_size, index)
        tuples += int(item["clip"].shape[0])
    ours = tuples / (time.perf_counter() - start)

    backend = DlibBackend(upsample=1)
    item = dataset[keys[0]]
    rows = item["rows"].numpy().reshape(4, -1)[:, :naive_tuples]
    start = time.perf_counter()
    missed = 0
    for t in range(rows.shape[1]):
        crops, marks = [], []
        for row in rows[:, t]:
            frame = cv2.resize(store.image(int(row)), (224, 224), interpolation=cv2.INTER_LINEAR)
            faces = backend.detect(frame)
            if not faces:
                missed += 1
                crops.append(cv2.resize(frame, (store.crop_size,) * 2))
                marks.append(np.zeros((68, 2), np.float32))
                continue
            aligned = align_face(frame, faces[0].landmarks, store.crop_size)
            crops.append(aligned.image)
            marks.append(aligned.landmarks)
        _views(np.stack(crops), np.stack(marks), size, store.crop_size, t)
    naive = rows.shape[1] / (time.perf_counter() - start)
    ratio = ours / naive
    return BenchResult(
        name="loader",
        title="Pretraining loader (fercl bench loader)",
        rows=[
            Row(
                "4-tuples/s per worker, fercl (store read + views)",
                ours,
                "4-tuples/s",
                f">= {TARGET_TUPLES_PER_S:.0f}",
                ours >= TARGET_TUPLES_PER_S,
            ),
            Row(
                "4-tuples/s per worker, store reads only (a DataLoader worker's job when views run on the GPU)",
                read_only,
                "4-tuples/s",
            ),
            Row(
                "4-tuples/s per worker, released-style (detect + landmarks per frame, then views)",
                naive,
                "4-tuples/s",
            ),
            Row(
                "speed-up over the released loader",
                ratio,
                "x",
                f">= {TARGET_RATIO:.0f}",
                ratio >= TARGET_RATIO,
            ),
        ],
        settings={
            "store": Path(store_path).name,
            "batch_clips": batch_clips,
            "batches": len(keys),
            "size": size,
            "torch threads": 1,
        },
        notes=[
            f"released-style detection missed {missed} of {rows.size} frames (they were centre-cropped instead)."
        ],
    )


def bench_loader(
    store_path: str | Path, batch_clips: int = 32, batches: int = 8, size: int = 112, naive_tuples: int = 16
) -> BenchResult:
    """Measure both loaders in this process with one torch thread (one worker's work)."""
    with torch_threads(1):
        return _bench_loader(store_path, batch_clips, batches, size, naive_tuples)
