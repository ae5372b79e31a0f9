"""The evaluation cache: each dataset converted once into one HDF5 file, and extracted features per
(dataset, checkpoint) in another, so that repeated evaluations skip decoding, alignment and the network.

Dataset file ``<name>-<key16>.h5`` (``key`` = :func:`fingerprint` of the source files and reader
options):

- ``images`` uint8 [N, S, S, 3] RGB crops, one image per chunk;
- ``labels`` int64 [N] class codes; ``valence``, ``arousal`` float32 [N] (NaN when missing);
- ``split`` uint8 [N] index into the attribute ``split_names``; ``keys`` UTF-8 strings [N] (where each
  image came from);
- attributes ``format`` (``fercl-eval-cache``), ``version``, ``fercl_version``, ``name``, ``key``,
  ``class_names``, ``options``, ``counts``, ``notes``, ``extra`` (JSON), ``created``.

Features file ``<name>-<key16>.features-<id16>.h5``: ``features`` float32 [N, F] in the dataset file's row
order, attributes ``dataset_key``, ``backbone_hash``, ``input_size``, ``precision``.

Both are written to a temporary file in the same folder and renamed into place, so a file under its
final name is always complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fercl_cli import __version__
from fercl_cli.errors import FerclError
from fercl_cli.evaluate.progress import ProgressFn, no_progress
from fercl_cli.sources.labelled import ALL, SELECT, TEST, TRAIN, LabelledSource
from fercl_cli.space import require_free
from fercl_cli.store.guarded import new_h5

CACHE_FORMAT = "fercl-eval-cache"
CACHE_VERSION = 1
CACHE_FOLDER = ".fercl-cache"
SPLIT_NAMES: tuple[str, ...] = (TRAIN, SELECT, TEST, ALL)
_FLUSH_ROWS = 256


def default_cache_dir(data: Path) -> Path:
    """``<data>/.fercl-cache`` for a folder, ``<folder of data>/.fercl-cache`` for a file."""
    data = Path(data)
    return (data.parent if data.is_file() else data) / CACHE_FOLDER


def walk_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (recursive, sorted, hidden entries skipped)."""
    found: list[Path] = []
    stack = [Path(folder)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=True):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=True):
                    found.append(Path(entry.path))
    return sorted(found)


def fingerprint(name: str, root: Path, files: Iterable[Path], options: Mapping[str, Any]) -> str:
    """sha256 (hex) of the dataset name, the reader options, the cache version and, for every file, its
    path relative to ``root``, size and modification time (ns): any change to the data gives a new key."""
    digest = hashlib.sha256()
    digest.update(json.dumps([CACHE_FORMAT, CACHE_VERSION, name, dict(options)], sort_keys=True).encode())
    root = Path(root)
    for path in files:
        stat = path.stat()
        try:
            relative = path.relative_to(root).as_posix()
        except ValueError:
            relative = path.as_posix()
        digest.update(f"\n{relative}\t{stat.st_size}\t{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def dataset_path(cache_dir: Path, name: str, key: str) -> Path:
    """Where the dataset with this fingerprint is cached."""
    return Path(cache_dir) / f"{name}-{key[:16]}.h5"


def features_path(dataset_file: Path, backbone_hash: str, input_size: int, precision: str) -> Path:
    """Where the features of ``dataset_file`` under this backbone, input size and precision are cached."""
    ident = hashlib.sha256(f"{backbone_hash}|{input_size}|{precision}".encode()).hexdigest()[:16]
    return dataset_file.with_name(f"{dataset_file.stem}.features-{ident}.h5")


@dataclass(frozen=True)
class CachedDataset:
    """A converted dataset: labels and metadata in memory, images read from ``path`` on demand.

    Attributes:
        path: the cache file; key: its fingerprint; hit: whether it existed before this run.
        name, class_names: the dataset and its classes (index = class code for AffectNet/FER2013,
            person index for LFW).
        labels: int64 [N]; valence, arousal: float32 [N] (NaN when missing); splits: str [N];
        keys: str [N] where each image came from.
        counts, notes: the reader's counters and notes from the conversion.
        extra: dataset-specific facts recorded at conversion (e.g. AffectNet's listed training counts).
        image_size: S of the uint8 [N, S, S, 3] crops.
    """

    path: Path
    key: str
    hit: bool
    name: str
    class_names: tuple[str, ...]
    labels: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray
    splits: np.ndarray
    keys: np.ndarray
    counts: dict[str, int]
    notes: list[str]
    extra: dict[str, Any]
    image_size: int

    def __len__(self) -> int:
        return len(self.labels)

    def rows(self, split: str) -> np.ndarray:
        """int64 indices of the rows in ``split``, in file order."""
        return np.flatnonzero(self.splits == split).astype(np.int64)

    @contextmanager
    def images(self) -> Iterator[Any]:
        """The ``images`` HDF5 dataset (uint8 [N, S, S, 3]); open while the ``with`` block runs."""
        import h5py

        with h5py.File(self.path, "r") as handle:
            yield handle["images"]


def read_dataset(path: Path, hit: bool = True) -> CachedDataset:
    """Open a dataset cache file written by :func:`write_dataset`."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            attrs = handle.attrs
            if attrs.get("format") != CACHE_FORMAT or int(attrs.get("version", -1)) != CACHE_VERSION:
                raise FerclError(f"{path}: not a version-{CACHE_VERSION} fercl evaluation cache; delete it")
            split_names = np.asarray(json.loads(attrs["split_names"]), dtype=object)
            return CachedDataset(
                path=Path(path),
                key=str(attrs["key"]),
                hit=hit,
                name=str(attrs["name"]),
                class_names=tuple(json.loads(attrs["class_names"])),
                labels=handle["labels"][()].astype(np.int64),
                valence=handle["valence"][()],
                arousal=handle["arousal"][()],
                splits=split_names[handle["split"][()]].astype(str),
                keys=handle["keys"].asstr()[()].astype(str),
                counts=json.loads(attrs["counts"]),
                notes=json.loads(attrs["notes"]),
                extra=json.loads(attrs["extra"]),
                image_size=int(handle["images"].shape[1]),
            )
    except OSError as exc:
        raise FerclError(f"{path}: unreadable evaluation cache ({exc}); delete it to rebuild") from None


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FerclError(f"{path.parent}: cannot create the cache folder ({exc}); pass --cache DIR") from None
    if not os.access(path.parent, os.W_OK):
        raise FerclError(f"{path.parent}: the cache folder is not writable; pass --cache DIR")
    tmp = _temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_dataset(
    path: Path,
    source: LabelledSource,
    *,
    key: str,
    options: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    progress: ProgressFn = no_progress,
) -> None:
    """Read every image of ``source`` once and write the cache file ``path`` (atomically).

    Raises:
        FerclError: no image of the source could be read.
    """
    import h5py

    total, done = len(source), 0
    stage = f"converting {source.name}"
    progress(stage, 0, total)
    labels: list[int] = []
    valence: list[float] = []
    arousal: list[float] = []
    splits: list[int] = []
    keys: list[str] = []
    with _atomic(Path(path)) as tmp, new_h5(tmp) as handle:
        images = None
        buffer: list[np.ndarray] = []

        def flush() -> None:
            if buffer:
                start = images.shape[0]
                images.resize(start + len(buffer), axis=0)
                images[start:] = np.stack(buffer)
                buffer.clear()

        for record in source:
            if images is None:
                side = record.image.shape[0]
                require_free(tmp.parent, total * record.image.nbytes, f"the {source.name} cache")
                images = handle.create_dataset(
                    "images",
                    shape=(0, side, side, 3),
                    maxshape=(None, side, side, 3),
                    dtype=np.uint8,
                    chunks=(1, side, side, 3),
                )
            buffer.append(record.image)
            labels.append(record.label)
            valence.append(record.valence)
            arousal.append(record.arousal)
            splits.append(SPLIT_NAMES.index(record.split))
            keys.append(record.key)
            if len(buffer) >= _FLUSH_ROWS:
                flush()
            done += 1
            progress(stage, done, total)
        if images is None:
            notes = "; ".join(source.notes())
            raise FerclError(f"{source.name}: no image could be read ({notes or 'the source is empty'})")
        flush()
        handle.create_dataset("labels", data=np.asarray(labels, dtype=np.int64))
        handle.create_dataset("valence", data=np.asarray(valence, dtype=np.float32))
        handle.create_dataset("arousal", data=np.asarray(arousal, dtype=np.float32))
        handle.create_dataset("split", data=np.asarray(splits, dtype=np.uint8))
        handle.create_dataset("keys", data=keys, dtype=h5py.string_dtype())
        attrs = {
            "format": CACHE_FORMAT,
            "version": CACHE_VERSION,
            "fercl_version": __version__,
            "name": source.name,
            "key": key,
            "class_names": json.dumps(list(source.class_names)),
            "split_names": json.dumps(list(SPLIT_NAMES)),
            "options": json.dumps(dict(options), sort_keys=True),
            "counts": json.dumps(source.counts()),
            "notes": json.dumps(source.notes()),
            "extra": json.dumps(dict(extra or {})),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        handle.attrs.update(attrs)


def ensure_dataset(
    cache_dir: Path,
    name: str,
    key: str,
    open_source: Callable[[], LabelledSource],
    *,
    options: Mapping[str, Any],
    extra: Callable[[LabelledSource], Mapping[str, Any]] | None = None,
    progress: ProgressFn = no_progress,
) -> CachedDataset:
    """The cached dataset with fingerprint ``key``: read it if present (``hit``), else open the source,
    convert it and read the result."""
    path = dataset_path(cache_dir, name, key)
    if path.is_file():
        return read_dataset(path, hit=True)
    source = open_source()
    write_dataset(
        path,
        source,
        key=key,
        options=options,
        extra=None if extra is None else extra(source),
        progress=progress,
    )
    return read_dataset(path, hit=False)


def load_features(path: Path, *, dataset_key: str, backbone_hash: str, rows: int) -> np.ndarray | None:
    """Cached features float32 [rows, F], or None when absent or written for something else."""
    import h5py

    if not path.is_file():
        return None
    try:
        with h5py.File(path, "r") as handle:
            attrs = handle.attrs
            if attrs.get("dataset_key") != dataset_key or attrs.get("backbone_hash") != backbone_hash:
                return None
            features = handle["features"][()]
    except (OSError, KeyError):
        return None
    return features if features.shape[0] == rows else None


def save_features(path: Path, features: np.ndarray, attrs: Mapping[str, Any]) -> None:
    """Write float32 [N, F] ``features`` and their provenance ``attrs`` (atomically)."""
    features = np.asarray(features, dtype=np.float32)
    require_free(Path(path).parent, features.nbytes, "the feature cache")
    with _atomic(Path(path)) as tmp, new_h5(tmp) as handle:
        handle.create_dataset("features", data=np.asarray(features, dtype=np.float32))
        handle.attrs.update({k: v for k, v in attrs.items()})
