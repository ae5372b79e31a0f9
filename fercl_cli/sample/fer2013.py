"""Still photos in FER2013's format: ``<root>/fer2013/fer2013.csv`` with columns ``emotion, pixels, Usage``.

``pixels`` are 48×48 grey values (0-255, row-major, space-separated); ``emotion`` uses FER2013's codes
(0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral; FER2013 has no contempt). Faces are
rendered at 96×96 in a tight crop, converted to grey and shrunk by area averaging. ``ground_truth.csv``
has one row per CSV row (same order) with identity, intensity, pose and light.

Usage: within each class, photos are numbered across identities; ranks 1, 6, 11, ... are PublicTest,
ranks 3, 8, 13, ... PrivateTest, the rest Training (60/20/20).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fercl_cli.sample.expressions import FER2013_CODE
from fercl_cli.sample.identities import Identity
from fercl_cli.sample.records import state_columns
from fercl_cli.sample.render import View, render
from fercl_cli.sample.stills import stills

FER_SIZE = 48
FER_RENDER_VIEW = View(width=96, height=96, iod=38.0, eye_x=48.0, eye_y=38.0)
FER_EXPRESSIONS = ("anger", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@dataclass(frozen=True)
class Fer2013Counts:
    """Rows per Usage."""

    training: int
    public_test: int
    private_test: int


def usage(rank_in_class: int) -> str:
    """The FER2013 Usage of the ``rank_in_class``-th photo of a class."""
    return {1: "PublicTest", 3: "PrivateTest"}.get(rank_in_class % 5, "Training")


def write_fer2013(
    root: Path, identities: Sequence[Identity], per_class: int, seed: int, tick: Callable[[int], None]
) -> Fer2013Counts:
    """Write ``per_class`` photos of each identity for each of the 7 classes to ``root/fer2013``."""
    import cv2
    import pandas as pd

    base = root / "fer2013"
    base.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    truth_rows: list[dict[str, object]] = []
    for still in stills(identities, FER_EXPRESSIONS, per_class, seed, stream=4):
        shown = render(still.identity.portrait, still.state, FER_RENDER_VIEW)
        grey = cv2.cvtColor(shown.image, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(grey, (FER_SIZE, FER_SIZE), interpolation=cv2.INTER_AREA)
        split = usage(still.rank_in_class)
        rows.append(
            {
                "emotion": FER2013_CODE[still.state.expression],
                "pixels": " ".join(str(int(v)) for v in small.reshape(-1)),
                "Usage": split,
            }
        )
        truth_rows.append(
            {"row": len(truth_rows), "Usage": split, **state_columns(still.identity, still.state)}
        )
        tick(1)
    table = pd.DataFrame(rows)
    table.to_csv(base / "fer2013.csv", index=False)
    pd.DataFrame(truth_rows).to_csv(base / "ground_truth.csv", index=False)
    counts = table["Usage"].value_counts()
    return Fer2013Counts(
        training=int(counts.get("Training", 0)),
        public_test=int(counts.get("PublicTest", 0)),
        private_test=int(counts.get("PrivateTest", 0)),
    )
