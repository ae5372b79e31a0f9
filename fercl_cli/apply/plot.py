"""The curves of ``fercl predict --plot``: per video, each output (class probability, or valence and
arousal) against time in seconds, one panel per video, drawn with matplotlib's Agg backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercl_cli.apply.predict import Prediction
from fercl_cli.space import write_atomic


def write_curves_png(prediction: Prediction, out: Path) -> Path:
    """Write the PNG to ``out`` atomically; rows of still images are left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    e = prediction.embedding
    videos = list(dict.fromkeys(s for s, f in zip(e.sources, e.frame, strict=True) if f >= 0))
    fig, axes = plt.subplots(len(videos) or 1, 1, figsize=(9, 3 * max(len(videos), 1)), squeeze=False)
    regression = prediction.head.kind == "regression"
    for ax, video in zip(axes[:, 0], videos, strict=False):
        rows = np.flatnonzero(np.array(e.sources) == video)
        for k, name in enumerate(prediction.head.outputs):
            ax.plot(e.t[rows], prediction.values[rows, k], marker=".", label=name)
        ax.set_title(Path(video).name)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("value" if regression else "probability")
        ax.set_ylim(-1.05, 1.05) if regression else ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="upper right", fontsize="small", ncol=2)
    fig.tight_layout()

    def write(tmp: Path) -> None:
        fig.savefig(tmp, format="png", dpi=100)

    try:
        write_atomic(Path(out), 1 << 22, write)
    finally:
        plt.close(fig)
    return Path(out)
