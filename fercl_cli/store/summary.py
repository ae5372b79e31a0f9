"""What a store holds, as a plain dict (``fercl inspect`` prints it as a table or JSON)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from fercl_cli.store.reader import FaceStore


def summarize(store: FaceStore) -> dict[str, Any]:
    """Counts (frames, clips, identities, videos, failures by stage, frames per detector label, empty
    clips), format (crop size, encoding, fps, detector, template, schema and fercl versions), disk size
    in bytes and descriptor slots (dimension and attributes) of ``store``."""
    labels = store.detector_labels
    codes, counts = np.unique(store.column("detector"), return_counts=True)
    lengths = store.clip_stop - store.clip_start
    descriptors = {}
    for kind in store.descriptor_kinds:
        attrs = store.descriptor_attrs(kind)
        descriptors[kind] = {"dim": int(store.descriptors(kind, slice(0, 0)).shape[1]), "attrs": attrs}
    return {
        "path": str(store.path),
        "frames": store.n_frames,
        "clips": store.n_clips,
        "empty_clips": int(np.sum(lengths == 0)),
        "identities": len(store.identity_names),
        "videos": len(store.video_names),
        "failures": store.n_failures,
        "failures_by_stage": dict(Counter(record.stage for _, record in store.failures())),
        "detector_counts": {
            labels[c] if c < len(labels) else str(c): int(k) for c, k in zip(codes, counts, strict=True)
        },
        "crop_size": store.crop_size,
        "encoding": store.encoding,
        "disk_bytes": store.path.stat().st_size,
        "schema_version": store.schema_version,
        "fercl_version": str(store.attrs.get("fercl_version", "")),
        "created": str(store.attrs.get("created", "")),
        "detector": store.detector,
        "fps": store.fps,
        "template": store.template,
        "shard": str(store.attrs.get("shard", "")),
        "config": store.config,
        "descriptors": descriptors,
    }
