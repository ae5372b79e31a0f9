"""Checkpoints: atomic writes, and the random-number state needed to resume bit for bit."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from fercl_cli.errors import FerclError

LAST = "last.pt"


def rng_state() -> dict[str, Any]:
    """Python, NumPy, torch CPU (and CUDA when present) generator states."""
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` with ``torch.save`` to a temporary file, fsync it, then rename: never half-written."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        torch.save(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def load(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by :func:`save` (CPU tensors); a clear error for missing or foreign files."""
    import torch

    path = Path(path)
    if path.is_dir():
        path = path / LAST
    if not path.is_file():
        raise FerclError(f"no checkpoint at {path}; pass a fercl run directory or a .pt file it wrote")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # any unpickling failure means the file is not a usable checkpoint
        raise FerclError(
            f"{path} is not a readable fercl checkpoint ({type(exc).__name__}): {exc}".splitlines()[0]
        ) from None
    if not isinstance(payload, dict) or "model" not in payload or "config" not in payload:
        raise FerclError(f"{path} is not a fercl pretraining checkpoint (no 'model'/'config' entries)")
    return payload
