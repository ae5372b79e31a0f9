import numpy as np
import pytest

from fercl_cli.evaluate.intervals import (
    SeedRun,
    accuracy_score,
    ccc_score,
    macro_f1_score,
    paired_difference,
    score_interval,
)
from fercl_cli.evaluate.metrics import ccc, macro_f1


def _runs(rng, seeds=3, rows=60, classes=4, skill=0.6):
    targets = rng.integers(0, classes, rows)
    out = []
    for _ in range(seeds):
        guess = rng.integers(0, classes, rows)
        predictions = np.where(rng.random(rows) < skill, targets, guess)
        out.append(SeedRun(np.arange(rows), targets, predictions))
    return out


def _slow_paired(first, second, metric, replicates, seed, level=0.95):
    """Reference: the same draws as the library (one generator, seed by seed), in plain loops."""
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(r.rows), size=(replicates, len(r.rows))) for r in first]
    values = []
    for b in range(replicates):
        per_seed = []
        for s, (a, c) in enumerate(zip(first, second, strict=True)):
            i = draws[s][b]
            right = metric(c.targets[i], c.predictions[i]) if c is not None else 0.0
            per_seed.append(metric(a.targets[i], a.predictions[i]) - right)
        values.append(np.mean(per_seed))
    return np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])


def test_scores_equal_the_metrics_module_on_every_resample():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 5, 40), rng.integers(0, 5, 40)
    index = rng.integers(0, 40, size=(7, 40))
    f1 = macro_f1_score(5)(y, p, index)
    for b in range(7):
        assert f1[b] == pytest.approx(macro_f1(y[index[b]], p[index[b]], range(5)))
        assert accuracy_score(y, p, index)[b] == pytest.approx(np.mean(y[index[b]] == p[index[b]]))
    yv, pv = rng.normal(size=40), rng.normal(size=40)
    values = ccc_score(yv, pv, index)
    for b in range(7):
        assert values[b] == pytest.approx(ccc(yv[index[b]], pv[index[b]]), rel=1e-9)


def test_paired_difference_matches_the_slow_reference_and_contains_the_estimate():
    rng = np.random.default_rng(1)
    good, bad = _runs(rng, skill=0.8), _runs(rng, skill=0.3)
    bad = [SeedRun(g.rows, g.targets, b.predictions) for g, b in zip(good, bad, strict=True)]
    score = macro_f1_score(4)
    interval = paired_difference(good, bad, score, replicates=300, seed=5)
    low, high = _slow_paired(good, bad, lambda y, p: macro_f1(y, p, range(4)), 300, 5)
    assert interval.low == pytest.approx(low) and interval.high == pytest.approx(high)
    assert interval.low < interval.estimate < interval.high and interval.excludes_zero()
    assert interval.seeds == 3 and interval.rows == 60 and interval.seed_std > 0


def test_single_score_interval_matches_the_reference_and_narrows_with_more_rows():
    rng = np.random.default_rng(2)
    runs = _runs(rng, rows=50)
    interval = score_interval(runs, accuracy_score, replicates=400, seed=3)
    low, high = _slow_paired(runs, [None] * len(runs), lambda y, p: np.mean(y == p), 400, 3)
    assert interval.low == pytest.approx(low) and interval.high == pytest.approx(high)
    assert interval.estimate == pytest.approx(np.mean([np.mean(r.targets == r.predictions) for r in runs]))
    wide = score_interval(_runs(rng, rows=50), accuracy_score, replicates=400)
    narrow = score_interval(_runs(rng, rows=2000), accuracy_score, replicates=400)
    assert narrow.high - narrow.low < 0.4 * (wide.high - wide.low)


def test_no_difference_gives_an_interval_around_zero_and_mismatched_rows_are_refused():
    rng = np.random.default_rng(4)
    runs = _runs(rng, rows=300, skill=0.5)
    same_skill = [
        SeedRun(r.rows, r.targets, np.where(rng.random(300) < 0.5, r.targets, rng.integers(0, 4, 300)))
        for r in runs
    ]
    interval = paired_difference(runs, same_skill, accuracy_score, replicates=500)
    assert interval.low < 0 < interval.high and not interval.excludes_zero()
    shifted = [SeedRun(r.rows + 1, r.targets, r.predictions) for r in runs]
    with pytest.raises(ValueError, match="same test rows"):
        paired_difference(runs, shifted, accuracy_score)
    with pytest.raises(ValueError, match="same non-zero number of seeds"):
        paired_difference(runs, runs[:2], accuracy_score)
    with pytest.raises(ValueError, match="1-D of one non-zero length"):
        SeedRun(np.arange(3), np.zeros(2), np.zeros(3))
