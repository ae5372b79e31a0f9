"""Confidence intervals of evaluation scores: a bootstrap over test rows, with the seeds averaged.

A configuration evaluated with several seeds has, per seed ``s``, the test rows' targets ``y_s`` and
predictions ``p_s``. One bootstrap replicate resamples each seed's rows with replacement (the same
resampled rows for every configuration compared: a *paired* bootstrap), scores each seed, and averages
over seeds. The interval is the percentile interval of the replicates; the point estimate is the mean
over seeds of the score on all rows. Rows differ between seeds only where the protocol draws its own
split per seed (LFW's 70/30 split); pairing needs the same rows per seed in both configurations.

Scores are vectorised over replicates: each takes ``y`` [M], ``p`` [M] and an index matrix [B, M] and
returns [B].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Score = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
REPLICATES = 2000
LEVEL = 0.95


def accuracy_score(y: np.ndarray, p: np.ndarray, index: np.ndarray) -> np.ndarray:
    """[B] fraction of correct predictions in each resample (``y``, ``p`` int [M]; ``index`` [B, M])."""
    return (np.asarray(y) == np.asarray(p))[index].mean(axis=1)


def macro_f1_score(classes: int) -> Score:
    """A score: [B] mean over the ``classes`` codes 0..K-1 of the per-class F1 in each resample (a class
    neither present nor predicted scores 0, as in :func:`fercl_cli.evaluate.metrics.macro_f1`)."""

    def score(y: np.ndarray, p: np.ndarray, index: np.ndarray) -> np.ndarray:
        y, p = np.asarray(y, dtype=np.int64), np.asarray(p, dtype=np.int64)
        replicates = index.shape[0]
        cells = (y * classes + p)[index] + (np.arange(replicates) * classes * classes)[:, None]
        confusion = np.bincount(cells.ravel(), minlength=replicates * classes * classes)
        confusion = confusion.reshape(replicates, classes, classes).astype(np.float64)
        true_positive = np.diagonal(confusion, axis1=1, axis2=2)
        denominator = confusion.sum(axis=2) + confusion.sum(axis=1)  # 2·TP + FN + FP
        f1 = np.divide(
            2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0
        )
        return f1.mean(axis=1)

    return score


def ccc_score(y: np.ndarray, p: np.ndarray, index: np.ndarray) -> np.ndarray:
    """[B] concordance correlation coefficient of each resample (``y``, ``p`` float [M]; NaN targets must
    be dropped before): 2·cov / (var_y + var_p + (mean_y − mean_p)²), population moments."""
    y, p = np.asarray(y, dtype=np.float64)[index], np.asarray(p, dtype=np.float64)[index]
    my, mp = y.mean(axis=1, keepdims=True), p.mean(axis=1, keepdims=True)
    cov = ((y - my) * (p - mp)).mean(axis=1)
    denominator = y.var(axis=1) + p.var(axis=1) + (my - mp)[:, 0] ** 2
    return np.divide(2 * cov, denominator, out=np.full_like(cov, np.nan), where=denominator > 0)


@dataclass(frozen=True)
class Interval:
    """A score (or a difference of scores) over seeds with its bootstrap interval.

    Attributes:
        estimate: mean over seeds of the score on all test rows.
        low, high: the ``level`` percentile interval of the bootstrap replicates.
        level: coverage, e.g. 0.95.
        seed_std: sample std over seeds of the per-seed scores (NaN with one seed).
        seeds, rows: number of seeds, and test rows per seed (the first seed's).
    """

    estimate: float
    low: float
    high: float
    level: float
    seed_std: float
    seeds: int
    rows: int

    def excludes_zero(self) -> bool:
        """The interval lies wholly above or wholly below 0."""
        return bool(self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "seed_std": self.seed_std,
            "seeds": self.seeds,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class SeedRun:
    """One seed's test rows: ``rows`` int64 [M] (identifiers, e.g. dataset row numbers), ``targets`` and
    ``predictions`` [M] (class codes, or floats for regression)."""

    rows: np.ndarray
    targets: np.ndarray
    predictions: np.ndarray

    def __post_init__(self) -> None:
        shapes = {np.shape(self.rows), np.shape(self.targets), np.shape(self.predictions)}
        if len(shapes) != 1 or len(np.shape(self.rows)) != 1 or len(self.rows) == 0:
            raise ValueError(
                f"rows, targets and predictions must be 1-D of one non-zero length, got {shapes}"
            )


def _indices(runs: Sequence[SeedRun], replicates: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, len(run.rows), size=(replicates, len(run.rows))) for run in runs]


def _interval(per_seed: np.ndarray, replicates: np.ndarray, level: float, rows: int) -> Interval:
    """``per_seed`` [S] full-data scores, ``replicates`` [S, B] resampled scores, averaged over seeds."""
    tail = (1 - level) / 2
    low, high = np.nanquantile(replicates.mean(axis=0), [tail, 1 - tail])
    std = float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else float("nan")
    return Interval(float(np.mean(per_seed)), float(low), float(high), level, std, len(per_seed), rows)


def _full(run: SeedRun) -> np.ndarray:
    return np.arange(len(run.rows))[None, :]


def score_interval(
    runs: Sequence[SeedRun], score: Score, replicates: int = REPLICATES, level: float = LEVEL, seed: int = 0
) -> Interval:
    """The score of one configuration over its seeds, with its row-bootstrap interval."""
    if not runs:
        raise ValueError("need at least one seed's predictions")
    indices = _indices(runs, replicates, seed)
    per_seed = np.array([score(r.targets, r.predictions, _full(r))[0] for r in runs])
    boot = np.stack([score(r.targets, r.predictions, i) for r, i in zip(runs, indices, strict=True)])
    return _interval(per_seed, boot, level, len(runs[0].rows))


def paired_difference(
    first: Sequence[SeedRun],
    second: Sequence[SeedRun],
    score: Score,
    replicates: int = REPLICATES,
    level: float = LEVEL,
    seed: int = 0,
) -> Interval:
    """score(first) − score(second), seed by seed on the same resampled rows, with its interval.

    Raises:
        ValueError: different numbers of seeds, or a seed whose rows differ between the two.
    """
    if len(first) != len(second) or not first:
        raise ValueError(f"need the same non-zero number of seeds, got {len(first)} and {len(second)}")
    for a, b in zip(first, second, strict=True):
        if not np.array_equal(a.rows, b.rows) or not np.array_equal(a.targets, b.targets, equal_nan=True):
            raise ValueError("a paired comparison needs the same test rows and targets in both, seed by seed")
    indices = _indices(first, replicates, seed)
    per_seed = np.array(
        [
            score(a.targets, a.predictions, _full(a))[0] - score(b.targets, b.predictions, _full(b))[0]
            for a, b in zip(first, second, strict=True)
        ]
    )
    boot = np.stack(
        [
            score(a.targets, a.predictions, i) - score(b.targets, b.predictions, i)
            for a, b, i in zip(first, second, indices, strict=True)
        ]
    )
    return _interval(per_seed, boot, level, len(first[0].rows))
