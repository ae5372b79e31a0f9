"""Small face stores written with the store writer: a tiny training store of smooth synthetic images, stores
of real aligned portraits (for the swap, descriptor and command tests), one without landmarks and one empty.

Seeded-clip stores (random crops, failures, resumable writes) for the store tests are in
:mod:`tests.factories.clips`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fercl_cli.faces.landmarks import flip_landmarks
from fercl_cli.faces.template import DEFAULT_TEMPLATE
from fercl_cli.store.schema import ClipFrames
from fercl_cli.store.writer import FaceStoreWriter
from tests.factories.portraits import aligned, stretch

STRETCHES = ((1.0, 1.0), (1.04, 0.96), (0.96, 1.05), (1.02, 1.02))


def template_clip(
    images: np.ndarray, landmarks: np.ndarray, detector: Sequence[str] | None = None
) -> ClipFrames:
    """A clip of uint8 [n, S, S, 3] crops as stored: landmarks float32 [68, 2] (every frame) or [n, 68, 2]
    crop px, also taken as the source landmarks; identity matrix, full-crop bbox, score 1, frame 6k at
    t = 0.24 k s (25 fps sampled at 25/6 fps); detector ``"hog"`` unless given per frame."""
    n, size = len(images), images.shape[1]
    points = np.broadcast_to(np.asarray(landmarks, np.float32), (n, 68, 2))
    return ClipFrames(
        image=images,
        landmarks=points.copy(),
        source_landmarks=points.copy(),
        bbox=np.tile(np.array([0, 0, size, size], np.float32), (n, 1)),
        matrix=np.tile(np.eye(2, 3, dtype=np.float32), (n, 1, 1)),
        score=np.ones(n, np.float32),
        t=np.arange(n, dtype=np.float32) * 0.24,
        frame_number=np.arange(n, dtype=np.int32) * 6,
        detector=["hog"] * n if detector is None else list(detector),
    )


def write_tiny_store(
    path: Path, clips: int = 6, frames: int = 40, size: int = 32, seed: int = 0, first: int = 0
) -> Path:
    """``clips`` clips × ``frames`` frames of S = ``size`` px (3 identities ``id<c % 3>``, videos
    ``video<first>``...), smooth 4×4 random colour fields drifting over the clip with the template's
    landmarks, one commit per clip, written or appended to ``path``; returns ``path``."""
    rng = np.random.default_rng(seed)
    landmarks = DEFAULT_TEMPLATE.points(size)
    block = np.ones((size // 4, size // 4, 1), np.uint8)
    with FaceStoreWriter(path, crop_size=size, fps=25 / 6, detector="dlib", template="test") as writer:
        for c in range(first, first + clips):
            base = rng.integers(0, 255, (4, 4, 3)).astype(np.float32)
            drift = rng.normal(0, 20, (4, 4, 3))
            images = [
                np.kron(np.clip(base + drift * f / frames, 0, 255).astype(np.uint8), block)
                for f in range(frames)
            ]
            writer.add_clip(f"id{c % 3}", f"video{c}", "00001", template_clip(np.stack(images), landmarks))
            writer.commit()
    return path


def people(size: int = 128) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image uint8 [S, S, 3], landmarks float32 [68, 2]) of four identities: the astronaut, Grace
    Hopper and their mirror images."""
    (a, al), (g, gl) = aligned(size)
    out = []
    for name, image, lm in (("astronaut", a, al), ("hopper", g, gl)):
        out.append((name, image, lm))
        out.append((f"{name}-mirror", image[:, ::-1].copy(), flip_landmarks(lm, size).astype(np.float32)))
    return out


def write_portrait_store(
    path: Path, frames: int = 3, size: int = 128, no_landmarks: tuple[tuple[int, int], ...] = ()
) -> Path:
    """A store of the four :func:`people` (1 clip × ``frames`` frames of S = ``size`` px each, frames
    differing by small non-similarity stretches); ``no_landmarks`` lists (identity index, frame index)
    pairs stored with detector ``"none"``; returns ``path``."""
    with FaceStoreWriter(
        path, crop_size=size, fps=25 / 6, detector="dlib", template=DEFAULT_TEMPLATE.describe()
    ) as w:
        for p, (name, image, lm) in enumerate(people(size)):
            pairs = [stretch(image, lm, *STRETCHES[k % len(STRETCHES)]) for k in range(frames)]
            detector = ["none" if (p, k) in no_landmarks else "hog" for k in range(frames)]
            images, landmarks = np.stack([img for img, _ in pairs]), np.stack([pts for _, pts in pairs])
            w.add_clip(name, f"{name}-video", "00001", template_clip(images, landmarks, detector))
        w.commit()
    return path


def write_store_without_landmarks(path: Path, size: int = 64) -> Path:
    """A store of one clip of 2 black S = ``size`` px frames whose detector is ``"none"`` (like a FER2013
    store): zero landmarks, boxes, matrices and scores, t = 0 and 1 s; returns ``path``."""
    with FaceStoreWriter(path, crop_size=size, fps=0.0, detector="none", template="none") as w:
        clip = ClipFrames(
            image=np.zeros((2, size, size, 3), np.uint8),
            landmarks=np.zeros((2, 68, 2), np.float32),
            source_landmarks=np.zeros((2, 68, 2), np.float32),
            bbox=np.zeros((2, 4), np.float32),
            matrix=np.zeros((2, 2, 3), np.float32),
            score=np.zeros(2, np.float32),
            t=np.array([0.0, 1.0], np.float32),
            frame_number=np.array([0, 1], np.int32),
            detector=["none", "none"],
        )
        w.add_clip("someone", "video", "clip", clip)
    return path


def write_empty_store(path: Path, size: int = 64) -> Path:
    """A store of S = ``size`` px crops with no clip and no frame; returns ``path``."""
    with FaceStoreWriter(path, crop_size=size, fps=25 / 6, detector="dlib", template="t"):
        pass
    return path
