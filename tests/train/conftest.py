"""A tiny synthetic face store for training tests: smooth random images, template landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from fercl_cli.faces.template import DEFAULT_TEMPLATE


def write_tiny_store(path, clips: int = 6, frames: int = 40, size: int = 32, seed: int = 0, first: int = 0):
    """``clips`` clips of ``frames`` frames (videos ``video<first>``...) written, or appended, to ``path``."""
    from fercl_cli.store.schema import ClipFrames
    from fercl_cli.store.writer import FaceStoreWriter

    rng = np.random.default_rng(seed)
    landmarks = DEFAULT_TEMPLATE.points(size).astype(np.float32)
    with FaceStoreWriter(path, crop_size=size, fps=25 / 6, detector="dlib", template="test") as writer:
        for c in range(first, first + clips):
            base = rng.integers(0, 255, (4, 4, 3)).astype(np.float32)
            drift = rng.normal(0, 20, (4, 4, 3))
            images = []
            for f in range(frames):
                small = np.clip(base + drift * f / frames, 0, 255).astype(np.uint8)
                images.append(np.kron(small, np.ones((size // 4, size // 4, 1), np.uint8)))
            n = frames
            writer.add_clip(
                f"id{c % 3}",
                f"video{c}",
                "00001",
                ClipFrames(
                    image=np.stack(images),
                    landmarks=np.repeat(landmarks[None], n, 0),
                    source_landmarks=np.repeat(landmarks[None], n, 0),
                    bbox=np.tile(np.array([0, 0, size, size], np.float32), (n, 1)),
                    matrix=np.tile(np.array([[1, 0, 0], [0, 1, 0]], np.float32), (n, 1, 1)),
                    score=np.ones(n, np.float32),
                    t=np.arange(n, dtype=np.float32) * 0.24,
                    frame_number=np.arange(n, dtype=np.int32) * 6,
                    detector=["hog"] * n,
                ),
            )
            writer.commit()
    return path


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory):
    return write_tiny_store(tmp_path_factory.mktemp("store") / "faces.h5")
