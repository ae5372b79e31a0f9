"""Converting checkpoints of fercl before format 2 into safe-loadable ones.

This is the only code in fercl that unpickles arbitrary objects (``torch.load(weights_only=False)``):
a pickle can run code as it loads, so it runs only for a file the user vouches for with ``--trust``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fercl_cli.errors import FerclError
from fercl_cli.train import checkpoint


def _safe_rng(rng: dict[str, Any]) -> dict[str, Any]:
    """Format-1 RNG state (NumPy's state as a pickled tuple with an ndarray) in format 2's encoding."""
    numpy = rng.get("numpy")
    return {**rng, "numpy": checkpoint.encode_numpy_state(numpy)} if isinstance(numpy, tuple) else dict(rng)


def convert_legacy(old: str | Path, new: str | Path, trust: bool) -> dict[str, Any]:
    """Unpickle the trusted old checkpoint ``old`` and write it to ``new`` in format 2, then check that
    ``new`` loads safely. Returns what was converted (step, epoch, arch)."""
    import torch

    old, new = Path(old), Path(new)
    if not trust:
        raise FerclError(
            f"{old}: converting unpickles the file, which runs any code it holds; pass --trust only for a "
            "checkpoint from a source you trust"
        )
    if not old.is_file():
        raise FerclError(f"{old}: no such checkpoint file")
    if new.resolve() == old.resolve():
        raise FerclError(f"{new}: write the converted checkpoint to a new file, not over the old one")
    try:
        payload = torch.load(old, map_location="cpu", weights_only=False)
    except Exception as exc:  # any unpickling failure: not a checkpoint at all
        raise FerclError(f"{old}: not a readable torch checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or "model" not in payload or "config" not in payload:
        raise FerclError(f"{old}: not a fercl pretraining checkpoint (no 'model'/'config' entries)")
    if isinstance(payload.get("rng"), dict):
        payload["rng"] = _safe_rng(payload["rng"])
    checkpoint.save(new, payload)
    try:
        checkpoint.load(new)
    except FerclError:
        new.unlink(missing_ok=True)
        raise FerclError(
            f"{old}: holds values beyond tensors and plain values, which fercl cannot load safely; not converted"
        ) from None
    config = payload["config"] if isinstance(payload["config"], dict) else {}
    return {
        "from": str(old),
        "to": str(new),
        "step": payload.get("step"),
        "epoch": payload.get("epoch"),
        "arch": config.get("arch"),
        "format": checkpoint.FORMAT,
    }
