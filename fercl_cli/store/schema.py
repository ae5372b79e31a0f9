"""Names, dtypes and version of the face store (HDF5); see ``docs/store.md`` for every dataset.

Rows are frames, sorted by (clip, time). Coordinates follow :mod:`fercl_cli.faces.types`: pixels, x to
the right, y down, origin at the centre of the top-left pixel. "Crop pixels" refer to the aligned
S×S crop stored in the file, "source pixels" to the decoded source frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

SCHEMA_VERSION = 1
STORE_KIND = "faces"
N_POINTS = 68

ENCODINGS = ("raw", "jpeg")

# Frame-level ``detector`` codes: the index into this tuple is what ``frames/detector`` stores (codes
# 0-3 match ``fercl_cli.preprocess.analyse.DETECTOR_CODES``). "given": landmarks that came with the
# source (e.g. AffectNet's CSV); "none": no usable landmarks, the frame's landmark arrays hold zeros.
DETECTOR_LABELS: tuple[str, ...] = ("hog", "cnn", "tracked", "insightface", "given", "none")
NO_LANDMARKS = DETECTOR_LABELS.index("none")

# Per-frame columns other than the image: name -> (dtype, shape of one row).
FRAME_COLUMNS: dict[str, tuple[str, tuple[int, ...]]] = {
    "landmarks": ("float32", (N_POINTS, 2)),
    "source_landmarks": ("float32", (N_POINTS, 2)),
    "bbox": ("float32", (4,)),
    "matrix": ("float32", (2, 3)),
    "score": ("float32", ()),
    "clip": ("int32", ()),
    "t": ("float32", ()),
    "frame_number": ("int32", ()),
    "detector": ("uint8", ()),
}


def chunk_rows(row_shape: tuple[int, ...], itemsize: int, target_bytes: int = 8192) -> int:
    """Rows per chunk so that one chunk holds about ``target_bytes`` (a power of two, at least 1)."""
    row_bytes = int(np.prod(row_shape, dtype=np.int64)) * itemsize
    rows = max(1, target_bytes // max(1, row_bytes))
    return 1 << (rows.bit_length() - 1)


class Failure(NamedTuple):
    """Why a frame or a whole clip produced no row (a plain ``(source, stage, reason)`` tuple works too).

    Attributes:
        source: the file (and frame) at fault, e.g. ``"id10001/1zcIwhmdeo4/00001.mp4#frame=42"``.
        stage: the pipeline stage, e.g. ``"decode"``, ``"detect"``, ``"align"``.
        reason: a short human-readable explanation.
    """

    source: str
    stage: str
    reason: str


@dataclass
class ClipFrames:
    """The frames of one clip, in time order, ready for :meth:`FaceStoreWriter.add_clip` (which takes any
    object with these attributes, e.g. ``fercl_cli.preprocess.analyse.ClipResult``).

    Attributes:
        image: uint8 [n, S, S, 3] RGB aligned crops; may be ``None`` when ``encoded`` is given.
        landmarks: float32 [n, 68, 2] in crop pixels.
        source_landmarks: float32 [n, 68, 2] in source pixels.
        bbox: float32 [n, 4] face box ``(x0, y0, x1, y1)`` in source pixels.
        matrix: float32 [n, 2, 3] similarity transform mapping source pixels to crop pixels.
        score: float32 [n] detector confidence.
        t: float32 [n] seconds from the start of the video, strictly increasing.
        frame_number: int32 [n] frame index in the decoded video.
        detector: n labels from :data:`DETECTOR_LABELS`, or their integer codes; ``"none"`` means no usable landmarks (their
            landmark values are ignored and stored as zeros).
        encoded: optional n JPEG byte strings (``encoding="jpeg"`` stores only), stored as given
            instead of encoding ``image``; used to copy frames between stores without re-encoding.
    """

    image: np.ndarray | None
    landmarks: np.ndarray
    source_landmarks: np.ndarray
    bbox: np.ndarray
    matrix: np.ndarray
    score: np.ndarray
    t: np.ndarray
    frame_number: np.ndarray
    detector: Sequence[str] | np.ndarray
    encoded: Sequence[bytes] | None = None

    def __len__(self) -> int:
        return len(self.t)
