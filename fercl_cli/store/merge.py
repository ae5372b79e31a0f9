"""Join shard stores (``--shard I/N`` runs) into one store, clips sorted by their key."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.space import require_free
from fercl_cli.store.descriptors import write_descriptors
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.schema import FRAME_COLUMNS, ClipFrames, Failure
from fercl_cli.store.writer import FaceStoreWriter

_SAME = ("crop_size", "encoding", "jpeg_quality", "fps", "detector", "template")


@dataclass
class MergeResult:
    """What :func:`merge` wrote: counts of the merged store and the descriptor slots carried over or not."""

    path: Path
    frames: int
    clips: int
    identities: int
    videos: int
    failures: int
    descriptors: list[str] = field(default_factory=list)
    dropped_descriptors: list[str] = field(default_factory=list)


class _MergedRows:
    """Rows of one descriptor kind in merged order, read on demand from the shards (``values[a:b]``)."""

    def __init__(
        self, stores: list[FaceStore], kind: str, segments: list[tuple[int, int, int]], dim: int
    ) -> None:
        self._stores, self._kind, self._segments = stores, kind, segments
        self._dst = np.cumsum([0] + [stop - start for _, start, stop in segments])
        self.shape = (int(self._dst[-1]), dim)

    def __getitem__(self, rows: slice) -> np.ndarray:
        low, high, _ = rows.indices(self.shape[0])
        parts = []
        first = int(np.searchsorted(self._dst, low, side="right")) - 1
        for i in range(max(first, 0), len(self._segments)):
            if self._dst[i] >= high:
                break
            shard, start, _ = self._segments[i]
            a = start + max(low - self._dst[i], 0)
            b = start + min(high, self._dst[i + 1]) - self._dst[i]
            parts.append(self._stores[shard].descriptors(self._kind, slice(a, b)))
        return np.concatenate(parts) if parts else np.zeros((0, self.shape[1]), np.float16)


def _check_compatible(stores: list[FaceStore]) -> None:
    first = stores[0]
    for store in stores[1:]:
        different = [
            key
            for key in _SAME
            if store.attrs.get(key) != first.attrs.get(key)
            and not (key == "jpeg_quality" and first.encoding == "raw")
        ]
        keys = sorted(set(store.config) | set(first.config))
        different += [f"config.{key}" for key in keys if store.config.get(key) != first.config.get(key)]
        if different:
            raise FerclError(
                f"{store.path}: made with other settings than {first.path} ({', '.join(different)}); "
                "merge only shards of one preprocessing run"
            )


def _clip_frames(store: FaceStore, rows: range) -> ClipFrames:
    index = slice(rows.start, rows.stop)
    columns = {name: store.column(name, index) for name in FRAME_COLUMNS if name != "clip"}
    if store.encoding == "jpeg":
        return ClipFrames(image=None, encoded=store.encoded(index), **columns)
    return ClipFrames(image=store.images(index), **columns)


def merge(
    out: str | Path, shards: Sequence[str | Path], progress: Callable[[int, int], Any] | None = None
) -> MergeResult:
    """Write the clips of every store in ``shards`` into the new store ``out``, sorted by clip key
    ``(identity, video, clip name)``, with identities and videos re-indexed by name. Failure records
    follow their clips; descriptor slots present in every shard with equal attributes are carried over
    (others are listed in ``dropped_descriptors``). Resumable: rerunning after a crash skips the clips
    ``out`` already holds. ``progress(done, total)`` is called with frame counts."""
    out = Path(out)
    if not shards:
        raise FerclError("no shard stores given; pass the stores to merge after OUT")
    resolved = {Path(shard).resolve() for shard in shards}
    if out.resolve() in resolved:
        raise FerclError(f"{out}: the output is also one of the shards; choose a new output path")
    stores = [FaceStore(shard) for shard in shards]
    _check_compatible(stores)
    owners: dict[tuple[str, str, str], tuple[int, int]] = {}
    for s, store in enumerate(stores):
        for clip in range(store.n_clips):
            key = store.clip_key(clip)
            if key in owners:
                raise FerclError(
                    f"{store.path}: clip {key} is also in {stores[owners[key][0]].path}; shards overlap"
                )
            owners[key] = (s, clip)
    order = sorted(owners)
    total = sum(store.n_frames for store in stores)
    written = out.stat().st_size if out.exists() else 0
    require_free(out.parent, sum(store.path.stat().st_size for store in stores) - written, "the merged store")
    first = stores[0]
    failures: dict[tuple[int, int], list[Failure]] = defaultdict(list)
    for s, store in enumerate(stores):
        for clip, record in store.failures():
            failures[(s, clip)].append(record)
    done = 0
    with FaceStoreWriter(
        out,
        crop_size=first.crop_size,
        fps=first.fps,
        detector=first.detector,
        template=first.template,
        encoding=first.encoding,
        jpeg_quality=int(first.attrs["jpeg_quality"]),
        config=first.config,
    ) as writer:
        committed = writer.committed_keys
        for key in order:
            s, clip = owners[key]
            rows = stores[s].clip_rows(clip)
            if key not in committed:
                writer.add_clip(
                    *key, _clip_frames(stores[s], rows) if len(rows) else None, failures[(s, clip)]
                )
            done += len(rows)
            if progress is not None:
                progress(done, total)
    segments = [(owners[key][0], *_range(stores, owners[key])) for key in order]
    kept, dropped = _merge_descriptors(out, stores, segments)
    merged = FaceStore(out)
    return MergeResult(
        path=out,
        frames=merged.n_frames,
        clips=merged.n_clips,
        identities=len(merged.identity_names),
        videos=len(merged.video_names),
        failures=merged.n_failures,
        descriptors=kept,
        dropped_descriptors=dropped,
    )


def _range(stores: list[FaceStore], owner: tuple[int, int]) -> tuple[int, int]:
    rows = stores[owner[0]].clip_rows(owner[1])
    return rows.start, rows.stop


def _merge_descriptors(
    out: Path, stores: list[FaceStore], segments: list[tuple[int, int, int]]
) -> tuple[list[str], list[str]]:
    kinds = sorted(set().union(*(store.descriptor_kinds for store in stores)))
    kept, dropped = [], []
    for kind in kinds:
        if not all(kind in store.descriptor_kinds for store in stores):
            dropped.append(kind)
            continue
        attrs = [
            {k: v for k, v in store.descriptor_attrs(kind).items() if k != "created"} for store in stores
        ]
        dims = {store.descriptors(kind, slice(0, 0)).shape[1] for store in stores}
        if len(dims) > 1 or any(
            json.dumps(a, sort_keys=True) != json.dumps(attrs[0], sort_keys=True) for a in attrs
        ):
            dropped.append(kind)
            continue
        write_descriptors(out, kind, _MergedRows(stores, kind, segments, dims.pop()), attrs[0])
        kept.append(kind)
    return kept, dropped
