"""JSON-ready results: metrics per run, and their mean ± standard deviation over seeds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fercl_cli.evaluate.metrics import ClassificationMetrics, RegressionMetrics, mean_std

RESULTS_FORMAT = "fercl-evaluate-results"
RESULTS_VERSION = 1


def _number(value: float) -> float | None:
    """A JSON-safe float: None for NaN or infinity."""
    return float(value) if math.isfinite(value) else None


def mean_std_dict(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "std", "n"}`` of ``values``; ``std`` is None with one run, ``mean`` None if any is NaN."""
    values = [float(v) for v in values]
    if any(not math.isfinite(v) for v in values):
        return {"mean": None, "std": None, "n": len(values)}
    summary = mean_std(values)
    return {"mean": summary.mean, "std": _number(summary.std), "n": summary.n}


def classification_dict(metrics: ClassificationMetrics) -> dict[str, Any]:
    """One run's classification scores (fractions in [0, 1]) with per-class arrays and the confusion matrix."""
    return {
        "accuracy": metrics.accuracy,
        "macro_f1": metrics.macro_f1,
        "labels": metrics.labels.tolist(),
        "precision": metrics.precision.tolist(),
        "recall": metrics.recall.tolist(),
        "f1": metrics.f1.tolist(),
        "support": metrics.support.tolist(),
        "confusion": metrics.confusion.tolist(),
    }


def regression_dict(metrics: RegressionMetrics) -> dict[str, Any]:
    """One target's CCC, RMSE and number of scored rows."""
    return {"ccc": _number(metrics.ccc), "rmse": _number(metrics.rmse), "n": metrics.n}


def classification_summary(
    runs: Sequence[ClassificationMetrics], class_names: Sequence[str]
) -> dict[str, Any]:
    """Mean ± std over runs of accuracy and macro-F1, per-class means, and the confusion matrix summed over
    runs (rows = true class, columns = predicted, in ``labels`` order)."""
    labels = runs[0].labels
    if any(not np.array_equal(run.labels, labels) for run in runs):
        raise ValueError("runs scored different class lists")
    per_class = [
        {
            "code": int(code),
            "name": class_names[int(code)],
            "precision": mean_std_dict([run.precision[i] for run in runs]),
            "recall": mean_std_dict([run.recall[i] for run in runs]),
            "f1": mean_std_dict([run.f1[i] for run in runs]),
            "support": int(np.round(np.mean([run.support[i] for run in runs]))),
        }
        for i, code in enumerate(labels)
    ]
    return {
        "metrics": {
            "accuracy": mean_std_dict([run.accuracy for run in runs]),
            "macro_f1": mean_std_dict([run.macro_f1 for run in runs]),
        },
        "per_class": per_class,
        "confusion": {
            "labels": labels.tolist(),
            "names": [class_names[int(code)] for code in labels],
            "matrix": np.sum([run.confusion for run in runs], axis=0).tolist(),
            "runs_summed": len(runs),
        },
    }


def regression_summary(runs: Sequence[Mapping[str, RegressionMetrics]]) -> dict[str, Any]:
    """Per target: mean ± std over runs of CCC and RMSE, and the rows scored."""
    names = list(runs[0])
    return {
        "metrics": {
            f"{name}_{metric}": mean_std_dict([getattr(run[name], metric) for run in runs])
            for name in names
            for metric in ("ccc", "rmse")
        },
        "scored_rows": {name: runs[0][name].n for name in names},
    }


def seed_runs(result: Mapping[str, Any], target: str | None = None) -> list[Any]:
    """The test rows of every run of a results dictionary as :class:`~fercl_cli.evaluate.intervals.SeedRun`
    (``target``: ``valence`` or ``arousal`` for a regression result, else None).

    Raises:
        ValueError: a results file written before fercl stored test rows, or a wrong ``target``.
    """
    from fercl_cli.evaluate.intervals import SeedRun

    runs = []
    for run in result["runs"]:
        test = run.get("test")
        if test is None:
            raise ValueError("these results hold no test rows (written by an older fercl); evaluate again")
        if target is not None:
            if target not in test:
                raise ValueError(
                    f"no regression target {target!r} in these results; choose one of {list(test)}"
                )
            test = test[target]
        kind = np.float64 if target is not None else np.int64
        runs.append(
            SeedRun(
                np.asarray(test["rows"], dtype=np.int64),
                np.asarray(test["targets"], dtype=kind),
                np.asarray(test["predictions"], dtype=kind),
            )
        )
    return runs
