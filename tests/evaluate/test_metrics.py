import math

import numpy as np
import pytest

from fercl_cli.evaluate.metrics import (
    accuracy,
    ccc,
    classification_metrics,
    macro_f1,
    mean_std,
    regression_metrics,
    rmse,
)

# Six samples, three classes. Per class (true / predicted / correct):
#   class 0: true 2, predicted 2 (rows 0, 2), correct 1 (row 0) -> P 1/2, R 1/2, F1 1/2
#   class 1: true 2, predicted 1 (row 3),     correct 1 (row 3) -> P 1,   R 1/2, F1 2/3
#   class 2: true 2, predicted 3 (rows 1,4,5), correct 2       -> P 2/3, R 1,   F1 4/5
Y_TRUE = np.array([0, 0, 1, 1, 2, 2])
Y_PRED = np.array([0, 2, 0, 1, 2, 2])


def test_accuracy_and_macro_f1_by_hand():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(4 / 6)
    assert macro_f1(Y_TRUE, Y_PRED, [0, 1, 2]) == pytest.approx((1 / 2 + 2 / 3 + 4 / 5) / 3)


def test_macro_f1_counts_an_absent_class_as_zero():
    assert macro_f1(Y_TRUE, Y_PRED, [0, 1, 2, 3]) == pytest.approx((1 / 2 + 2 / 3 + 4 / 5) / 4)


def test_classification_metrics_by_hand():
    m = classification_metrics(Y_TRUE, Y_PRED, [0, 1, 2])
    assert m.accuracy == pytest.approx(4 / 6)
    assert m.macro_f1 == pytest.approx((1 / 2 + 2 / 3 + 4 / 5) / 3)
    np.testing.assert_allclose(m.precision, [1 / 2, 1, 2 / 3])
    np.testing.assert_allclose(m.recall, [1 / 2, 1 / 2, 1])
    np.testing.assert_allclose(m.f1, [1 / 2, 2 / 3, 4 / 5])
    np.testing.assert_array_equal(m.support, [2, 2, 2])
    np.testing.assert_array_equal(m.confusion, [[1, 0, 1], [1, 1, 0], [0, 0, 2]])
    np.testing.assert_array_equal(m.labels, [0, 1, 2])


def test_classification_metrics_follow_the_label_order():
    m = classification_metrics(Y_TRUE, Y_PRED, [2, 0, 1])
    np.testing.assert_allclose(m.f1, [4 / 5, 1 / 2, 2 / 3])
    np.testing.assert_array_equal(m.confusion, [[2, 0, 0], [1, 1, 0], [0, 1, 1]])


def test_classification_metrics_reject_codes_outside_labels():
    with pytest.raises(ValueError, match=r"\[2\]"):
        classification_metrics(Y_TRUE, Y_PRED, [0, 1])


def test_ccc_and_rmse_on_four_points_by_hand():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([2.0, 3.0, 5.0, 4.0])
    # means 2.5 / 3.5; population variances 1.25 / 1.25; covariance (2.25 + 0.25 + 0.75 + 0.75) / 4 = 1.0
    # CCC = 2 * 1.0 / (1.25 + 1.25 + (2.5 - 3.5)^2) = 2 / 3.5
    assert ccc(t, p) == pytest.approx(2 / 3.5)
    # errors 1, 1, 2, 0 -> RMSE = sqrt(6 / 4)
    assert rmse(t, p) == pytest.approx(math.sqrt(1.5))
    m = regression_metrics(t, p)
    assert (m.ccc, m.rmse, m.n) == (pytest.approx(2 / 3.5), pytest.approx(math.sqrt(1.5)), 4)


def test_ccc_penalises_bias_and_scale_that_pearson_ignores():
    t = np.array([-0.5, 0.0, 0.5, 1.0])
    assert ccc(t, t) == pytest.approx(1.0)
    # shift by 0.5: var 0.3125 each, cov 0.3125 -> 0.625 / (0.625 + 0.25)
    assert ccc(t, t + 0.5) == pytest.approx(0.625 / 0.875)
    # halve: var(p) = 0.078125, cov = 0.15625, mean difference 0.125
    assert ccc(t, t / 2) == pytest.approx(0.3125 / (0.3125 + 0.078125 + 0.125**2))
    assert ccc(t, -t) < 0


def test_ccc_of_a_constant_prediction_is_zero_and_of_two_equal_constants_undefined():
    assert ccc(np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0])) == 0.0
    assert math.isnan(ccc(np.array([1.0, 1.0]), np.array([1.0, 1.0])))


def test_regression_metrics_reject_missing_values_and_bad_shapes():
    with pytest.raises(ValueError, match="finite"):
        ccc(np.array([0.0, np.nan]), np.array([0.0, 0.0]))
    with pytest.raises(ValueError, match="finite"):
        rmse(np.array([0.0, 1.0]), np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="equal length"):
        rmse(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="empty"):
        accuracy(np.zeros(0), np.zeros(0))


def test_mean_std_uses_the_sample_standard_deviation():
    s = mean_std([0.57, 0.58, 0.59])
    assert s.mean == pytest.approx(0.58)
    assert s.std == pytest.approx(0.01)
    assert s.n == 3
    assert s.format(scale=100) == "58.0 ± 1.0"
    single = mean_std([0.5])
    assert math.isnan(single.std)
    assert single.format(scale=100, digits=2) == "50.00"
    with pytest.raises(ValueError):
        mean_std([])
