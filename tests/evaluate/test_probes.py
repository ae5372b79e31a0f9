import numpy as np
import pytest

from fercl_cli.evaluate import probes
from fercl_cli.evaluate.probes import knn_probe, linear_probe, linear_regression_probe, nn1_probe


def blobs(
    n_per_class: int, n_classes: int, dim: int, spread: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around random unit-ish centres; small ``spread`` → separable."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(1234).normal(size=(n_classes, dim))
    labels = np.repeat(np.arange(n_classes), n_per_class)
    features = centres[labels] + spread * rng.normal(size=(len(labels), dim))
    order = rng.permutation(len(labels))
    return features[order].astype(np.float32), labels[order]


@pytest.fixture(scope="module")
def separable():
    train = blobs(40, 3, 16, 0.3, seed=0)
    test = blobs(30, 3, 16, 0.3, seed=1)
    return train, test


@pytest.fixture(scope="module")
def random_labels():
    rng = np.random.default_rng(5)
    train_x = rng.normal(size=(300, 16)).astype(np.float32)
    test_x = rng.normal(size=(600, 16)).astype(np.float32)
    return (train_x, rng.integers(0, 3, 300)), (test_x, rng.integers(0, 3, 600))


@pytest.mark.parametrize("probe", [linear_probe, knn_probe])
def test_separable_features_are_classified_almost_perfectly(probe, separable):
    (train_x, train_y), (test_x, test_y) = separable
    result = probe(train_x, train_y, test_x, test_y)
    assert result.metrics.accuracy > 0.95
    assert result.metrics.macro_f1 > 0.95
    assert result.predictions.shape == (90,) and result.predictions.dtype == np.int64
    assert result.protocol == probe.__name__.removesuffix("_probe")


@pytest.mark.parametrize("probe", [linear_probe, knn_probe])
def test_random_labels_give_chance_accuracy(probe, random_labels):
    (train_x, train_y), (test_x, test_y) = random_labels
    result = probe(train_x, train_y, test_x, test_y)
    assert abs(result.metrics.accuracy - 1 / 3) < 0.08


def test_linear_probe_chooses_c_on_a_stratified_held_out_part_of_train_and_refits_on_all(separable):
    (train_x, train_y), (test_x, test_y) = separable
    result = linear_probe(train_x, train_y, test_x, test_y, cs=(0.01, 1.0), held_out=0.25, seed=3)
    held = result.held_out
    assert len(held) == 30 and held.max() < len(train_x)
    np.testing.assert_array_equal(np.bincount(train_y[held]), [10, 10, 10])
    assert set(result.selection_scores) == {0.01, 1.0}
    assert result.hyperparameters["C"] in (0.01, 1.0)
    assert "held-out 25%" in result.selection and "seed 3" in result.selection

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    refit = make_pipeline(StandardScaler(), LogisticRegression(C=result.hyperparameters["C"], max_iter=1000))
    np.testing.assert_array_equal(refit.fit(train_x, train_y).predict(test_x), result.predictions)


@pytest.mark.parametrize("probe", [linear_probe, knn_probe])
def test_selection_never_sees_the_test_rows(probe, separable, monkeypatch):
    (train_x, train_y), (test_x, test_y) = separable
    seen: list[np.ndarray] = []
    real_score = probes._classification_score

    def spying_score(select_by, classes):
        score = real_score(select_by, classes)

        def spy(y, p):
            seen.append(np.asarray(y))
            return score(y, p)

        return spy

    monkeypatch.setattr(probes, "_classification_score", spying_score)
    first = probe(train_x, train_y, test_x, test_y)
    assert seen and all(np.array_equal(y, train_y[first.held_out]) for y in seen)
    # Other test rows and labels change nothing in the selection.
    rng = np.random.default_rng(0)
    second = probe(train_x, train_y, rng.normal(size=(7, 16)).astype(np.float32), rng.integers(0, 3, 7))
    assert first.selection_scores == second.selection_scores
    assert first.hyperparameters == second.hyperparameters


def test_an_explicit_selection_split_replaces_the_held_out_part(separable):
    (train_x, train_y), (test_x, test_y) = separable
    select = blobs(10, 3, 16, 0.3, seed=9)
    result = knn_probe(train_x, train_y, test_x, test_y, select=select, ks=(1, 5))
    assert result.held_out is None
    assert result.selection == "selection split (n=30)"
    flipped = linear_probe(train_x, train_y, test_x, test_y, select=(select[0], (select[1] + 1) % 3))
    assert max(flipped.selection_scores.values()) < 0.1


def test_knn_chooses_k_by_the_selection_score_and_skips_impossible_k():
    # Class 1 is a tight pair inside a ring of class 0: only k = 1 classifies the selection rows right.
    train_x = np.array([[1, 0.02], [1, -0.02], [0, 1], [0, -1], [-1, 0.1], [-1, -0.1]], dtype=np.float32)
    train_y = np.array([1, 1, 0, 0, 0, 0])
    select = (np.array([[1, 0.0]], dtype=np.float32), np.array([1]))
    result = knn_probe(train_x, train_y, train_x, train_y, select=select, ks=(1, 5, 50), select_by="accuracy")
    assert result.selection_scores == {1: 1.0, 5: 0.0}
    assert result.hyperparameters == {"k": 1}


def test_probes_reject_bad_inputs(separable):
    (train_x, train_y), (test_x, test_y) = separable
    with pytest.raises(ValueError, match="columns"):
        linear_probe(train_x, train_y, test_x[:, :4], test_y)
    with pytest.raises(ValueError, match="NaN"):
        knn_probe(np.full_like(train_x, np.nan), train_y, test_x, test_y)
    with pytest.raises(ValueError, match="at least 2 per class"):
        linear_probe(train_x, np.r_[train_y[:-1], 7], test_x, test_y)
    with pytest.raises(ValueError, match="select_by"):
        knn_probe(train_x, train_y, test_x, test_y, select_by="auc")
    with pytest.raises(ValueError, match="int"):
        linear_probe(train_x, train_y.astype(float), test_x, test_y)


def test_nn1_uses_a_fixed_stratified_70_30_split():
    features, labels = blobs(50, 2, 8, 0.3, seed=2)
    result = nn1_probe(features, labels, seed=7)
    assert len(result.test_index) == 30
    np.testing.assert_array_equal(np.bincount(labels[result.test_index]), [15, 15])
    assert result.metrics.accuracy == 1.0
    assert result.hyperparameters == {"k": 1} and result.selection_scores == {}
    again = nn1_probe(features, labels, seed=7)
    np.testing.assert_array_equal(again.test_index, result.test_index)
    assert not np.array_equal(nn1_probe(features, labels, seed=8).test_index, result.test_index)


def test_nn1_predicts_the_label_of_the_euclidean_nearest_gallery_row():
    features, labels = blobs(20, 2, 4, 1.0, seed=4)
    result = nn1_probe(features, labels)
    gallery = np.setdiff1d(np.arange(len(labels)), result.test_index)
    distances = np.linalg.norm(features[result.test_index, None] - features[None, gallery], axis=2)
    np.testing.assert_array_equal(result.predictions, labels[gallery[distances.argmin(axis=1)]])


def test_nn1_on_identity_free_features_is_at_chance():
    rng = np.random.default_rng(3)
    result = nn1_probe(rng.normal(size=(1000, 8)).astype(np.float32), rng.integers(0, 2, 1000))
    assert abs(result.metrics.accuracy - 0.5) < 0.07


def regression_data(n: int, seed: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = np.random.default_rng(99).normal(size=(12, 2)) / 8
    x = rng.normal(size=(n, 12))
    y = np.clip(x @ weights + noise * rng.normal(size=(n, 2)), -1, 1)
    return x.astype(np.float32), y.astype(np.float32)


def test_ridge_fits_informative_features_and_excludes_missing_targets_per_dimension():
    train_x, train_y = regression_data(300, 0, 0.02)
    test_x, test_y = regression_data(100, 1, 0.02)
    train_y[:40, 0] = -2.0  # valence missing in 40 training rows
    train_y[40:50, 1] = np.nan  # arousal missing in 10 others
    test_y[:5, 1] = -2.0
    results = linear_regression_probe(train_x, train_y, test_x, test_y)
    assert list(results) == ["valence", "arousal"]
    valence, arousal = results["valence"], results["arousal"]
    assert valence.excluded_train == 40 and arousal.excluded_train == 10
    assert valence.metrics.ccc > 0.95 and valence.metrics.rmse < 0.05
    assert arousal.metrics.n == 95 and arousal.scored[:5].sum() == 0
    assert arousal.predictions.shape == (100,)
    assert not np.isin(valence.held_out, np.arange(40)).any()
    assert len(valence.held_out) == 52 and len(arousal.held_out) == 58
    assert valence.hyperparameters["alpha"] in probes.CANDIDATE_ALPHA


def test_ridge_on_noise_features_has_ccc_near_zero():
    rng = np.random.default_rng(4)
    train_x, test_x = (
        rng.normal(size=(400, 12)).astype(np.float32),
        rng.normal(size=(400, 12)).astype(np.float32),
    )
    train_y = rng.uniform(-1, 1, size=(400, 2)).astype(np.float32)
    test_y = rng.uniform(-1, 1, size=(400, 2)).astype(np.float32)
    results = linear_regression_probe(train_x, train_y, test_x, test_y, select_by="ccc")
    for result in results.values():
        assert abs(result.metrics.ccc) < 0.15
        assert result.selected_by == "ccc"


def test_ridge_selection_ignores_the_test_targets():
    train_x, train_y = regression_data(200, 0, 0.1)
    test_x, test_y = regression_data(50, 1, 0.1)
    first = linear_regression_probe(train_x, train_y, test_x, test_y)
    second = linear_regression_probe(train_x, train_y, test_x[:10] * 3, -test_y[:10])
    for name in first:
        assert first[name].selection_scores == second[name].selection_scores


def test_ridge_rejects_targets_without_rows():
    train_x, train_y = regression_data(50, 0, 0.1)
    test_x, test_y = regression_data(10, 1, 0.1)
    test_y[:, 1] = -2.0
    with pytest.raises(ValueError, match="arousal: no test row"):
        linear_regression_probe(train_x, train_y, test_x, test_y)
    with pytest.raises(ValueError, match=r"float \[50, 3\]"):
        linear_regression_probe(train_x, train_y, test_x, test_y, names=("a", "b", "c"))


def test_linear_heads_reproduce_the_fitted_models():
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(60, 5)), np.repeat([0, 1, 2], 20)
    x[:, 0] += y
    for classes in (3, 2):
        keep = y < classes
        result = linear_probe(x[keep], y[keep], x[keep][:6], y[keep][:6])
        model = make_pipeline(
            StandardScaler(), LogisticRegression(C=result.hyperparameters["C"], max_iter=1000)
        )
        expected = model.fit(x[keep], y[keep]).predict_proba(x[:6])
        logits = result.head.scores(x[:6])
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        np.testing.assert_allclose(probs / probs.sum(axis=1, keepdims=True), expected, atol=1e-8)
        assert result.head.outputs == tuple(range(classes))
    targets = np.stack([x[:, 0] + 0.1 * rng.normal(size=60), x[:, 1]], axis=1)
    by_target = linear_regression_probe(x, targets, x[:6], targets[:6])
    for c, (name, r) in enumerate(by_target.items()):
        ridge = make_pipeline(StandardScaler(), Ridge(alpha=r.hyperparameters["alpha"])).fit(x, targets[:, c])
        np.testing.assert_allclose(r.head.scores(x[:6])[:, 0], ridge.predict(x[:6]), atol=1e-10)
        assert r.head.outputs == (name,)
