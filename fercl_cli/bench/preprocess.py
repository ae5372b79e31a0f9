"""``fercl bench preprocess``: frames/s per worker, 1→2 worker scaling, tracking vs per-frame detection."""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

import numpy as np

from fercl_cli.bench.record import BenchResult, Row
from fercl_cli.faces.landmarks import inter_ocular
from fercl_cli.preprocess.pipeline import PreprocessConfig, preprocess
from fercl_cli.sources.voxceleb import discover_voxceleb
from fercl_cli.store.reader import FaceStore

TARGET_FPS_PER_WORKER = 40.0
TARGET_DETECTION_SAVING = 3.0
TARGET_LANDMARK_ERROR = 0.02


def bench_preprocess(corpus: str | Path, work: str | Path, size: int = 128) -> BenchResult:
    """Preprocess the corpus's videos with 1 and 2 workers (tracking on) and with per-frame detection."""
    work = Path(work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    discovery = discover_voxceleb(Path(corpus) / "voxceleb", layout="videos")
    runs = {}
    for name, workers, track in (("track1", 1, True), ("track2", 2, True), ("detect2", 2, False)):
        config = PreprocessConfig(
            out=str(work / f"{name}.h5"), size=size, workers=workers, track=track, commit_seconds=5.0
        )
        runs[name] = preprocess(discovery, config)
    tracked, detected = FaceStore(work / "track2.h5"), FaceStore(work / "detect2.h5")
    same = tracked.n_frames == detected.n_frames
    error = float("nan")
    if same:
        a, b = tracked.column("source_landmarks"), detected.column("source_landmarks")
        error = float((np.linalg.norm(a - b, axis=-1).mean(axis=1) / inter_ocular(b)).mean())
    one, two = runs["track1"], runs["track2"]
    saving = runs["detect2"].detections / max(two.detections, 1)
    worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        Row(
            "frames/s, 1 worker (end to end)",
            one.frames_per_second,
            "frames/s",
            f">= {TARGET_FPS_PER_WORKER:.0f}",
            one.frames_per_second >= TARGET_FPS_PER_WORKER,
        ),
        Row("frames/s, 2 workers", two.frames_per_second, "frames/s"),
        Row("scaling 1 → 2 workers", two.frames_per_second / max(one.frames_per_second, 1e-9), "x"),
        Row("frames/s, 2 workers, detection on every frame", runs["detect2"].frames_per_second, "frames/s"),
        Row(
            "detector calls: per-frame / tracking",
            saving,
            "x",
            f">= {TARGET_DETECTION_SAVING:.0f}",
            saving >= TARGET_DETECTION_SAVING,
        ),
        Row(
            "landmarks, tracking vs per-frame (mean, / inter-ocular)",
            100 * error,
            "%",
            f"< {100 * TARGET_LANDMARK_ERROR:.0f} %",
            bool(error < TARGET_LANDMARK_ERROR),
        ),
        Row("peak memory, a worker process", worker_rss, "MiB"),
        Row("peak memory, the writer process", main_rss, "MiB"),
    ]
    return BenchResult(
        name="preprocess",
        title="Preprocessing (fercl bench preprocess)",
        rows=rows,
        settings={
            "clips": len(discovery.clips),
            "frames": one.frames_read,
            "size": size,
            "fps": "25/6",
            "detector": "dlib HOG, upsample 1",
        },
        notes=[
            "End to end: mp4 decoding at 25/6 fps, detection or tracking, 68 landmarks, alignment, store writes with commits.",
            "With one worker the writer is a second process; on 2 cores the 2-worker run shares the cores with it.",
        ],
    )
