"""Probes on frozen features: linear (logistic / ridge), cosine kNN, and the paper's LFW 1-NN.

Features are float [N, D] arrays (one row per image, e.g. pooled backbone outputs); class labels are
int [N] codes. Hyper-parameters are chosen on selection data that never includes the test rows: either
an explicit selection split (``select=``, e.g. FER2013 PrivateTest) or a held-out part of the training
rows (stratified by class, fixed seed), after which the model is refitted on all training rows. Ties in
the selection score go to the first candidate listed (the most regularised C, the smallest k, the
smallest alpha).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fercl_cli.evaluate.metrics import (
    ClassificationMetrics,
    RegressionMetrics,
    accuracy,
    ccc,
    classification_metrics,
    macro_f1,
    regression_metrics,
    rmse,
)

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

CANDIDATE_C: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
CANDIDATE_K: tuple[int, ...] = (1, 5, 10, 20, 50)
CANDIDATE_ALPHA: tuple[float, ...] = (1e-1, 1.0, 10.0, 100.0, 1e3, 1e4)
CLASSIFICATION_SCORES = ("macro_f1", "accuracy")
REGRESSION_SCORES = ("rmse", "ccc")


@dataclass(frozen=True)
class LinearMap:
    """A fitted linear probe as arrays: output k of features x (float [D]) is
    ``((x - mean[k]) / scale[k]) @ coef[k] + intercept[k]`` (logits of a classifier, or a regression value).

    Attributes:
        mean, scale: float64 [K, D] the standardisation of each output (a classifier's rows are equal).
        coef: float64 [K, D]; intercept: float64 [K].
        outputs: int class codes (classification) or target names (regression), one per output.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    outputs: tuple

    def scores(self, x: np.ndarray) -> np.ndarray:
        """float64 [N, K] outputs for features float [N, D]."""
        x = np.asarray(x, dtype=np.float64)
        return np.einsum("nkd,kd->nk", (x[:, None, :] - self.mean) / self.scale, self.coef) + self.intercept


def _scaler_arrays(scaler: StandardScaler, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tile(scaler.mean_, (k, 1)), np.tile(scaler.scale_, (k, 1))


def _logistic_map(pipeline: Pipeline) -> LinearMap:
    """A fitted StandardScaler + LogisticRegression as logits; two classes become the equivalent softmax
    pair (logits 0 and w·x + b)."""
    scaler, model = pipeline[0], pipeline[-1]
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    mean, scale = _scaler_arrays(scaler, len(coef))
    return LinearMap(
        mean,
        scale,
        coef.astype(np.float64),
        intercept.astype(np.float64),
        tuple(int(c) for c in model.classes_),
    )


@dataclass(frozen=True)
class ClassificationProbeResult:
    """What a classification probe found.

    Attributes:
        protocol: ``"linear"``, ``"knn"`` or ``"nn1"``.
        metrics: scores on the test rows.
        hyperparameters: the chosen value, e.g. ``{"C": 0.1}`` or ``{"k": 10}`` (``{"k": 1}`` for nn1).
        selection: how it was chosen, in words (held-out part, selection split, or fixed by the protocol).
        selected_by: the selection score (``"macro_f1"``, ``"accuracy"``; ``""`` when nothing was chosen).
        selection_scores: candidate value → selection score (empty when nothing was chosen).
        predictions: int64 [M] predicted class codes of the test rows, in test order.
        held_out: int64 training rows held out while choosing (the final fit uses every training row);
            None when an explicit selection split was given or nothing was chosen.
        test_index: nn1 only: int64 [M] rows of the input used as test (others were the 1-NN gallery).
        head: linear only: the final model (fitted on every training row) as arrays.
    """

    protocol: str
    metrics: ClassificationMetrics
    hyperparameters: dict[str, float]
    selection: str
    selected_by: str
    selection_scores: dict[float, float]
    predictions: np.ndarray
    held_out: np.ndarray | None = None
    test_index: np.ndarray | None = None
    head: LinearMap | None = None


@dataclass(frozen=True)
class RegressionProbeResult:
    """What the ridge probe found for one target dimension (e.g. valence).

    Attributes:
        protocol: ``"linear"``.
        target: the dimension's name.
        metrics: CCC and RMSE on the test rows that have this target.
        hyperparameters: ``{"alpha": value}``.
        selection, selected_by, selection_scores: as in :class:`ClassificationProbeResult`.
        predictions: float32 [M] predictions for every test row (also those without a target).
        scored: bool [M] test rows that have this target, i.e. the rows ``metrics`` covers.
        excluded_train: training rows left out because this target is missing.
        held_out: int64 training rows held out while choosing alpha (the final fit uses every training
            row that has the target); None when an explicit selection split was given.
        head: the final ridge model as arrays (one output, named ``target``).
    """

    protocol: str
    target: str
    metrics: RegressionMetrics
    hyperparameters: dict[str, float]
    selection: str
    selected_by: str
    selection_scores: dict[float, float]
    predictions: np.ndarray
    scored: np.ndarray
    excluded_train: int
    held_out: np.ndarray | None = None
    head: LinearMap | None = None


def _features(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or len(x) == 0 or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must be a non-empty float [N, D] array, got {x.dtype} {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _labels(y: np.ndarray, n: int, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} must be int [{n}] class codes, got {y.dtype} {y.shape}")
    return y.astype(np.int64)


def _class_list(labels: Sequence[int] | None, *ys: np.ndarray) -> np.ndarray:
    if labels is not None:
        return np.asarray(labels, dtype=np.int64)
    return np.unique(np.concatenate(ys))


class TooFewRowsError(ValueError):
    """A class has too few training rows for a stratified held-out selection split (``label``, ``count``)."""

    def __init__(self, label: int, count: int) -> None:
        super().__init__(
            f"class {label} has {count} training row(s); a stratified held-out split needs at least 2 per "
            "class (or pass select=)"
        )
        self.label, self.count = label, count


def _held_out_split(
    n: int, held_out: float, seed: int, stratify: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows) of ``n`` training rows, stratified by ``stratify`` when given."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be a fraction in (0, 1), got {held_out}")
    if stratify is not None:
        classes, counts = np.unique(stratify, return_counts=True)
        if counts.min() < 2:
            raise TooFewRowsError(int(classes[counts.argmin()]), int(counts.min()))
    fit, val = train_test_split(np.arange(n), test_size=held_out, random_state=seed, stratify=stratify)
    return np.sort(fit), np.sort(val)


def _pick(scores: dict[float, float], higher_is_better: bool) -> float:
    best = max(scores.values()) if higher_is_better else min(scores.values())
    return next(value for value, score in scores.items() if score == best)


@dataclass(frozen=True)
class _Selection:
    fit_x: np.ndarray
    fit_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    description: str
    held_out: np.ndarray | None


def _selection_data(
    train_x: np.ndarray,
    train_y: np.ndarray,
    select: tuple[np.ndarray, np.ndarray] | None,
    held_out: float,
    seed: int,
    stratified: bool,
    validate_y: Callable[[np.ndarray, int, str], np.ndarray],
) -> _Selection:
    if select is not None:
        val_x = _features(select[0], "select features")
        if val_x.shape[1] != train_x.shape[1]:
            raise ValueError(f"select features have {val_x.shape[1]} columns, train has {train_x.shape[1]}")
        val_y = validate_y(select[1], len(val_x), "select labels")
        return _Selection(train_x, train_y, val_x, val_y, f"selection split (n={len(val_x)})", None)
    fit, val = _held_out_split(len(train_x), held_out, seed, train_y if stratified else None)
    kind = "stratified, " if stratified else ""
    description = f"held-out {held_out:.0%} of train ({kind}seed {seed}, n={len(val)})"
    return _Selection(train_x[fit], train_y[fit], train_x[val], train_y[val], description, val)


def _classification_score(select_by: str, classes: np.ndarray) -> Callable[[np.ndarray, np.ndarray], float]:
    if select_by not in CLASSIFICATION_SCORES:
        raise ValueError(f"select_by must be one of {CLASSIFICATION_SCORES}, got {select_by!r}")
    if select_by == "accuracy":
        return accuracy
    return lambda y, p: macro_f1(y, p, classes)


def _check_test(train_x: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    test_x = _features(test_x, "test features")
    if test_x.shape[1] != train_x.shape[1]:
        raise ValueError(f"test features have {test_x.shape[1]} columns, train has {train_x.shape[1]}")
    return test_x, _labels(test_y, len(test_x), "test labels")


def linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    labels: Sequence[int] | None = None,
    select: tuple[np.ndarray, np.ndarray] | None = None,
    cs: Sequence[float] = CANDIDATE_C,
    held_out: float = 0.2,
    seed: int = 0,
    select_by: str = "macro_f1",
    class_weight: str | None = None,
    max_iter: int = 1000,
) -> ClassificationProbeResult:
    """Multinomial logistic regression on standardised features (scaler fitted on the fitting rows).

    Args:
        train_x, test_x: float [N, D] / [M, D] features; train_y, test_y: int [N] / [M] class codes.
        labels: the class codes scored (default: every code seen in train or test).
        select: explicit selection features and labels; default: a stratified held-out part of train.
        cs: candidate inverse regularisation strengths C.
        held_out: fraction of train held out for selection when ``select`` is None.
        seed: seed of the held-out split.
        select_by: ``"macro_f1"`` or ``"accuracy"`` on the selection data.
        class_weight: None, or ``"balanced"`` to weight classes inversely to their training frequency.
        max_iter: L-BFGS iteration limit.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if class_weight not in (None, "balanced"):
        raise ValueError(f"class_weight must be None or 'balanced', got {class_weight!r}")
    if not cs or min(cs) <= 0:
        raise ValueError(f"cs must be positive values, got {list(cs)}")
    train_x = _features(train_x, "train features")
    train_y = _labels(train_y, len(train_x), "train labels")
    test_x, test_y = _check_test(train_x, test_x, test_y)
    classes = _class_list(labels, train_y, test_y)
    score = _classification_score(select_by, classes)

    def model(c: float) -> Pipeline:
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=c, class_weight=class_weight, max_iter=max_iter)
        )

    sel = _selection_data(train_x, train_y, select, held_out, seed, True, _labels)
    scores = {float(c): score(sel.val_y, model(c).fit(sel.fit_x, sel.fit_y).predict(sel.val_x)) for c in cs}
    best = _pick(scores, higher_is_better=True)
    final = model(best).fit(train_x, train_y)
    predictions = final.predict(test_x).astype(np.int64)
    return ClassificationProbeResult(
        protocol="linear",
        metrics=classification_metrics(test_y, predictions, classes),
        hyperparameters={"C": best},
        selection=sel.description,
        selected_by=select_by,
        selection_scores=scores,
        predictions=predictions,
        held_out=sel.held_out,
        head=_logistic_map(final),
    )


def _knn_votes(neighbour_labels: np.ndarray, k: int, n_classes: int) -> np.ndarray:
    """Majority class index among the first ``k`` neighbours (int [M, >=k] class indices); ties → lowest."""
    counts = np.zeros((len(neighbour_labels), n_classes), dtype=np.int64)
    np.add.at(counts, (np.arange(len(neighbour_labels))[:, None], neighbour_labels[:, :k]), 1)
    return counts.argmax(axis=1)


def knn_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    labels: Sequence[int] | None = None,
    select: tuple[np.ndarray, np.ndarray] | None = None,
    ks: Sequence[int] = CANDIDATE_K,
    held_out: float = 0.2,
    seed: int = 0,
    select_by: str = "macro_f1",
) -> ClassificationProbeResult:
    """k-nearest-neighbour vote under cosine distance on the raw features (uniform weights).

    Candidates larger than the number of fitting rows are skipped. Arguments as in :func:`linear_probe`.
    """
    from sklearn.neighbors import NearestNeighbors

    train_x = _features(train_x, "train features")
    train_y = _labels(train_y, len(train_x), "train labels")
    test_x, test_y = _check_test(train_x, test_x, test_y)
    classes = _class_list(labels, train_y, test_y)
    score = _classification_score(select_by, classes)
    known = np.unique(train_y)

    def neighbour_classes(fit_x: np.ndarray, fit_y: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
        index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(fit_x)
        return np.searchsorted(known, fit_y[index.kneighbors(query, return_distance=False)])

    sel = _selection_data(train_x, train_y, select, held_out, seed, True, _labels)
    candidates = sorted({int(k) for k in ks if 1 <= int(k) <= len(sel.fit_x)})
    if not candidates:
        raise ValueError(f"no candidate k in {list(ks)} fits {len(sel.fit_x)} fitting rows")
    votes = neighbour_classes(sel.fit_x, sel.fit_y, sel.val_x, max(candidates))
    scores = {k: score(sel.val_y, known[_knn_votes(votes, k, len(known))]) for k in candidates}
    best = int(_pick(scores, higher_is_better=True))
    predictions = known[_knn_votes(neighbour_classes(train_x, train_y, test_x, best), best, len(known))]
    return ClassificationProbeResult(
        protocol="knn",
        metrics=classification_metrics(test_y, predictions, classes),
        hyperparameters={"k": best},
        selection=sel.description,
        selected_by=select_by,
        selection_scores=scores,
        predictions=predictions.astype(np.int64),
        held_out=sel.held_out,
    )


def nn1_probe(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    test_size: float = 0.3,
    seed: int = 0,
    class_codes: Sequence[int] | None = None,
) -> ClassificationProbeResult:
    """The paper's LFW identity protocol: a stratified ``1 - test_size`` / ``test_size`` split with a fixed
    seed, then 1-nearest-neighbour under Euclidean distance on the raw features, nothing tuned.

    Args:
        features: float [N, D]; labels: int [N] identity codes.
        test_size: fraction of rows in the test part (0.3 in the paper).
        seed: seed of the split.
        class_codes: the codes scored (default: every code in ``labels``).
    """
    from sklearn.neighbors import KNeighborsClassifier

    features = _features(features, "features")
    labels = _labels(labels, len(features), "labels")
    gallery, test = _held_out_split(len(features), test_size, seed, labels)
    model = KNeighborsClassifier(n_neighbors=1, metric="euclidean", algorithm="brute")
    predictions = model.fit(features[gallery], labels[gallery]).predict(features[test]).astype(np.int64)
    return ClassificationProbeResult(
        protocol="nn1",
        metrics=classification_metrics(labels[test], predictions, _class_list(class_codes, labels)),
        hyperparameters={"k": 1},
        selection=f"fixed by the protocol (stratified {1 - test_size:.0%}/{test_size:.0%}, seed {seed})",
        selected_by="",
        selection_scores={},
        predictions=predictions,
        test_index=test,
    )


def _targets(y: np.ndarray, n: int, k: int, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n, k) or not np.issubdtype(y.dtype, np.floating):
        raise ValueError(
            f"{name} must be float [{n}, {k}] (one column per target name), got {y.dtype} {y.shape}"
        )
    return y.astype(np.float64)


def linear_regression_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    names: Sequence[str] = ("valence", "arousal"),
    select: tuple[np.ndarray, np.ndarray] | None = None,
    alphas: Sequence[float] = CANDIDATE_ALPHA,
    held_out: float = 0.2,
    seed: int = 0,
    select_by: str = "rmse",
    missing: float = -2.0,
) -> dict[str, RegressionProbeResult]:
    """Ridge regression on standardised features, one model per target column, ``alpha`` chosen per column.

    Args:
        train_x, test_x: float [N, D] / [M, D] features.
        train_y, test_y: float [N, K] / [M, K] targets, one column per entry of ``names``. A value equal to
            ``missing`` (AffectNet's −2) or NaN marks a missing target: that row is left out of fitting,
            selection and scoring for that column only.
        select: explicit selection features [S, D] and targets [S, K]; default: a random (seeded)
            held-out part of the training rows that have the target.
        alphas: candidate ridge penalties.
        select_by: ``"rmse"`` (lower is better) or ``"ccc"`` (higher is better) on the selection data.

    Returns:
        target name → result, in the order of ``names``.
    """
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if select_by not in REGRESSION_SCORES:
        raise ValueError(f"select_by must be one of {REGRESSION_SCORES}, got {select_by!r}")
    if not alphas or min(alphas) <= 0:
        raise ValueError(f"alphas must be positive values, got {list(alphas)}")
    names = tuple(names)
    train_x = _features(train_x, "train features")
    test_x = _features(test_x, "test features")
    if test_x.shape[1] != train_x.shape[1]:
        raise ValueError(f"test features have {test_x.shape[1]} columns, train has {train_x.shape[1]}")
    train_y = _targets(train_y, len(train_x), len(names), "train targets")
    test_y = _targets(test_y, len(test_x), len(names), "test targets")
    score = rmse if select_by == "rmse" else ccc

    def present(y: np.ndarray) -> np.ndarray:
        return np.isfinite(y) & (y != missing)

    def column(c: int) -> Callable[[np.ndarray, int, str], np.ndarray]:
        return lambda y, n, name: _targets(y, n, len(names), name)[:, c]

    results: dict[str, RegressionProbeResult] = {}
    for c, name in enumerate(names):
        keep = present(train_y[:, c])
        if keep.sum() < 2:
            raise ValueError(f"{name}: only {keep.sum()} training row(s) have a target")
        scored = present(test_y[:, c])
        if not scored.any():
            raise ValueError(f"{name}: no test row has a target")
        x_c, y_c = train_x[keep], train_y[keep, c]
        sel = _selection_data(x_c, y_c, select, held_out, seed, False, column(c))
        sel_ok, fit_ok = present(sel.val_y), present(sel.fit_y)
        if not sel_ok.any():
            raise ValueError(f"{name}: no selection row has a target")
        scores = {
            float(a): score(
                sel.val_y[sel_ok],
                make_pipeline(StandardScaler(), Ridge(alpha=a))
                .fit(sel.fit_x[fit_ok], sel.fit_y[fit_ok])
                .predict(sel.val_x[sel_ok]),
            )
            for a in alphas
        }
        best = _pick(scores, higher_is_better=select_by == "ccc")
        model = make_pipeline(StandardScaler(), Ridge(alpha=best)).fit(x_c, y_c)
        predictions = model.predict(test_x).astype(np.float32)
        results[name] = RegressionProbeResult(
            protocol="linear",
            target=name,
            metrics=regression_metrics(test_y[scored, c], predictions[scored]),
            hyperparameters={"alpha": best},
            selection=sel.description,
            selected_by=select_by,
            selection_scores=scores,
            predictions=predictions,
            scored=scored,
            excluded_train=int((~keep).sum()),
            held_out=None if sel.held_out is None else np.flatnonzero(keep)[sel.held_out],
            head=LinearMap(
                *_scaler_arrays(model[0], 1),
                model[-1].coef_.reshape(1, -1).astype(np.float64),
                np.array([float(model[-1].intercept_)]),
                (name,),
            ),
        )
    return results
