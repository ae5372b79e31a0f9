"""Evaluation metrics: classification (accuracy, macro-F1, per-class scores, confusion matrix), regression
(concordance correlation coefficient, RMSE) and the mean ± standard deviation over seeds.

Classification labels are integer class codes; regression targets are floats in the target's own units
(valence/arousal in [-1, 1]). Every function takes 1-D arrays of equal length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassificationMetrics:
    """Scores of one set of class predictions.

    Attributes:
        accuracy: fraction of correct predictions, in [0, 1].
        macro_f1: unweighted mean of the per-class F1 over ``labels``, in [0, 1].
        labels: int64 [K] the class codes, in the order of every per-class array.
        precision, recall, f1: float64 [K] per class (0 where undefined: no prediction / no sample).
        support: int64 [K] number of true samples per class.
        confusion: int64 [K, K]; row = true class, column = predicted class.
    """

    accuracy: float
    macro_f1: float
    labels: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    confusion: np.ndarray


@dataclass(frozen=True)
class RegressionMetrics:
    """Scores of one regression target (e.g. valence).

    Attributes:
        ccc: concordance correlation coefficient, in [-1, 1] (NaN when undefined, see :func:`ccc`).
        rmse: root-mean-square error, in the target's units.
        n: number of samples scored.
    """

    ccc: float
    rmse: float
    n: int


@dataclass(frozen=True)
class MeanStd:
    """Mean and sample standard deviation (ddof = 1) of a metric over ``n`` runs; ``std`` is NaN if n < 2."""

    mean: float
    std: float
    n: int

    def format(self, scale: float = 1.0, digits: int = 1) -> str:
        """``"58.3 ± 0.4"``, values times ``scale`` (e.g. 100 for percent); just the mean when n < 2."""
        if self.n < 2:
            return f"{self.mean * scale:.{digits}f}"
        return f"{self.mean * scale:.{digits}f} ± {self.std * scale:.{digits}f}"


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(f"need two 1-D arrays of equal length, got {y_true.shape} and {y_pred.shape}")
    if len(y_true) == 0:
        raise ValueError("cannot score an empty set of predictions")
    return y_true, y_pred


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of ``y_pred`` equal to ``y_true`` (int [N] each), in [0, 1]."""
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(*_pair(y_true, y_pred)))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[int]) -> float:
    """Unweighted mean over ``labels`` of the per-class F1; a class never predicted nor present scores 0."""
    from sklearn.metrics import f1_score

    y_true, y_pred = _pair(y_true, y_pred)
    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[int]
) -> ClassificationMetrics:
    """All the scores of ``y_pred`` against ``y_true`` (int [N] each) over the codes ``labels``."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true, y_pred = _pair(y_true, y_pred)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.ndim != 1 or len(labels) == 0 or len(np.unique(labels)) != len(labels):
        raise ValueError(f"labels must be a non-empty list of distinct class codes, got {labels.tolist()}")
    unknown = np.setdiff1d(np.union1d(y_true, y_pred), labels)
    if len(unknown):
        raise ValueError(f"predictions or targets use class codes {unknown.tolist()} not in labels")
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    return ClassificationMetrics(
        accuracy=accuracy(y_true, y_pred),
        macro_f1=float(np.mean(f1)),
        labels=labels,
        precision=np.asarray(precision, dtype=np.float64),
        recall=np.asarray(recall, dtype=np.float64),
        f1=np.asarray(f1, dtype=np.float64),
        support=np.asarray(support, dtype=np.int64),
        confusion=confusion_matrix(y_true, y_pred, labels=labels).astype(np.int64),
    )


def ccc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Lin's concordance correlation coefficient with population (1/N) statistics.

    ``ccc = 2·cov(t, p) / (var(t) + var(p) + (mean(t) − mean(p))²)``. It is 1 only when ``p == t``,
    penalises bias and scale errors that Pearson's r ignores, and is NaN when both arrays are the same
    constant (0/0).
    """
    t, p = (a.astype(np.float64) for a in _pair(y_true, y_pred))
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("CCC needs finite values; drop missing targets first")
    mean_t, mean_p = t.mean(), p.mean()
    covariance = np.mean((t - mean_t) * (p - mean_p))
    denominator = t.var() + p.var() + (mean_t - mean_p) ** 2
    if denominator == 0.0:
        return math.nan
    return float(2.0 * covariance / denominator)


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root-mean-square error ``sqrt(mean((p − t)²))``, in the targets' units."""
    t, p = (a.astype(np.float64) for a in _pair(y_true, y_pred))
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("RMSE needs finite values; drop missing targets first")
    return float(np.sqrt(np.mean((p - t) ** 2)))


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> RegressionMetrics:
    """CCC and RMSE of ``y_pred`` against ``y_true`` (float [N] each, finite)."""
    return RegressionMetrics(ccc=ccc(y_true, y_pred), rmse=rmse(y_true, y_pred), n=len(np.asarray(y_true)))


def mean_std(values: Sequence[float]) -> MeanStd:
    """Mean and sample standard deviation (ddof = 1) of one metric over runs (e.g. seeds)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(f"need a non-empty 1-D list of values, got shape {array.shape}")
    std = float(array.std(ddof=1)) if len(array) > 1 else math.nan
    return MeanStd(mean=float(array.mean()), std=std, n=len(array))
