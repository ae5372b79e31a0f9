import json
import math

import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.metrics import RegressionMetrics, classification_metrics
from fercl_cli.evaluate.results import (
    METRICS,
    RESULTS_FORMAT,
    Measure,
    Results,
    classification_summary,
    format_cell,
    mean_std_dict,
    regression_summary,
)


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


def test_every_metric_a_summary_writes_is_in_the_registry():
    a = classification_metrics(np.array([0, 1]), np.array([0, 1]), [0, 1])
    written = set(classification_summary([a], ["x", "y"])["metrics"])
    written |= set(
        regression_summary(
            [{"valence": RegressionMetrics(0.5, 0.4, 3)}, {"valence": RegressionMetrics(0.5, 0.4, 3)}]
        )["metrics"]
    )
    written |= {"arousal_ccc", "arousal_rmse"}
    assert written == set(METRICS)


def test_measures_read_their_labels_direction_and_format_from_one_registry():
    f1, identity, valence = (
        Measure("affectnet", "macro_f1"),
        Measure("lfw", "accuracy"),
        Measure.of("affectnet-va/valence_ccc"),
    )
    assert (f1.key, f1.label, f1.short, f1.brief) == (
        "affectnet/macro_f1",
        "AffectNet expression macro-F1 %",
        "AffectNet F1",
        "AN F1",
    )
    assert (identity.label, identity.short, identity.brief) == (
        "LFW identity accuracy %",
        "LFW identity acc",
        "LFW id",
    )
    assert (valence.label, valence.brief, valence.percent) == ("AffectNet valence CCC", "V-CCC", False)
    assert (f1.direction, identity.direction, Measure("affectnet-va", "valence_rmse").direction) == (
        "higher",
        "lower",
        "lower",
    )
    assert identity.is_better(0.2, than=0.4) and not f1.is_better(0.2, than=0.4)
    assert (f1.arrow, identity.arrow) == ("↑", "↓")
    assert f1.points(0.0123) == "+1.2 points" and valence.points(-0.0123) == "-0.012"
    cell = {"mean": 0.5831, "std": 0.0042, "n": 3}
    assert f1.format(cell) == "58.3 ± 0.4" and f1.format(cell, compact=True) == "58.3±0.4"
    assert f1.format(cell, {"low": 0.571, "high": 0.596}) == "58.3 ± 0.4 [57.1, 59.6]"
    assert valence.format({"mean": 0.5941, "std": 0.0101, "n": 2}) == "0.594 ± 0.010"
    assert valence.format({"mean": 0.5941, "std": 0.0101, "n": 2}, compact=True) == "0.59±0.01"
    assert valence.format(0.25) == "0.250" and f1.format(None) == "—" and f1.format({"mean": None}) == "—"
    assert format_cell({"mean": 0.5, "std": 0.1, "n": 1}, True) == "50.0"  # one run: no spread shown
    with pytest.raises(ValueError, match="unknown measure 'lfw/f2'"):
        Measure("lfw", "f2")


def _results(**overrides) -> dict:
    raw = {
        "format": RESULTS_FORMAT,
        "task": "fer2013",
        "protocol": "linear",
        "kind": "classification",
        "checkpoint": {"hash": "random-bn512:resnet18:0"},
        "request": {"classes": 8},
        "data": {"options": {"split": "private"}, "class_names": ["a", "b", "c"]},
        "summary": {
            "metrics": {"accuracy": {"mean": 0.5, "std": None, "n": 1}},
            "per_class": [{"support": 2}, {"support": 6}, {"support": 0}],
        },
        "runs": [{"test": {"rows": [0, 1], "targets": [1, 1], "predictions": [1, 0]}}],
    }
    return {**raw, **overrides}


def test_results_read_a_file_through_named_accessors(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_results()))
    results = Results.load(path)
    assert (results.task, results.protocol, results.kind, results.n_classes) == (
        "fer2013",
        "linear",
        "classification",
        3,
    )
    assert results.task_key() == "fer2013-private" and results.mean("accuracy") == 0.5
    assert results.scored_rows("accuracy") == 8 and results.chance("accuracy") == pytest.approx(0.75)
    assert results.chance("macro_f1") is None and results.has_test_rows
    (run,) = results.seed_runs()
    assert run.rows.tolist() == [0, 1] and run.predictions.dtype == np.int64
    assert not Results(_results(runs=[{}])).has_test_rows
    assert (
        Results(
            _results(task="affectnet", request={"classes": 7}, data={"options": {"release": "npy"}})
        ).task_key()
        == "affectnet-7-npy"
    )


def test_a_file_that_is_not_results_is_named_in_one_line(tmp_path):
    with pytest.raises(FerclError, match="r.json: results file not found"):
        Results.load(tmp_path / "r.json")
    (tmp_path / "r.json").write_text("{oops")
    with pytest.raises(FerclError, match="r.json: not a readable JSON results file"):
        Results.load(tmp_path / "r.json")
    (tmp_path / "r.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(FerclError, match="not a fercl evaluate results file"):
        Results.load(tmp_path / "r.json")
