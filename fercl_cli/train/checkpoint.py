"""Checkpoints: atomic writes, safe loading, and the random-number state needed to resume bit for bit.

A checkpoint holds only what ``torch.load(weights_only=True)`` accepts: tensors, numbers, strings,
``None`` and lists/tuples/dicts of them. Loading never unpickles anything else, so a crafted file cannot
run code; files from fercl before checkpoint format 2 (NumPy's RNG state was pickled as an ndarray) are
refused with the command that converts them (:mod:`fercl_cli.train.convert`, the one place that
unpickles, behind an explicit ``--trust``).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from fercl_cli.errors import FerclError
from fercl_cli.safe_load import load_tensors
from fercl_cli.space import is_disk_full, no_space_error, payload_bytes, require_free

LAST = "last.pt"
FORMAT = 2
"""Checkpoint format: 2 = safe-loadable (every value a tensor or a plain value)."""


def encode_numpy_state(state: tuple) -> dict[str, Any]:
    """``np.random.get_state()`` as safe-loadable values: the MT19937 key (624 ``uint32``) as an ``int64``
    tensor, the rest as plain numbers."""
    import numpy as np
    import torch

    name, key, pos, has_gauss, cached = state
    return {
        "bit_generator": str(name),
        "key": torch.from_numpy(np.asarray(key, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def rng_state() -> dict[str, Any]:
    """Python, NumPy (:func:`encode_numpy_state`), torch CPU (and CUDA when present) generator states, as
    safe-loadable values."""
    import numpy as np
    import torch

    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": encode_numpy_state(np.random.get_state()),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    import numpy as np
    import torch

    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy = state["numpy"]
    np.random.set_state(
        (
            numpy["bit_generator"],
            numpy["key"].numpy().astype(np.uint32),
            numpy["pos"],
            numpy["has_gauss"],
            numpy["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus ``format``) with ``torch.save`` to ``<path>.tmp``, fsync it, then rename:
    never half-written. Checks free space first; a full disk is a :class:`FerclError` and leaves no
    ``.tmp`` behind (the previous checkpoint stays intact)."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    payload = {**payload, "format": FORMAT}
    needed = payload_bytes(payload)
    require_free(path.parent, needed, f"checkpoint {path.name}")
    try:
        with open(tmp, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise no_space_error(path, needed) from None
        raise
    return path


def is_checkpoint(payload: object) -> bool:
    """Whether what a torch file held is shaped like a fercl pretraining checkpoint (``model`` and
    ``config`` entries), of any format."""
    return isinstance(payload, dict) and "model" in payload and "config" in payload


def check(path: Path, payload: object) -> dict[str, Any]:
    """``payload`` (read safely from ``path``) if it is a fercl checkpoint of format 2 or later; else a
    clear error (foreign file, or an older format with the command that converts it)."""
    if not is_checkpoint(payload):
        raise FerclError(f"{path} is not a fercl pretraining checkpoint (no 'model'/'config' entries)")
    if payload.get("format", 1) < FORMAT:
        raise FerclError(
            f"{path}: checkpoint format {payload.get('format', 1)} of an older fercl; convert it with "
            f"'fercl checkpoint convert {path} NEW.pt --trust' if you trust its source"
        )
    return payload


def load(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by :func:`save` (CPU tensors), read with ``weights_only=True``; a clear error
    for missing, foreign, unsafe or pre-format-2 files."""
    path = Path(path)
    if path.is_dir():
        path = path / LAST
    if not path.is_file():
        raise FerclError(f"no checkpoint at {path}; pass a fercl run directory or a .pt file it wrote")
    payload = load_tensors(path, "fercl checkpoint", "pass a fercl run directory or a .pt file it wrote")
    return check(path, payload)
