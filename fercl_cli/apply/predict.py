"""A saved probe head (``fercl evaluate --save-head``) applied to the faces of images and videos.

Output CSV columns: ``source, frame, t, box_x0, box_y0, box_x1, box_y1`` (as ``fercl embed``), then for a
classification head one probability column per class name (rows sum to 1) and ``label`` (the arg-max
class); for a regression head one column per target (``valence``, ``arousal``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from fercl_cli.apply.embed import Embedding, embed_files, resolve_backbone
from fercl_cli.apply.inputs import expand_inputs
from fercl_cli.errors import FerclError
from fercl_cli.evaluate.head import Head, load_head
from fercl_cli.evaluate.progress import ProgressFn, no_progress
from fercl_cli.sources.clips import VOXCELEB_FPS
from fercl_cli.space import write_atomic


@dataclass
class Prediction:
    """``values`` float64 [N, K] (probabilities or regression outputs) for the N rows of ``embedding``."""

    embedding: Embedding
    head: Head
    values: np.ndarray

    @property
    def labels(self) -> list[str]:
        """The arg-max class of each row (classification heads only)."""
        return [self.head.outputs[i] for i in self.values.argmax(axis=1)]

    def columns(self) -> list[str]:
        extra = ["label"] if self.head.kind == "classification" else []
        return ["source", "frame", "t", "box_x0", "box_y0", "box_x1", "box_y1", *self.head.outputs, *extra]

    def rows(self) -> list[list[object]]:
        e = self.embedding
        labels = self.labels if self.head.kind == "classification" else None
        out = []
        for i, source in enumerate(e.sources):
            t = float(e.t[i])
            row = [
                source,
                int(e.frame[i]),
                "" if np.isnan(t) else f"{t:.6g}",
                *(f"{v:.2f}" for v in e.boxes[i]),
            ]
            row += [f"{v:.6g}" for v in self.values[i]]
            out.append(row + ([labels[i]] if labels is not None else []))
        return out

    def summary(self) -> dict[str, Any]:
        """The embedding's summary plus the head's kind and outputs, and the label counts."""
        payload = {**self.embedding.summary(), "head": {"kind": self.head.kind, "outputs": self.head.outputs}}
        if self.head.kind == "classification":
            payload["labels"] = {name: self.labels.count(name) for name in self.head.outputs}
        return payload


def predict(
    inputs: Sequence[str | Path],
    checkpoint: str,
    head_path: Path,
    *,
    arch: str | None = None,
    size: int | None = None,
    fps: Fraction = VOXCELEB_FPS,
    device: str = "auto",
    batch_size: int = 64,
    models_dir: str | None = None,
    need_video: bool = False,
    progress: ProgressFn = no_progress,
) -> Prediction:
    """Embed the faces of ``inputs`` (as :func:`~fercl_cli.apply.embed.embed`) and apply the head.

    Raises:
        FerclError: the head is unreadable or was fitted on another backbone or input size; ``need_video``
            and no video among the inputs; the errors of :func:`~fercl_cli.apply.embed.embed`.
    """
    head = load_head(head_path)
    files = expand_inputs(inputs)
    if need_video and not any(f.kind == "video" for f in files):
        raise FerclError("--plot draws curves over time and needs a video among the inputs; drop --plot")
    backbone, input_size = resolve_backbone(checkpoint, arch, size)
    head.check_backbone(backbone.hash, input_size, Path(head_path))
    embedding = embed_files(files, backbone, input_size, fps, device, batch_size, models_dir, progress)
    values = head.apply(embedding.features) if len(embedding) else np.zeros((0, len(head.outputs)))
    return Prediction(embedding, head, values)


def write_predictions(prediction: Prediction, out: Path) -> Path:
    """The CSV described in the module docstring, written atomically."""
    from fercl_cli.apply.write import csv_text

    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise FerclError(f"--out {out}: predictions are written as CSV; give a path ending in .csv")
    text = csv_text(prediction.columns(), prediction.rows())
    write_atomic(out, len(text) + 1, lambda tmp: tmp.write_text(text))
    return out
