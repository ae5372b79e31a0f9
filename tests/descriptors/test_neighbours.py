import numpy as np
import pytest

from fercl_cli.descriptors.neighbours import neighbour_rates


def _corpus(expression_weight, identity_weight, seed=0):
    """6 identities × 4 expressions × 5 frames; descriptors mix an expression and an identity direction."""
    rng = np.random.default_rng(seed)
    expr_dirs, id_dirs = rng.normal(size=(4, 32)), rng.normal(size=(6, 32))
    ident, expr = np.meshgrid(np.arange(6), np.arange(4), indexing="ij")
    ident, expr = np.repeat(ident.ravel(), 5), np.repeat(expr.ravel(), 5)
    values = (
        expression_weight * expr_dirs[expr]
        + identity_weight * id_dirs[ident]
        + 0.3 * rng.normal(size=(120, 32))
    )
    return values, expr, ident


def test_expression_descriptor_neighbours_share_expression():
    values, expr, ident = _corpus(expression_weight=1.0, identity_weight=0.2)
    rates = neighbour_rates(values, np.ones(120, bool), expr, ident, exclude=ident)
    assert rates.frames == 120
    assert rates.expression > 0.9 and rates.identity == 0.0  # other identities only (exclude=ident)
    assert rates.chance_expression == pytest.approx(25 / 100)


def test_identity_descriptor_neighbours_share_identity():
    values, expr, ident = _corpus(expression_weight=0.0, identity_weight=1.0)
    rates = neighbour_rates(values, np.ones(120, bool), expr, ident)
    assert rates.identity > 0.9 and rates.expression < 0.5
    assert rates.chance_identity == pytest.approx(19 / 119) and rates.chance_expression == pytest.approx(
        29 / 119
    )
    assert set(rates.to_dict()) == {
        "expression",
        "identity",
        "chance_expression",
        "chance_identity",
        "frames",
    }


def test_invalid_frames_never_match_and_ties_go_to_the_lowest_row():
    values = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    valid = np.array([True, False, True, True, True])
    rates = neighbour_rates(values, valid, np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 3, 4]), block=2)
    # rows 0, 2, 3 are identical: 0 → 2, 2 → 0, 3 → 0 (lowest); row 4's nearest is row 0 (cos 0).
    assert rates.frames == 4
    assert rates.expression == pytest.approx(2 / 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="expression must have shape"):
        neighbour_rates(np.ones((3, 2)), np.ones(3, bool), np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="no valid frame"):
        neighbour_rates(np.ones((2, 2)), np.array([True, False]), np.zeros(2), np.zeros(2))
