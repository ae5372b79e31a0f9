"""Writing an :class:`~fercl_cli.apply.embed.Embedding` as ``.h5``, ``.npy`` (+ ``FILE.csv`` sidecar) or
``.csv``; every file goes to a hidden temporary name and is renamed into place, so a failure leaves no
partial output.

Columns of the CSV outputs: ``source, frame, t, box_x0, box_y0, box_x1, box_y1, lm0_x, lm0_y, …,
lm67_x, lm67_y`` (source px; ``frame`` −1 and ``t`` empty for still images), then in ``.csv`` only
``f0 … f{F-1}``. The ``.npy`` holds float32 [N, F] features whose row i is row i of the sidecar.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from fercl_cli.apply.embed import Embedding
from fercl_cli.errors import FerclError
from fercl_cli.space import write_atomic

FORMATS = (".h5", ".npy", ".csv")


def sidecar_path(out: Path) -> Path:
    """Where the metadata of a ``.npy`` output goes: ``out`` plus ``.csv`` (``feats.npy.csv``)."""
    return out.with_name(out.name + ".csv")


def check_out(out: Path) -> Path:
    """``out`` if its suffix is a known format (checked before any work)."""
    if out.suffix.lower() not in FORMATS:
        raise FerclError(f"--out {out}: give a path ending in {', '.join(FORMATS)}")
    return out


def metadata_columns() -> list[str]:
    """The metadata header shared by the CSV outputs."""
    points = [f"lm{i}_{axis}" for i in range(68) for axis in ("x", "y")]
    return ["source", "frame", "t", "box_x0", "box_y0", "box_x1", "box_y1", *points]


def metadata_rows(embedding: Embedding) -> list[list[object]]:
    """One metadata row per face, in :func:`metadata_columns` order."""
    rows = []
    for i, source in enumerate(embedding.sources):
        t = float(embedding.t[i])
        rows.append(
            [
                source,
                int(embedding.frame[i]),
                "" if np.isnan(t) else f"{t:.6g}",
                *(f"{v:.2f}" for v in embedding.boxes[i]),
                *(f"{v:.2f}" for v in embedding.landmarks[i].reshape(-1)),
            ]
        )
    return rows


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return handle.getvalue()


def _write_h5(embedding: Embedding, tmp: Path) -> None:
    import h5py

    with h5py.File(tmp, "w") as f:
        f.create_dataset("features", data=embedding.features.astype(np.float32))
        f.create_dataset("boxes", data=embedding.boxes.astype(np.float32))
        f.create_dataset("landmarks", data=embedding.landmarks.astype(np.float32))
        f.create_dataset("sources", data=embedding.sources, dtype=h5py.string_dtype())
        f.create_dataset("frame", data=embedding.frame.astype(np.int32))
        f.create_dataset("t", data=embedding.t.astype(np.float32))
        f.attrs["format"] = "fercl-embeddings"
        f.attrs["version"] = 1
        f.attrs["summary"] = json.dumps(embedding.summary())


def _write_npy(features: np.ndarray, tmp: Path) -> None:
    with open(tmp, "wb") as handle:  # a path would get ".npy" appended by np.save
        np.save(handle, features.astype(np.float32), allow_pickle=False)


def write_embedding(embedding: Embedding, out: Path) -> list[Path]:
    """Write ``embedding`` in the format of ``out``'s suffix; returns the files written."""
    out = check_out(Path(out))
    suffix = out.suffix.lower()
    needed = embedding.features.nbytes * 3 + (1 << 16)
    if suffix == ".h5":
        write_atomic(out, needed, lambda tmp: _write_h5(embedding, tmp))
        return [out]
    header, rows = metadata_columns(), metadata_rows(embedding)
    if suffix == ".csv":
        width = embedding.features.shape[1]
        header = [*header, *(f"f{j}" for j in range(width))]
        rows = [
            [*row, *(f"{v:.7g}" for v in feats)] for row, feats in zip(rows, embedding.features, strict=True)
        ]
        text = csv_text(header, rows)
        write_atomic(out, len(text) + 1, lambda tmp: tmp.write_text(text))
        return [out]
    sidecar, text = sidecar_path(out), csv_text(header, rows)
    write_atomic(sidecar, len(text) + 1, lambda tmp: tmp.write_text(text))
    try:
        write_atomic(out, needed, lambda tmp: _write_npy(embedding.features, tmp))
    except BaseException:
        sidecar.unlink(missing_ok=True)
        raise
    return [out, sidecar]
