"""The fitted linear probe saved by ``fercl evaluate --save-head`` and applied by ``fercl predict``.

File: a NumPy ``.npz`` read and written with ``allow_pickle=False`` (never pickle). Arrays ``mean``,
``scale``, ``coef`` float64 [K, D] and ``intercept`` float64 [K] (see
:class:`~fercl_cli.evaluate.probes.LinearMap`), and ``meta``, a 0-d string holding JSON: ``format``
(``fercl-head``), ``version``, ``kind`` (``classification``: K logits, softmax gives the class
probabilities; ``regression``: K ridge outputs, valence and arousal), ``outputs`` (class names or target
names, one per row), ``task``, ``seed``, ``hyperparameters``, and what the head belongs to: ``backbone``
(``hash``, ``arch``, ``feature_dim``, ``spec``) and ``input_size`` (the crops are S = round(input·128/112)).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.probes import LinearMap
from fercl_cli.space import write_atomic

HEAD_FORMAT = "fercl-head"
HEAD_VERSION = 1
KINDS = ("classification", "regression")


@dataclass(frozen=True)
class Head:
    """A saved probe: ``linear`` (K outputs) and ``meta`` (the JSON described in the module docstring)."""

    linear: LinearMap
    meta: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def outputs(self) -> list[str]:
        return list(self.meta["outputs"])

    def apply(self, features: np.ndarray) -> np.ndarray:
        """float64 [N, K]: class probabilities (softmax of the logits, rows sum to 1) or regression values."""
        scores = self.linear.scores(features)
        if self.kind == "regression":
            return scores
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def check_backbone(self, backbone_hash: str, input_size: int, where: Path) -> None:
        """Refuse features of another backbone or input size than the head was fitted on."""
        mine = self.meta["backbone"]["hash"]
        size = self.meta["input_size"]
        if mine != backbone_hash or size != input_size:
            raise FerclError(
                f"{where}: the head was fitted on backbone {mine} at {size} px, not on {backbone_hash} at "
                f"{input_size} px; pass the checkpoint (and --size) the head was saved with"
            )


def combine(maps: list[LinearMap]) -> LinearMap:
    """One map holding every output of ``maps`` in order (the per-target ridge models)."""
    return LinearMap(
        np.concatenate([m.mean for m in maps]),
        np.concatenate([m.scale for m in maps]),
        np.concatenate([m.coef for m in maps]),
        np.concatenate([m.intercept for m in maps]),
        tuple(o for m in maps for o in m.outputs),
    )


def save_head(path: Path, linear: LinearMap, meta: dict[str, Any]) -> Path:
    """Write the head to ``path`` (``.npz``) atomically."""
    path = Path(path)
    meta = {"format": HEAD_FORMAT, "version": HEAD_VERSION, **meta}
    arrays = {
        "mean": linear.mean,
        "scale": linear.scale,
        "coef": linear.coef,
        "intercept": linear.intercept,
        "meta": np.array(json.dumps(meta)),
    }

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)

    write_atomic(path, sum(a.nbytes for a in arrays.values()) + (1 << 16), write)
    return path


def load_head(path: Path) -> Head:
    """Read a head written by :func:`save_head`; anything else is one error line naming the file."""
    path = Path(path)
    fix = "pass a file written by 'fercl evaluate --save-head'"
    if not path.is_file():
        raise FerclError(f"{path}: head file not found; {fix}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in ("mean", "scale", "coef", "intercept", "meta")}
        meta = json.loads(str(arrays["meta"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise FerclError(f"{path}: not a fercl head file ({str(exc).splitlines()[0]}); {fix}") from None
    if not isinstance(meta, dict) or meta.get("format") != HEAD_FORMAT or meta.get("kind") not in KINDS:
        raise FerclError(f"{path}: not a fercl head file (format {meta.get('format')!r}); {fix}")
    k = len(meta["outputs"])
    if arrays["coef"].shape[0] != k or arrays["intercept"].shape != (k,):
        raise FerclError(f"{path}: the head's arrays do not match its {k} outputs; {fix}")
    linear = LinearMap(
        arrays["mean"], arrays["scale"], arrays["coef"], arrays["intercept"], tuple(meta["outputs"])
    )
    return Head(linear, meta)
