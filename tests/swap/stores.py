"""Small face stores built with the store writer from real aligned portraits, for bank and command tests.

Identities: the astronaut, Grace Hopper and their mirror images (4 people); each has one clip of
``frames`` frames that differ by small non-similarity stretches (stand-ins for expression changes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercl_cli.faces.landmarks import flip_landmarks
from fercl_cli.faces.template import DEFAULT_TEMPLATE
from fercl_cli.store.schema import ClipFrames
from fercl_cli.store.writer import FaceStoreWriter
from tests.swap.photos import aligned, stretch

STRETCHES = ((1.0, 1.0), (1.04, 0.96), (0.96, 1.05), (1.02, 1.02))


def people(size: int = 128) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image, landmarks) of the four identities."""
    (a, al), (g, gl) = aligned(size)
    out = []
    for name, image, lm in (("astronaut", a, al), ("hopper", g, gl)):
        out.append((name, image, lm))
        out.append((f"{name}-mirror", image[:, ::-1].copy(), flip_landmarks(lm, size).astype(np.float32)))
    return out


def write_store(
    path: Path, frames: int = 3, size: int = 128, no_landmarks: tuple[tuple[int, int], ...] = ()
) -> Path:
    """A store at ``path`` (4 identities × 1 clip × ``frames`` frames); ``no_landmarks`` lists
    (identity index, frame index) pairs stored with detector ``"none"``."""
    with FaceStoreWriter(
        path, crop_size=size, fps=25 / 6, detector="dlib", template=DEFAULT_TEMPLATE.describe()
    ) as w:
        for p, (name, image, lm) in enumerate(people(size)):
            pairs = [stretch(image, lm, *STRETCHES[k % len(STRETCHES)]) for k in range(frames)]
            detector = ["none" if (p, k) in no_landmarks else "hog" for k in range(frames)]
            clip = ClipFrames(
                image=np.stack([img for img, _ in pairs]),
                landmarks=np.stack([pts for _, pts in pairs]),
                source_landmarks=np.stack([pts for _, pts in pairs]),
                bbox=np.tile(np.array([0, 0, size, size], np.float32), (frames, 1)),
                matrix=np.tile(np.array([[1, 0, 0], [0, 1, 0]], np.float32), (frames, 1, 1)),
                score=np.ones(frames, np.float32),
                t=np.arange(frames, dtype=np.float32) * 0.24,
                frame_number=np.arange(frames, dtype=np.int32) * 6,
                detector=detector,
            )
            w.add_clip(name, f"{name}-video", "00001", clip)
        w.commit()
    return path


def write_store_without_landmarks(path: Path, size: int = 64) -> Path:
    """A store whose frames all have detector ``"none"`` (like a FER2013 store)."""
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
    """A store with no frames."""
    with FaceStoreWriter(path, crop_size=size, fps=25 / 6, detector="dlib", template="t"):
        pass
    return path
