"""The one way fercl reads a torch file: ``torch.load(weights_only=True)``, which builds only tensors and
plain values and never runs code a crafted pickle carries. A refused object becomes a one-line error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fercl_cli.errors import FerclError


def unsafe_global(exc: BaseException) -> str | None:
    """The Python object a ``weights_only`` load refused (e.g. ``"exec"``), or ``None`` when the failure
    was something else (a corrupt or foreign file)."""
    found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
    return found.group(1) if found else None


def load_tensors(path: str | Path, noun: str, fix: str) -> Any:
    """What the torch file ``path`` holds, on the CPU, loaded safely.

    ``noun`` names what was expected (``"fercl checkpoint"``) and ``fix`` says what to pass instead, for
    the error of an unreadable file. A file holding other pickled objects is refused without running them;
    the message says how a trusted old fercl checkpoint is converted, and what to do with another
    library's.
    """
    import torch

    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to read means the file is not what was asked for
        name = unsafe_global(exc)
        if name is not None:
            raise FerclError(
                f"{path}: refused, it holds a pickled Python object ({name}) beyond tensors and plain values, "
                "which could run code; if it is a checkpoint of an older fercl that you trust, convert it with "
                f"'fercl checkpoint convert {path} NEW.pt --trust'; another library's checkpoint that you trust: "
                "save its state dict alone with torch.save and pass that file (docs/troubleshooting.md)"
            ) from None
        raise FerclError(f"{path}: not a readable {noun} ({type(exc).__name__}); {fix}") from None
