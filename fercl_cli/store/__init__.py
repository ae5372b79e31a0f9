"""The face store: one HDF5 file of aligned face crops, landmarks, clip index and failures.

Public API (documented in ``docs/store.md``): :class:`FaceStoreWriter` (append-only, crash-safe,
resumable), :class:`FaceStore` (random access, DataLoader-safe), :class:`ClipFrames`, :class:`Failure`,
:func:`write_descriptors`, :func:`validate`, :func:`merge`.
"""

from fercl_cli.store.descriptors import write_descriptors
from fercl_cli.store.merge import MergeResult, merge
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.schema import DETECTOR_LABELS, SCHEMA_VERSION, ClipFrames, Failure
from fercl_cli.store.validate import validate
from fercl_cli.store.writer import FaceStoreWriter

__all__ = [
    "DETECTOR_LABELS",
    "SCHEMA_VERSION",
    "ClipFrames",
    "FaceStore",
    "FaceStoreWriter",
    "Failure",
    "MergeResult",
    "merge",
    "validate",
    "write_descriptors",
]
