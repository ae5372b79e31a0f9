"""Deterministic synthetic clips for the store tests, and a writer process the crash tests kill.

``python -m tests.store.synthetic PATH ENCODING COUNT`` writes (or resumes) the first COUNT clips of
:func:`clip_specs` into PATH, committing after most clips, exactly like :func:`write_clips`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from fercl_cli.faces.template import DEFAULT_TEMPLATE
from fercl_cli.store.reader import FaceStore
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
    """Random crops and plausible landmarks: the template plus noise, mapped from a source frame by a
    random similarity; one frame in five has no landmarks."""
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


def assert_store_holds(store: FaceStore, specs: list[ClipSpec]) -> None:
    """The store's committed clips are exactly ``specs``, in order, with exactly their content."""
    assert store.n_clips == len(specs)
    assert [store.clip_key(c) for c in range(store.n_clips)] == [spec.key for spec in specs]
    assert store.n_frames == sum(spec.frames for spec in specs)
    failures = [(c, f) for c, spec in enumerate(specs) for f in spec.failures]
    assert store.failures() == failures
    for c, spec in enumerate(specs):
        rows = store.clip_rows(c)
        expected = make_frames(spec, store.crop_size)
        if expected is None:
            assert len(rows) == 0
            continue
        index = slice(rows.start, rows.stop)
        has = np.array([label != "none" for label in expected.detector])
        assert np.array_equal(store.has_landmarks(index), has)
        assert np.array_equal(store.landmarks(index)[has], expected.landmarks[has])
        assert not store.landmarks(index)[~has].any()
        for name in ("bbox", "matrix", "score", "t", "frame_number"):
            assert np.array_equal(store.column(name, index), getattr(expected, name)), name
        assert np.all(store.column("clip", index) == c)
        if store.encoding == "raw":
            assert np.array_equal(store.images(index), expected.image)


def dataset_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of an HDF5 file as an array (strings decoded), keyed by its path."""
    arrays: dict[str, np.ndarray] = {}

    def visit(name: str, item: object) -> None:
        if isinstance(item, h5py.Dataset):
            arrays[name] = item.asstr()[()] if h5py.check_string_dtype(item.dtype) else item[()]

    with h5py.File(path, "r", locking=False) as h5:
        h5.visititems(visit)
    return arrays


if __name__ == "__main__":
    write_clips(Path(sys.argv[1]), clip_specs(int(sys.argv[3])), encoding=sys.argv[2])
