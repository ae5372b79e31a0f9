import math

import numpy as np
import pytest

from fercl_cli.evaluate.metrics import RegressionMetrics, classification_metrics
from fercl_cli.evaluate.results import classification_summary, mean_std_dict, regression_summary


def test_mean_std_dict_is_json_safe():
    assert mean_std_dict([0.5]) == {"mean": 0.5, "std": None, "n": 1}
    out = mean_std_dict([0.2, 0.4])
    assert (
        out["mean"] == pytest.approx(0.3) and out["std"] == pytest.approx(math.sqrt(0.02)) and out["n"] == 2
    )
    assert mean_std_dict([0.2, math.nan]) == {"mean": None, "std": None, "n": 2}


def test_classification_summary_averages_per_class_and_sums_confusions():
    a = classification_metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), [0, 1])
    b = classification_metrics(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), [0, 1])
    summary = classification_summary([a, b], ["cat", "dog"])
    assert summary["metrics"]["accuracy"]["mean"] == pytest.approx((0.75 + 1.0) / 2)
    assert summary["confusion"] == {
        "labels": [0, 1],
        "names": ["cat", "dog"],
        "matrix": [[3, 1], [0, 4]],
        "runs_summed": 2,
    }
    cat = summary["per_class"][0]
    assert cat["name"] == "cat" and cat["support"] == 2
    assert cat["recall"]["mean"] == pytest.approx(0.75)


def test_regression_summary_per_target():
    runs = [
        {"valence": RegressionMetrics(0.5, 0.4, 10), "arousal": RegressionMetrics(0.3, 0.2, 9)},
        {"valence": RegressionMetrics(0.7, 0.2, 10), "arousal": RegressionMetrics(0.3, 0.4, 9)},
    ]
    summary = regression_summary(runs)
    assert summary["metrics"]["valence_ccc"]["mean"] == pytest.approx(0.6)
    assert summary["metrics"]["arousal_rmse"]["std"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert summary["scored_rows"] == {"valence": 10, "arousal": 9}
