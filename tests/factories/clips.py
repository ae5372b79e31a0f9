"""Deterministic seeded clips for the store tests, and a writer process the crash tests kill.

``python -m tests.factories.clips PATH ENCODING COUNT`` writes (or resumes) the first COUNT clips of
:func:`clip_specs` into PATH, committing after most clips, exactly like :func:`write_clips`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fercl_cli.faces.template import DEFAULT_TEMPLATE
from fercl_cli.store.schema import DETECTOR_LABELS, ClipFrames, Failure
from fercl_cli.store.writer import FaceStoreWriter

SIZE = 16
SETTINGS = dict(crop_size=SIZE, fps=25 / 6, detector="dlib", template=DEFAULT_TEMPLATE.describe())


@dataclass(frozen=True)
class ClipSpec:
    """One synthetic clip: its key, frame count (0: a clip that produced no frame) and content seed."""

    identity: str
    video: str
    name: str
    frames: int
    seed: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.identity, self.video, self.name)

    @property
    def failures(self) -> list[Failure]:
        if self.frames == 0:
            return [Failure(f"{self.video}/{self.name}.mp4", "decode", "moov atom not found")]
        if self.seed % 4 == 0:
            return [Failure(f"{self.video}/{self.name}.mp4#frame=3", "detect", "no face")]
        return []


def clip_specs(count: int, start_seed: int = 0) -> list[ClipSpec]:
    """``count`` clips over 5 identities and 2-3 videos each; every 7th clip has no frames."""
    specs = []
    for i in range(count):
        seed = start_seed + i
        identity = f"id{seed % 5:05d}"
        video = f"vid{seed % 5}-{seed % 3}"
        frames = 0 if seed % 7 == 6 else 1 + seed % 6
        specs.append(ClipSpec(identity, video, f"{seed:05d}", frames, seed))
    return specs


def make_frames(spec: ClipSpec, size: int = SIZE) -> ClipFrames | None:
    """The clip's ``n = spec.frames`` frames (None for none): random uint8 [n, S, S, 3] crops, landmarks
    float32 [n, 68, 2] crop px (the template plus noise) mapped from source px by a random similarity,
    t in s (a 25 fps video sampled every 6th frame); frame 1 of clips longer than 2 has no landmarks."""
    n = spec.frames
    if n == 0:
        return None
    rng = np.random.default_rng(spec.seed)
    landmarks = DEFAULT_TEMPLATE.points(size)[None] + rng.normal(0, 0.02 * size, (n, 68, 2))
    scale = rng.uniform(0.2, 0.5, n)
    angle = rng.uniform(-0.3, 0.3, n)
    shift = rng.uniform(-20, 20, (n, 2))
    rotation = np.stack([np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)], -1).reshape(n, 2, 2)
    linear = scale[:, None, None] * rotation
    matrix = np.concatenate([linear, shift[:, :, None]], axis=2)
    source = np.einsum("nij,nkj->nki", np.linalg.inv(linear), landmarks - shift[:, None, :])
    detector = [DETECTOR_LABELS[(spec.seed + k) % 3] for k in range(n)]
    if n > 2:
        detector[1] = "none"
    return ClipFrames(
        image=rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8),
        landmarks=landmarks.astype(np.float32),
        source_landmarks=source.astype(np.float32),
        bbox=np.concatenate([source.min(axis=1), source.max(axis=1)], axis=1).astype(np.float32),
        matrix=matrix.astype(np.float32),
        score=rng.uniform(0, 2, n).astype(np.float32),
        t=(np.sort(rng.choice(200, n, replace=False)) * 6 / 25).astype(np.float32),
        frame_number=(np.arange(n) * 6 + spec.seed).astype(np.int32),
        detector=detector,
    )


def write_clips(path: Path, specs: list[ClipSpec], encoding: str = "raw", **settings) -> None:
    """Write (or resume) ``specs`` into ``path``, committing after every clip whose index is not 1 mod 3."""
    with FaceStoreWriter(path, encoding=encoding, **{**SETTINGS, **settings}) as writer:
        done = writer.committed_keys
        for i, spec in enumerate(specs):
            if spec.key not in done:
                writer.add_clip(*spec.key, make_frames(spec, writer.crop_size), spec.failures)
                if i % 3 != 1:
                    writer.commit()


if __name__ == "__main__":
    write_clips(Path(sys.argv[1]), clip_specs(int(sys.argv[3])), encoding=sys.argv[2])
