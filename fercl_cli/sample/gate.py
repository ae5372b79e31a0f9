"""The testbed gate: can this corpus test the paper's claim? Computed from a sample corpus's ground truth.

Three checks, on the interval frames (25/6 fps) the pretraining sampler reads:

(a) **TimeAug agreement**: the probability that the sampler's TimeAug pair (anchor uniform over the clip,
    offset ``d`` from :func:`~fercl_cli.train.sampling.timeaug_offsets` at 25/6 fps, i.e. {2..6} frames =
    0.48–1.44 s, with the default mode-c weights [5,4,3,2,1]/15, side by the sampler's rule; pairs whose
    offset fits neither side are skipped as the sampler does) shows the same expression label. Exact
    expectation, no sampling. Threshold >= 0.85.
(b) **HardNeg difference**: the probability that the HardNeg far frame (uniform over frames at least
    :func:`~fercl_cli.train.sampling.hardneg_min_gap` = 12 frames = 2.88 s from the anchor) shows a
    different label from the anchor. Threshold >= 0.80.
(c) **Identity from background**: per clip, a colour histogram (4×4×4 RGB bins) of the frame border (the
    outer eighth of each side) averaged over up to 8 evenly spaced interval frames; a scikit-learn logistic
    regression predicts the person, stratified k-fold cross-validated across clips (k = min(5, fewest
    clips of a person)). Passes when accuracy <= chance + margin, chance = the largest person's share of
    clips, margin = max(0.05, 3·sqrt(chance·(1 − chance)/clips)) (three binomial standard errors of a
    chance-level classifier, at least 5 points).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.errors import FerclError

if TYPE_CHECKING:
    import pandas as pd

INTERVAL_FPS = 25.0 / 6.0
TIMEAUG_MIN_AGREEMENT = 0.85
HARDNEG_MIN_DIFFERENCE = 0.80
MIN_MARGIN = 0.05
BORDER_FRACTION = 0.125
HIST_BINS = 4
FRAMES_PER_CLIP = 8


@dataclass(frozen=True)
class GateCheck:
    """One check: its measured ``value``, the ``threshold`` and the direction (``">="`` or ``"<="``)."""

    name: str
    value: float
    threshold: float
    direction: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateResult:
    """All checks; ``passed`` when every one passed."""

    checks: list[GateCheck]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def failure_message(self) -> str:
        """One line naming every failed check (empty when all passed)."""
        failed = [c for c in self.checks if not c.passed]
        if not failed:
            return ""
        parts = [
            f"{c.name} {c.value:.3f} (needs {c.direction} {c.threshold:.3f}; {c.detail})" for c in failed
        ]
        return "testbed gate failed: " + "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}


def _clip_frames(truth: pd.DataFrame) -> list[pd.DataFrame]:
    """Per clip, its interval-frame rows sorted by frame number."""
    key = "clip_id" if "clip_id" in truth.columns else None
    if key is None:
        truth = truth.assign(clip_id=truth["voxceleb_id"] + "/" + truth["video_id"] + "/" + truth["clip"])
    frames = truth[truth["interval_frame"] == 1]
    return [group.sort_values("frame_number") for _, group in frames.groupby("clip_id", sort=True)]


def timeaug_agreement(labels: list[np.ndarray], fps: float = INTERVAL_FPS, mode: str = "c") -> float:
    """Exact probability that the sampler's TimeAug pair of a clip shares the label (see the module doc)."""
    from fercl_cli.train.sampling import offset_weights, timeaug_offsets

    offsets = timeaug_offsets(fps)
    weights = offset_weights(mode, len(offsets))
    agree = kept = 0.0
    for lab in labels:
        n = len(lab)
        if n == 0:
            continue
        a = np.arange(n)
        for d, w in zip(offsets, weights, strict=True):
            plus, minus = a + d < n, a - d >= 0
            both = plus & minus
            p_plus = np.where(both, 0.5, plus.astype(float))
            p_minus = np.where(both, 0.5, minus.astype(float))
            same_plus = np.zeros(n, bool)
            same_minus = np.zeros(n, bool)
            same_plus[plus] = lab[a[plus] + d] == lab[a[plus]]
            same_minus[minus] = lab[a[minus] - d] == lab[a[minus]]
            agree += w / n * float((p_plus * same_plus + p_minus * same_minus).sum())
            kept += w / n * float((plus | minus).sum())
    return agree / kept if kept else float("nan")


def hardneg_difference(labels: list[np.ndarray], fps: float = INTERVAL_FPS) -> float:
    """Exact probability that the HardNeg far frame's label differs from the anchor's (see the module doc)."""
    from fercl_cli.train.sampling import hardneg_min_gap

    gap = hardneg_min_gap(fps)
    total = count = 0.0
    for lab in labels:
        n = len(lab)
        index = np.arange(n)
        for a in range(n):
            far = np.abs(index - a) >= gap
            if far.any():
                total += float(np.mean(lab[far] != lab[a]))
                count += 1
    return total / count if count else float("nan")


def border_descriptor(image: np.ndarray) -> np.ndarray:
    """float64 [bins³]: normalised RGB histogram of the outer :data:`BORDER_FRACTION` of ``image``'s sides."""
    h, w = image.shape[:2]
    b = max(2, int(round(BORDER_FRACTION * min(h, w))))
    mask = np.zeros((h, w), bool)
    mask[:b], mask[-b:], mask[:, :b], mask[:, -b:] = True, True, True, True
    pixels = image[mask].astype(np.int64) * HIST_BINS // 256
    codes = (pixels[:, 0] * HIST_BINS + pixels[:, 1]) * HIST_BINS + pixels[:, 2]
    hist = np.bincount(codes, minlength=HIST_BINS**3).astype(np.float64)
    return hist / hist.sum()


def background_identity_accuracy(
    descriptors: np.ndarray, identities: np.ndarray, seed: int = 0
) -> tuple[float, float, int]:
    """``(accuracy, chance, folds)`` of cross-validated logistic regression predicting identity from the
    per-clip descriptors; people with a single clip are left out (returns NaN when < 2 people remain)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    names, counts = np.unique(identities, return_counts=True)
    keep = np.isin(identities, names[counts >= 2])
    x, y = descriptors[keep], identities[keep]
    names, counts = np.unique(y, return_counts=True)
    if len(names) < 2:
        return float("nan"), float("nan"), 0
    folds = int(min(5, counts.min()))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # many classes, few clips each: sklearn warns it looks like regression
        warnings.simplefilter("ignore", UserWarning)
        predicted = cross_val_predict(model, x, y, cv=cv)
    return float(np.mean(predicted == y)), float(counts.max() / counts.sum()), folds


def _clip_descriptor(root: Path, names: dict[str, str], frames: pd.DataFrame) -> np.ndarray:
    import cv2

    rows = frames.iloc[np.unique(np.linspace(0, len(frames) - 1, FRAMES_PER_CLIP).round().astype(int))]
    out = []
    for _, row in rows.iterrows():
        path = (
            root / "voxceleb" / "unzippedIntervalFaces" / "data" / names[row["voxceleb_id"]] / "1.6"
            / str(row["video_id"]) / str(int(row["clip"])) / f"{int(row['frame_number']):07d}.jpg"
        )  # fmt: skip
        image = cv2.imread(str(path))
        if image is None:
            raise FerclError(f"interval frame {path} listed in the ground truth is missing or unreadable")
        out.append(border_descriptor(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)))
    return np.mean(out, axis=0)


def run_gate(root: str | Path) -> GateResult:
    """The gate on the sample corpus under ``root`` (its ``voxceleb/`` ground truth and interval JPEGs).

    Raises:
        FerclError: no sample corpus there (no ``voxceleb/ground_truth.csv``).
    """
    import pandas as pd

    root = Path(root)
    truth_path = root / "voxceleb" / "ground_truth.csv"
    if not truth_path.is_file():
        raise FerclError(
            f"{root} holds no sample corpus ({truth_path} not found); run fercl sample {root} first"
        )
    truth = pd.read_csv(
        truth_path, dtype={"clip": str, "video_id": str}, usecols=lambda c: "landmarks" not in c
    )
    meta = pd.read_csv(root / "voxceleb" / "vox1_meta.csv", sep="\t")
    names = dict(zip(meta["VoxCeleb1 ID"], meta["VGGFace1 ID"], strict=True))
    clips = _clip_frames(truth)
    labels = [c["expression"].to_numpy(dtype=object) for c in clips]
    agreement = timeaug_agreement(labels)
    difference = hardneg_difference(labels)
    descriptors = np.stack([_clip_descriptor(root, names, c) for c in clips])
    identities = np.array([str(c["identity"].iloc[0]) for c in clips])
    accuracy, chance, folds = background_identity_accuracy(descriptors, identities)
    n = len(clips)
    checks = [
        GateCheck(
            "TimeAug label agreement",
            agreement,
            TIMEAUG_MIN_AGREEMENT,
            ">=",
            bool(agreement >= TIMEAUG_MIN_AGREEMENT),
            f"{n} clips, offsets 2-6 interval frames (0.48-1.44 s), mode c",
        ),
        GateCheck(
            "HardNeg label difference",
            difference,
            HARDNEG_MIN_DIFFERENCE,
            ">=",
            bool(difference >= HARDNEG_MIN_DIFFERENCE),
            "far frame >= 12 interval frames (2.88 s) away"
            if not math.isnan(difference)
            else "not computable: no clip has interval frames 12 apart (clips under ~3 s)",
        ),
    ]
    if math.isnan(accuracy):
        checks.append(
            GateCheck(
                "identity from background",
                float("nan"),
                float("nan"),
                "<=",
                False,
                "not computable: needs at least two people with two or more clips each",
            )
        )
    else:
        margin = max(MIN_MARGIN, 3 * math.sqrt(chance * (1 - chance) / n))
        checks.append(
            GateCheck(
                "identity from background",
                accuracy,
                chance + margin,
                "<=",
                bool(accuracy <= chance + margin),
                f"logistic regression on border colour histograms, {folds}-fold CV over {n} clips of "
                f"{len(set(identities))} people; chance {chance:.3f} + margin {margin:.3f}",
            )
        )
    return GateResult(checks=checks)
