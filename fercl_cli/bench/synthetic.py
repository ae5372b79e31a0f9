"""A synthetic face store for speed measurements on machines without dlib or the sample photos.

Frames are smooth random colour fields (upsampled 8×8 noise drifting over time) with the template's
landmarks: the loader, the views and the network do exactly the work they do on real faces.
Needs only numpy and h5py (the store writer), so it runs on a bare GPU machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercl_cli.faces.template import DEFAULT_TEMPLATE


def write_synthetic_store(path: str | Path, clips: int, frames: int, size: int = 128, seed: int = 0) -> Path:
    """``clips`` clips of ``frames`` frames (S = ``size``) at 25/6 fps, 10 identities; returns ``path``."""
    from fercl_cli.store.schema import ClipFrames
    from fercl_cli.store.writer import FaceStoreWriter

    if size % 8:
        raise ValueError(f"size must be a multiple of 8, got {size}")
    rng = np.random.default_rng(seed)
    points = DEFAULT_TEMPLATE.points(size).astype(np.float32)
    block = np.ones((size // 8, size // 8, 1), np.float32)
    with FaceStoreWriter(
        path, crop_size=size, fps=25 / 6, detector="synthetic", template="mean68", config={"synthetic": seed}
    ) as writer:
        for c in range(clips):
            base = rng.uniform(0, 255, (8, 8, 3))
            drift = rng.normal(0, 3, (8, 8, 3))
            images = np.stack(
                [np.kron(np.clip(base + drift * f, 0, 255), block) for f in range(frames)]
            ).astype(np.uint8)
            n = frames
            writer.add_clip(
                f"id{c % 10:05d}",
                f"video{c:05d}",
                "00001",
                ClipFrames(
                    image=images,
                    landmarks=np.repeat(points[None], n, 0),
                    source_landmarks=np.repeat(points[None], n, 0),
                    bbox=np.tile(np.array([0, 0, size, size], np.float32), (n, 1)),
                    matrix=np.tile(np.array([[1, 0, 0], [0, 1, 0]], np.float32), (n, 1, 1)),
                    score=np.ones(n, np.float32),
                    t=np.arange(n, dtype=np.float32) * 0.24,
                    frame_number=np.arange(n, dtype=np.int32) * 6,
                    detector=["hog"] * n,
                ),
            )
            if c % 32 == 31:
                writer.commit()
    return Path(path)
