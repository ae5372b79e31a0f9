"""``fercl describe`` as a library call: descriptors for every frame of a face store, stored in it."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.descriptors import KINDS
from fercl_cli.errors import FerclError
from fercl_cli.space import preallocated_memmap, require_free

if TYPE_CHECKING:
    import torch

    from fercl_cli.store.reader import FaceStore


@dataclass
class DescribeSummary:
    """What a ``fercl describe`` run did.

    Attributes:
        store: the face store; kind: descriptor kind; dim: descriptor length.
        frames: frames described; valid: frames with a usable descriptor; flagged: frames without
            usable landmarks (zero, never-matching descriptor).
        weights_sha256: hash of the weights file ("" for geometry).
        seconds: wall time; frames_per_s: rate.
    """

    store: str
    kind: str
    dim: int
    frames: int = 0
    valid: int = 0
    flagged: int = 0
    weights_sha256: str = ""
    seconds: float = 0.0
    frames_per_s: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return dict(self.__dict__)


def resolve_kind(kind: str | None, weights: str | Path | None) -> str:
    """The descriptor kind to use: as given, else ``resnet18`` when weights are given, else ``geometry``."""
    if kind is None:
        return "resnet18" if weights is not None else "geometry"
    if kind not in KINDS:
        raise FerclError(f"--kind {kind}: choose one of {', '.join(KINDS)}")
    if kind == "geometry" and weights is not None:
        raise FerclError("--weights is only used by --kind resnet18; drop it or pass --kind resnet18")
    return kind


def describe_store(
    store_path: str | Path,
    kind: str | None = None,
    weights: str | Path | None = None,
    batch: int = 256,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> DescribeSummary:
    """Compute descriptors of every committed frame of a store and write them to ``descriptors/<kind>``.

    Args:
        store_path: the face store (it must have frames with landmarks).
        kind: ``geometry`` or ``resnet18`` (None: resnet18 if ``weights`` else geometry).
        weights: local torchvision ResNet-18 state dict (resnet18 only).
        batch: frames per forward pass (resnet18); geometry reads 4 × batch frames at a time.
        device: ``cpu`` or ``cuda`` (resnet18 only).
        progress: called as ``progress(frames_done, frames_total)``.

    The stored slot is float16 [N, D] with attributes ``kind``, ``config`` (JSON), ``dim``,
    ``valid_frames`` and, for resnet18, ``weights_sha256``; rows of flagged frames are zero. Geometry
    descriptors are centred on each identity's mean, so they change when frames are added.
    """
    from fercl_cli.descriptors import geometry, resnet
    from fercl_cli.store.descriptors import write_descriptors
    from fercl_cli.store.reader import FaceStore

    kind = resolve_kind(kind, weights)
    if batch < 1:
        raise FerclError(f"--batch-size {batch}: use at least 1 frame per batch")
    store = FaceStore(store_path)
    n = store.n_frames
    if n == 0:
        raise FerclError(f"{store.path}: the store has no frames; preprocess some videos first")
    has = store.has_landmarks()
    if not has.any():
        raise FerclError(
            f"{store.path}: no frame has landmarks, so there are no eye and mouth crops to describe; "
            "preprocess with a detector"
        )
    if kind == "resnet18":
        resnet.check_device(device)
        model = resnet.load_resnet18(weights)
        config = resnet.config(weights)
        dim = 2 * resnet.FEATURE_DIM
    else:
        config = geometry.config()
        dim = geometry.raw_size()
    summary = DescribeSummary(
        store=str(store.path), kind=kind, dim=dim, weights_sha256=str(config.get("weights_sha256", ""))
    )
    began = time.perf_counter()
    if progress is not None:
        progress(0, n)
    scratch_bytes = n * dim * 2 + (n * geometry.raw_size() * 4 if kind != "resnet18" else 0)
    require_free(
        store.path.parent, scratch_bytes + n * dim * 2 + (1 << 20), f"{kind} descriptors of {n} frames"
    )
    with tempfile.TemporaryDirectory(dir=store.path.parent, prefix=".describe-") as scratch:
        values = preallocated_memmap(Path(scratch) / "values.f16", np.float16, (n, dim))
        if kind == "resnet18":
            valid = _describe_resnet(store, has, values, model, batch, device, progress)
        else:
            valid = _describe_geometry(store, has, values, Path(scratch), 4 * batch, progress)
        store.close()
        summary.frames, summary.valid = n, int(valid.sum())
        attrs = {"config": json.dumps(config, sort_keys=True), "dim": dim, "valid_frames": summary.valid}
        if kind == "resnet18":
            attrs["weights_sha256"] = summary.weights_sha256
        write_descriptors(store.path, kind, values, attrs)
        del values
    summary.flagged = summary.frames - summary.valid
    summary.seconds = time.perf_counter() - began
    summary.frames_per_s = summary.frames / summary.seconds if summary.seconds > 0 else 0.0
    return summary


def _describe_resnet(
    store: FaceStore,
    has: np.ndarray,
    values: np.ndarray,
    model: torch.nn.Module,
    batch: int,
    device: str,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """One pass: descriptors of each chunk straight into ``values`` (float16 [N, D]); ``has``: bool [N],
    frames with landmarks; returns valid bool [N]."""
    from fercl_cli.descriptors import resnet

    n = store.n_frames
    valid = np.zeros(n, bool)
    for start in range(0, n, batch):
        rows = slice(start, min(start + batch, n))
        out = resnet.resnet18_descriptors(
            store.images(rows), store.landmarks(rows), model, has[rows], batch, device
        )
        values[rows], valid[rows] = out.values, out.valid
        if progress is not None:
            progress(rows.stop, n)
    return valid


def _describe_geometry(
    store: FaceStore,
    has: np.ndarray,
    values: np.ndarray,
    scratch: Path,
    chunk: int,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """Two passes: raw features (to a scratch file) and identity statistics, then standardised
    descriptors into ``values``; returns valid bool [N]."""
    from fercl_cli.descriptors import geometry
    from fercl_cli.descriptors.standardise import GroupStandardiser

    n = store.n_frames
    groups = store.clip_identity[store.column("clip")].astype(np.int64)
    standardiser = GroupStandardiser(geometry.parts(), max(len(store.identity_names), int(groups.max()) + 1))
    raw = preallocated_memmap(scratch / "raw.f32", np.float32, (n, geometry.raw_size()))
    usable = np.zeros(n, bool)
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        raw[rows], usable[rows] = geometry.raw_features(store.images(rows), store.landmarks(rows), has[rows])
        standardiser.update(raw[rows], usable[rows], groups[rows])
        if progress is not None:
            progress(rows.stop, n)
    valid = np.zeros(n, bool)
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        out = standardiser.apply(raw[rows], usable[rows], groups[rows])
        values[rows], valid[rows] = out.values, out.valid
    del raw
    return valid
